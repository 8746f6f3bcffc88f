// The same LangGraph workload with PostgresSaver (@langchain/langgraph-checkpoint-postgres)
// and SessionPersistSaver on one server: THREADS threads of TURNS turns, each turn a put of
// the growing agent state (a user message, an assistant reply with a tool call, a tool
// result, a scratchpad) and a getTuple of the latest. Threads are interleaved.
// Prints storage (pg_total_relation_size of each side's tables), puts/s, getTuple p50/p90
// and the ratios. Run through ./bench/run (a throwaway cluster).
import pg from "pg";
import { PostgresSaver } from "@langchain/langgraph-checkpoint-postgres";
import { uuid6 } from "@langchain/langgraph-checkpoint";
import { AIMessage, HumanMessage, ToolMessage } from "@langchain/core/messages";
import { SessionPersistSaver } from "../dist/langgraph.js";

const THREADS = Number(process.env.THREADS ?? 10);
const TURNS = Number(process.env.TURNS ?? 100);

let seed = 42;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const WORDS = "the agent reads a file then edits the parser and runs tests again until they pass with a short summary of each change made to the code base".split(" ");
const text = (n) => Array.from({ length: n }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(" ");

function turnMessages(turn) {
  const callId = `call_${turn}`;
  return [
    new HumanMessage({ content: text(20 + Math.floor(rand() * 60)), id: `h${turn}` }),
    new AIMessage({
      content: text(40 + Math.floor(rand() * 200)),
      id: `a${turn}`,
      tool_calls: [{ id: callId, name: "read_file", args: { path: `src/file_${turn}.ts` } }],
    }),
    new ToolMessage({ content: text(50 + Math.floor(rand() * 300)), tool_call_id: callId, id: `t${turn}` }),
  ];
}

function checkpointAt(turn, messages, scratch) {
  return {
    v: 4,
    id: uuid6(-1),
    ts: new Date().toISOString(),
    channel_values: { messages, scratchpad: scratch, step: turn },
    channel_versions: { messages: turn, scratchpad: turn, step: turn, __start__: 1 },
    versions_seen: { agent: { messages: turn - 1, step: turn - 1 }, tools: { messages: turn - 1 }, __input__: {} },
  };
}

async function run(name, saver) {
  const states = Array.from({ length: THREADS }, (_, i) => ({
    config: { configurable: { thread_id: `${name}-thread-${i}`, checkpoint_ns: "" } },
    messages: [],
  }));
  const getTimes = [];
  let putTime = 0;
  seed = 42; // both sides get the same states
  for (let turn = 1; turn <= TURNS; turn++) {
    for (const s of states) {
      s.messages = [...s.messages, ...turnMessages(turn)];
      const scratch = { plan: text(30), open_files: [`src/file_${turn}.ts`], turn };
      const t0 = performance.now();
      s.config = await saver.put(s.config, checkpointAt(turn, s.messages, scratch), { source: "loop", step: turn, parents: {} }, {
        messages: turn,
        scratchpad: turn,
        step: turn,
      });
      const t1 = performance.now();
      const tuple = await saver.getTuple({ configurable: { thread_id: s.config.configurable.thread_id, checkpoint_ns: "" } });
      getTimes.push(performance.now() - t1);
      putTime += t1 - t0;
      if (tuple.checkpoint.channel_values.messages.length !== s.messages.length) throw new Error(`${name}: wrong state`);
    }
  }
  getTimes.sort((a, b) => a - b);
  const q = (p) => getTimes[Math.min(getTimes.length - 1, Math.floor(p * getTimes.length))];
  return { puts: THREADS * TURNS, putsPerSec: (THREADS * TURNS) / (putTime / 1000), getP50: q(0.5), getP90: q(0.9) };
}

const size = async (pool, tables) =>
  Number((await pool.query(`SELECT sum(pg_total_relation_size(c))::bigint AS b FROM unnest($1::regclass[]) c`, [tables])).rows[0].b);

const pool = new pg.Pool({ max: 4 });
pool.on("error", () => {});
await pool.query("CREATE EXTENSION IF NOT EXISTS session_persist");

const pgSaver = PostgresSaver.fromConnString(`postgresql://${process.env.PGUSER}:${encodeURIComponent(process.env.PGPASSWORD ?? "")}@${process.env.PGHOST ?? "localhost"}:${process.env.PGPORT}/${process.env.PGDATABASE ?? "postgres"}`, { schema: "bench_lg_postgres" });
await pgSaver.setup();
const spSaver = new SessionPersistSaver(pool, { schema: "bench_lg_sp" });
await spSaver.setup();

const pgRes = await run("postgres", pgSaver);
const spRes = await run("sp", spSaver);
await pool.query("VACUUM ANALYZE");
const pgBytes = await size(pool, ["bench_lg_postgres.checkpoints", "bench_lg_postgres.checkpoint_blobs", "bench_lg_postgres.checkpoint_writes", "bench_lg_postgres.checkpoint_migrations"]);
const spBytes = await size(pool, ["free_agent_sessions", "session_snapshot_chain", "session_messages", "bench_lg_sp.langgraph_threads", "bench_lg_sp.langgraph_checkpoints", "bench_lg_sp.langgraph_writes"]);
const logical = Number((await pool.query("SELECT sum(snapshot_size)::bigint AS b FROM session_snapshot_chain")).rows[0].b);

const f = (x, d = 1) => x.toFixed(d);
const mb = (b) => f(b / 1048576, 2) + " MB";
console.log(`| workload | ${THREADS} threads x ${TURNS} turns, interleaved; a put per turn, getTuple of the latest after each |`);
console.log(`|---|---|`);
console.log(`| | PostgresSaver | SessionPersistSaver | ratio |`);
console.log(`|---|---|---|---|`);
console.log(`| storage (pg_total_relation_size of its tables) | ${mb(pgBytes)} | ${mb(spBytes)} | ${f(pgBytes / spBytes)}x less |`);
console.log(`| puts/s | ${f(pgRes.putsPerSec)} | ${f(spRes.putsPerSec)} | ${f(spRes.putsPerSec / pgRes.putsPerSec, 2)}x |`);
console.log(`| getTuple p50 | ${f(pgRes.getP50, 2)} ms | ${f(spRes.getP50, 2)} ms | ${f(pgRes.getP50 / spRes.getP50)}x faster |`);
console.log(`| getTuple p90 | ${f(pgRes.getP90, 2)} ms | ${f(spRes.getP90, 2)} ms | ${f(pgRes.getP90 / spRes.getP90)}x faster |`);
console.log(`\nlogical size of the latest states summed over all checkpoints: ${mb(logical)} (what the snapshots would take stored whole)`);
await pgSaver.end();
await pool.end();
