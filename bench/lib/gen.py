#!/usr/bin/env python3
"""Deterministic workload generator for bench/run (no PostgreSQL needed).

Writes COPY text-format rows on stdout:

  turns  STORIES TURNS SEED   -> story, turn, messages (jsonb array added that turn), memory (jsonb,
                                 nested: see new_memory); turn 0 holds the initial memory
  small  STORIES SAVES SEED   -> story, n, state (jsonb, ~1-2 KB, every value different each save)

Text is made of sentences over a synthetic vocabulary of a few thousand words with Zipf
frequencies, code-like tool outputs (source lines, test logs, diffs) and numbers, so that
compression ratios resemble real agent transcripts rather than repeated characters.
The same seed gives the same bytes on every machine (random.Random is stable across
Python 3 versions for the calls used here).
"""
import json
import random
import sys

CONSONANTS = ["b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w",
              "st", "tr", "ch", "sh", "th", "pl", "gr", "br", "cl", "fr"]
VOWELS = ["a", "e", "i", "o", "u", "ai", "ea", "ou", "io", "y"]
CODAS = ["", "", "", "n", "r", "s", "t", "l", "m", "nd", "ck", "ng", "st", "x"]


class Text:
    def __init__(self, rng, vocabulary=4000):
        self.rng = rng
        words = set()
        while len(words) < vocabulary:
            n = rng.choice([1, 1, 2, 2, 2, 3, 3, 4])
            w = "".join(rng.choice(CONSONANTS) + rng.choice(VOWELS) for _ in range(n))
            words.add(w + rng.choice(CODAS))
        self.words = sorted(words)
        rng.shuffle(self.words)
        cum, total = [], 0.0
        for rank in range(1, len(self.words) + 1):
            total += 1.0 / rank ** 1.05
            cum.append(total)
        self.cum = cum
        self.identifiers = [self.ident() for _ in range(300)]
        self.paths = ["src/%s/%s.%s" % (self.word(), self.ident(), rng.choice(["py", "ts", "cpp", "go"]))
                      for _ in range(60)]

    def word(self):
        return self.rng.choices(self.words, cum_weights=self.cum)[0]

    def ident(self):
        parts = [self.word() for _ in range(self.rng.randint(1, 3))]
        return "_".join(parts) if self.rng.random() < 0.6 else parts[0] + "".join(p.title() for p in parts[1:])

    def sentence(self):
        rng = self.rng
        ws = [self.word() for _ in range(rng.randint(5, 22))]
        if rng.random() < 0.25:
            ws.insert(rng.randrange(len(ws)), str(rng.choice([rng.randint(0, 100), rng.randint(100, 99999),
                                                               round(rng.random() * 1000, 2)])))
        if rng.random() < 0.2:
            ws.insert(rng.randrange(len(ws)), "`%s`" % rng.choice(self.identifiers))
        s = " ".join(ws)
        return s[0].upper() + s[1:] + rng.choice([".", ".", ".", "?", "!", ":"])

    def prose(self, target):
        out, n = [], 0
        while n < target:
            s = self.sentence()
            if self.rng.random() < 0.12:
                s += "\n\n"
            out.append(s)
            n += len(s) + 1
        return " ".join(out)[:target]

    def code_line(self, indent):
        rng, ids = self.rng, self.identifiers
        kind = rng.random()
        pad = "    " * indent
        if kind < 0.3:
            return "%s%s = %s(%s, %d)" % (pad, rng.choice(ids), rng.choice(ids), rng.choice(ids), rng.randint(0, 4096))
        if kind < 0.45:
            return "%sif %s.%s > %d:" % (pad, rng.choice(ids), rng.choice(ids), rng.randint(0, 100))
        if kind < 0.6:
            return "%sreturn %s(%s)" % (pad, rng.choice(ids), ", ".join(rng.choice(ids) for _ in range(rng.randint(0, 3))))
        if kind < 0.75:
            return "%s# %s" % (pad, self.sentence())
        if kind < 0.9:
            return "%sfor %s in %s.%s():" % (pad, rng.choice(ids), rng.choice(ids), rng.choice(ids))
        return "%sraise %sError(\"%s\")" % (pad, self.word().title(), self.sentence())

    def tool_output(self, target):
        rng = self.rng
        kind = rng.random()
        lines, n = [], 0
        if kind < 0.4:  # a source file
            lines.append("$ cat %s" % rng.choice(self.paths))
            indent = 0
            while n < target:
                line = "%4d  %s" % (len(lines), self.code_line(indent))
                indent = max(0, min(4, indent + rng.choice([-1, 0, 0, 1])))
                lines.append(line)
                n += len(line) + 1
        elif kind < 0.7:  # a test run
            lines.append("$ pytest -q %s" % rng.choice(self.paths))
            while n < target:
                if rng.random() < 0.85:
                    line = "%s::test_%s PASSED [%3d%%] (%.3fs)" % (rng.choice(self.paths), rng.choice(self.identifiers),
                                                                  rng.randint(0, 100), rng.random())
                else:
                    line = "E   AssertionError: expected %d, got %d in %s at line %d" % (
                        rng.randint(0, 999), rng.randint(0, 999), rng.choice(self.identifiers), rng.randint(1, 900))
                lines.append(line)
                n += len(line) + 1
        else:  # a diff
            path = rng.choice(self.paths)
            lines += ["diff --git a/%s b/%s" % (path, path), "--- a/%s" % path, "+++ b/%s" % path]
            while n < target:
                line = "%s%s" % (rng.choice(["+", "-", " ", " "]), self.code_line(rng.randint(0, 3)))
                if rng.random() < 0.05:
                    line = "@@ -%d,%d +%d,%d @@" % (rng.randint(1, 900), rng.randint(3, 40), rng.randint(1, 900), rng.randint(3, 40))
                lines.append(line)
                n += len(line) + 1
        return "\n".join(lines)[:target]


