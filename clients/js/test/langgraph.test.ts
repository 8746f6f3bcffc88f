// What the validation suite does not check: that SessionPersistSaver's checkpoints really are
// snapshots of one session per thread, stored as deltas, and that deleteThread removes them.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uuid6, type Checkpoint } from "@langchain/langgraph-checkpoint";
import { SessionPersistSaver } from "../src/langgraph.js";
import { newPool } from "./db.js";

let pool: pg.Pool;
let saver: SessionPersistSaver;
const schema = `lg_own_${process.pid}`;

beforeAll(async () => {
  pool = newPool();
  saver = new SessionPersistSaver(pool, { schema });
  await saver.setup();
});
afterAll(async () => {
  await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
  await pool.end();
});

function turnCheckpoint(turn: number, messages: unknown[]): Checkpoint {
  return {
    v: 4,
    id: uuid6(-1),
    ts: new Date().toISOString(),
    channel_values: { messages, step: turn },
    channel_versions: { messages: turn, step: turn },
    versions_seen: { agent: { messages: turn } },
  };
}

describe("SessionPersistSaver storage", () => {
  it("stores a thread's checkpoints as snapshots of one session, mostly deltas", async () => {
    const thread_id = `t-${uuid6(-1)}`;
    const messages: unknown[] = [];
    let config = { configurable: { thread_id, checkpoint_ns: "" } } as Record<string, any>;
    for (let turn = 1; turn <= 30; turn++) {
      messages.push({ role: turn % 2 ? "user" : "assistant", content: `message ${turn} `.repeat(40) });
      config = await saver.put(config, turnCheckpoint(turn, [...messages]), { source: "loop", step: turn, parents: {} }, {
        messages: turn,
        step: turn,
      });
    }
    const latest = await saver.getTuple({ configurable: { thread_id } });
    expect((latest!.checkpoint.channel_values.messages as unknown[]).length).toBe(30);
    expect(latest!.metadata?.step).toBe(30);
    const { rows } = await pool.query(
      `SELECT c.kind, count(*)::int AS n, sum(c.stored_bytes)::int AS stored, sum(c.snapshot_size)::int AS logical
         FROM "${schema}".langgraph_threads t JOIN session_snapshot_chain c ON c.session_id = t.session_id
        WHERE t.thread_id = $1 GROUP BY c.kind`,
      [thread_id],
    );
    const byKind = Object.fromEntries(rows.map((r) => [r.kind, r]));
    expect(byKind.delta.n).toBeGreaterThanOrEqual(20);
    const stored = rows.reduce((a, r) => a + r.stored, 0);
    const logical = rows.reduce((a, r) => a + r.logical, 0);
    expect(stored * 3).toBeLessThan(logical);

    await saver.deleteThread(thread_id);
    expect(await saver.getTuple({ configurable: { thread_id } })).toBeUndefined();
    const left = await pool.query(`SELECT count(*)::int AS n FROM "${schema}".langgraph_checkpoints`);
    expect(left.rows[0].n).toBe(0);
  });
});
