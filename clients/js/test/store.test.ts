// SessionStore over the pg transport, against the real extension: every function, and each
// error class from the SQLSTATE the server raises.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ConflictError,
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
  PgTransport,
  SessionStore,
  TooLargeError,
} from "../src/index.js";
import { newPool, storeOver } from "./db.js";

let pool: pg.Pool;
let store: SessionStore;

beforeAll(async () => {
  pool = newPool();
  store = storeOver(pool);
  await pool.query("DO $$ BEGIN CREATE ROLE sp_client_other; EXCEPTION WHEN duplicate_object THEN NULL; END $$");
});
afterAll(() => pool.end());

describe("SessionStore over pg", () => {
  it("creates a session and saves, restores, and skips an unchanged state", async () => {
    const s = await store.createSession("store test", { model: "m", metadata: { a: 1 } });
    expect(s.name).toBe("store test");
    expect(s.metadata).toEqual({ a: 1 });
    const state = { messages: [{ role: "user", content: "hi" }], turn: 1 };
    const r1 = await store.saveSnapshot(s.id, state, { expectedNumber: 0, metadata: { trigger: "test" } });
    expect(r1).toMatchObject({ snapshot_number: 1, created: true, kind: "full" });
    expect(typeof r1.stored_bytes).toBe("number");
    const r2 = await store.saveSnapshot(s.id, state, { expectedNumber: 1 });
    expect(r2).toMatchObject({ snapshot_number: 1, created: false });
    const next = { ...state, messages: [...state.messages, { role: "assistant", content: "hello" }], turn: 2 };
    const r3 = await store.saveSnapshot(s.id, next, { expectedNumber: 1 });
    expect(r3).toMatchObject({ snapshot_number: 2, created: true });
    expect(await store.getLatestSnapshot(s.id)).toEqual(next);
    const snap1 = await store.getSnapshot(s.id, 1);
    expect(snap1?.snapshot_data).toEqual(state);
    expect(snap1?.metadata).toEqual({ trigger: "test" });
    expect((await store.getSnapshot(s.id))?.snapshot_number).toBe(2);
    expect(await store.verifySession(s.id)).toEqual([]);
    const sum = await store.getSessionSummary(s.id);
    expect(sum).toMatchObject({ snapshot_count: 2, latest_snapshot_number: 2, message_count: 2 });
  });

  it("returns null and undefined for a session without snapshots", async () => {
    const s = await store.createSession("empty");
    expect(await store.getLatestSnapshot(s.id)).toBeNull();
    expect(await store.getSnapshot(s.id)).toBeUndefined();
  });

  it("maps a stale p_expected_number to ConflictError with the latest number", async () => {
    const s = await store.createSession("conflict");
    await store.saveSnapshot(s.id, { n: 1 }, { expectedNumber: 0 });
    await store.saveSnapshot(s.id, { n: 2 }, { expectedNumber: 1 });
    const err = await store.saveSnapshot(s.id, { n: 3 }, { expectedNumber: 1 }).catch((e) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect(err.code).toBe("40001");
    expect(err.latestNumber).toBe(2);
  });

  it("maps unknown sessions, bad input, size limits and foreign sessions", async () => {
    const unknown = "00000000-0000-4000-8000-000000000000";
    await expect(store.saveSnapshot(unknown, { a: 1 })).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.getLatestSnapshot(unknown)).rejects.toBeInstanceOf(NotFoundError);
    const s = await store.createSession("errors", { visibility: "public" });
    const bad = await store.appendMessages(s.id, [{ role: "robot" as "user", content: "x" }]).catch((e) => e);
    expect(bad).toBeInstanceOf(InvalidInputError);
    expect(bad.code).toBe("22023");
    await expect(store.cleanupOldSnapshots(null as unknown as string)).rejects.toBeInstanceOf(InvalidInputError);

    const client = new pg.Client();
    await client.connect();
    try {
      const limited = new SessionStore(new PgTransport(client));
      await client.query("SET session_persist.max_snapshot_bytes = '1kB'");
      const big = await limited.saveSnapshot(s.id, { blob: "x".repeat(5000) }).catch((e) => e);
      expect(big).toBeInstanceOf(TooLargeError);
      expect(big.code).toBe("54000");
      await client.query("RESET session_persist.max_snapshot_bytes; SET ROLE sp_client_other");
      // a public session is readable by others, but not theirs to change
      const forbidden = await limited.saveSnapshot(s.id, { a: 1 }).catch((e) => e);
      expect(forbidden).toBeInstanceOf(ForbiddenError);
      expect(forbidden.code).toBe("42501");
    } finally {
      await client.end();
    }
  });

  it("appends and pages messages, exports, imports, forks, prunes and reports", async () => {
    const s = await store.createSession("lifecycle");
    const orders = await store.appendMessages(s.id, [
      { role: "user", content: "hi" },
      { role: "assistant", content: "hello", model: "m" },
    ]);
    expect(orders).toEqual([1, 2]);
    const page = await store.getMessages(s.id, 0, 1);
    expect(page.map((m) => [m.message_order, m.role, m.content])).toEqual([[1, "user", "hi"]]);
    expect((await store.getMessages(s.id, 1))[0].metadata).toEqual({ model: "m" });
    for (let i = 1; i <= 4; i++) await store.saveSnapshot(s.id, { turn: i });
    const doc = await store.exportSession(s.id);
    expect(doc).toMatchObject({ format: "session_persist.export", version: 1, state: { turn: 4 } });
    const imported = await store.importSession(doc);
    expect(await store.getLatestSnapshot(imported)).toEqual({ turn: 4 });
    const forked = await store.forkSession(s.id, 2, "fork");
    expect(await store.getLatestSnapshot(forked)).toEqual({ turn: 2 });
    expect(await store.cleanupOldSnapshots(s.id, 2)).toBe(2);
    await expect(store.getSnapshot(s.id, 1)).rejects.toBeInstanceOf(NotFoundError); // pruned
    expect(await store.getLatestSnapshot(s.id)).toEqual({ turn: 4 });
    expect(await store.cleanupAllSnapshots(10)).toBeGreaterThanOrEqual(0);
    const report = await store.storageReport();
    expect(report.length).toBeGreaterThan(0);
    expect(report[0].snapshots).toBeGreaterThan(0);
  });
});