def copy_escape(s):
    return s.replace("\\", "\\\\")


MEMORY_KEYS = 20
FACTS = 80


def memory_value(text, key_index):
    rng = text.rng
    kind = key_index % 5
    if kind == 0:
        return text.sentence()
    if kind == 1:
        return rng.randint(0, 1_000_000)
    if kind == 2:
        return [rng.choice(text.paths) for _ in range(rng.randint(1, 4))]
    if kind == 3:
        return {"value": round(rng.random() * 100, 3), "note": text.sentence()[:60]}
    return rng.random() < 0.5


def fact(text, turn):
    """One entry of memory.blackboard.facts (about 100-150 bytes of JSON)."""
    rng = text.rng
    return {"text": text.sentence()[:rng.randint(50, 100)], "confidence": round(rng.random(), 2),
            "source": rng.choice(text.paths), "turn": turn}


def new_memory(text):
    """An agent's memory: a working set of 20 keys (depth 2), a blackboard whose `facts`
    object of ~80 entries sits three levels down (state.memory.blackboard.facts), goals, and
    per-tool statistics four levels down (state.memory.tools.stats.<tool>)."""
    rng = text.rng
    keys = ["%s_%s" % (text.word(), text.word()) for _ in range(MEMORY_KEYS)]
    facts = {}
    while len(facts) < FACTS:
        facts["%s_%s_%d" % (text.word(), text.word(), rng.randint(0, 999))] = fact(text, 0)
    return keys, {
        "working": {k: memory_value(text, i) for i, k in enumerate(keys)},
        "blackboard": {"facts": facts, "goals": [text.sentence()[:90] for _ in range(4)],
                       "open_questions": [text.sentence()[:80] for _ in range(3)]},
        "tools": {"stats": {t: {"calls": 0, "errors": 0, "last_ms": 0}
                            for t in ["run_shell", "read_file", "apply_patch", "run_tests"]}},
    }


def update_memory(text, keys, memory, turn, tool):
    """What a turn changes in memory: 2-3 working keys, 2 facts (one time in five a fact is
    forgotten and a new one learned), rarely the goals, and the stats of the tool used."""
    rng = text.rng
    for i in rng.sample(range(MEMORY_KEYS), rng.randint(2, 3)):
        memory["working"][keys[i]] = memory_value(text, i)
    facts = memory["blackboard"]["facts"]
    for k in rng.sample(sorted(facts), 2):
        facts[k] = fact(text, turn)
    if rng.random() < 0.2:
        del facts[rng.choice(sorted(facts))]
        facts["%s_%s_%d" % (text.word(), text.word(), rng.randint(0, 999))] = fact(text, turn)
    if rng.random() < 0.05:
        memory["blackboard"]["goals"][rng.randrange(4)] = text.sentence()[:90]
    if tool:
        stats = memory["tools"]["stats"][tool]
        stats["calls"] += 1
        stats["errors"] += rng.random() < 0.1
        stats["last_ms"] = rng.randint(5, 30_000)


def turns(stories, count, seed):
    """Turn 0 is the initial memory with no messages; turns 1..count add messages."""
    out = sys.stdout
    for story in range(stories):
        rng = random.Random(seed * 1000 + story)
        text = Text(rng)
        keys, memory = new_memory(text)
        out.write("%d\t0\t[]\t%s\n" % (story, copy_escape(json.dumps(memory, separators=(",", ":")))))
        ts = 1_700_000_000 + story * 86_400
        for turn in range(1, count + 1):
            ts += rng.randint(5, 120)
            msgs = [{"role": "user", "content": text.prose(rng.randint(120, 280)), "ts": ts}]
            msgs.append({"role": "assistant", "content": text.prose(rng.randint(1000, 3000)),
                         "ts": ts + rng.randint(1, 30), "tokens": rng.randint(200, 900)})
            tool = None
            if rng.random() < 1.0 / 3:
                tool = rng.choice(["run_shell", "read_file", "apply_patch", "run_tests"])
                msgs.append({"role": "tool", "name": tool, "tool_call_id": "call_%08x" % rng.getrandbits(32),
                             "content": text.tool_output(rng.randint(2000, 8000))})
            update_memory(text, keys, memory, turn, tool)
            out.write("%d\t%d\t%s\t%s\n" % (story, turn, copy_escape(json.dumps(msgs, separators=(",", ":"))),
                                            copy_escape(json.dumps(memory, separators=(",", ":")))))


def small(stories, count, seed):
    """States of 1-2 KB in which every value changes at every save (the worst case for deltas)."""
    out = sys.stdout
    for story in range(stories):
        rng = random.Random(seed * 1000 + 500 + story)
        text = Text(rng, vocabulary=1500)
        keys = ["%s_%s" % (text.word(), text.word()) for _ in range(16)]
        for n in range(1, count + 1):
            state = {
                "n": n,
                "cursor": {"file": rng.choice(text.paths), "line": rng.randint(1, 5000), "col": rng.randint(1, 120)},
                "status": text.sentence()[:120],
                "metrics": {k: round(rng.random() * 10_000, 3) for k in keys},
                "plan": [text.sentence()[:90] for _ in range(rng.randint(3, 6))],
                "flags": [rng.random() < 0.5 for _ in range(8)],
                "updated_at": 1_700_000_000 + n * 7 + rng.randint(0, 6),
            }
            out.write("%d\t%d\t%s\n" % (story, n, copy_escape(json.dumps(state, separators=(",", ":")))))


if __name__ == "__main__":
    what, stories, count, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    {"turns": turns, "small": small}[what](stories, count, seed)
