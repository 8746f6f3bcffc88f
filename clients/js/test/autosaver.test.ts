// AutoSaver against the real server: timers are faked where the test is about intervals,
// the database never is.
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { AutoSaver, PgTransport, SessionStore, type Transport } from "../src/index.js";
import { newPool, newSession, next, storeOver } from "./db.js";

let pool: pg.Pool;
let store: SessionStore;

beforeAll(() => {
  pool = newPool();
  store = storeOver(pool);
});
afterAll(() => pool.end());
afterEach(() => {
  vi.useRealTimers();
});

const fakeTimers = () => vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval"] });
const count = async (id: string) => (await store.getSessionSummary(id))!.snapshot_count;

describe("AutoSaver", () => {
  it("saves after a quiet period, restarting it on every change (debounce)", async () => {
    const id = await newSession(store);
    fakeTimers();
    const saver = new AutoSaver({ store, sessionId: id, debounceMs: 5000, intervalMs: 0, expectedNumber: 0 });
    saver.update({ turn: 1 });
    await vi.advanceTimersByTimeAsync(4000);
    saver.update({ turn: 2 });
    await vi.advanceTimersByTimeAsync(4000);
    expect(await count(id)).toBe(0);
    const saved = next(saver, "saved");
    await vi.advanceTimersByTimeAsync(1000);
    expect(await saved).toMatchObject({ snapshot_number: 1, reason: "debounce" });
    expect(await store.getLatestSnapshot(id)).toEqual({ turn: 2 });
    expect(saver.status).toBe("saved");
    await saver.close();
  });

  it("saves on the interval while changes are unsaved, and not when nothing changed", async () => {
    const id = await newSession(store);
    fakeTimers();
    const saver = new AutoSaver({ store, sessionId: id, debounceMs: 0, intervalMs: 30_000, expectedNumber: 0 });
    saver.update({ turn: 1 });
    await vi.advanceTimersByTimeAsync(29_000);
    expect(await count(id)).toBe(0);
    const saved = next(saver, "saved");
    await vi.advanceTimersByTimeAsync(1000);
    expect(await saved).toMatchObject({ snapshot_number: 1, reason: "interval" });
    const skipped = next(saver, "skipped");
    saver.update({ turn: 1 }); // equal state: still clean
    await vi.advanceTimersByTimeAsync(30_000);
    expect(await skipped).toEqual({ reason: "interval" });
    expect(await count(id)).toBe(1);
    await saver.close();
  });

  it("flushes on demand and on close, never two saves in flight", async () => {
    const id = await newSession(store);
    const inner = new PgTransport(pool);
    let inFlight = 0;
    let most = 0;
    let calls = 0;
    const counting: Transport = {
      async call(fn, args, shape, o) {
        calls++;
        most = Math.max(most, ++inFlight);
        try {
          return await inner.call(fn, args, shape, o);
        } finally {
          inFlight--;
        }
      },
    };
    const saver = new AutoSaver({ store: counting, sessionId: id, debounceMs: 0, intervalMs: 0, expectedNumber: 0 });
    saver.update({ turn: 1 });
    const a = saver.flush();
    saver.update({ turn: 2 });
    const b = saver.flush();
    saver.update({ turn: 3 });
    const c = saver.flush();
    await Promise.all([a, b, c]);
    expect(most).toBe(1);
    expect(await store.getLatestSnapshot(id)).toEqual({ turn: 3 });
    expect(calls).toBeLessThanOrEqual(3);
    saver.update({ turn: 4 });
    const closed = await saver.close();
    expect(closed?.created).toBe(true);
    expect(await store.getLatestSnapshot(id)).toEqual({ turn: 4 });
    expect(saver.status).toBe("closed");
  });

  it("surfaces a conflict between two savers on one session instead of overwriting", async () => {
    const id = await newSession(store);
    await store.saveSnapshot(id, { turn: 0 });
    const a = new AutoSaver({ store, sessionId: id, debounceMs: 0, intervalMs: 0 });
    const b = new AutoSaver({ store, sessionId: id, debounceMs: 0, intervalMs: 0 });
    expect(await a.load()).toEqual({ turn: 0 });
    await b.load();
    a.update({ turn: 1, by: "a" });
    await a.flush();
    const conflict = next<{ latestNumber?: number; expectedNumber?: number }>(b, "conflict");
    b.update({ turn: 1, by: "b" });
    expect(await b.flush()).toBeUndefined();
    expect(await conflict).toMatchObject({ latestNumber: 2, expectedNumber: 1 });
    expect(b.status).toBe("conflict");
    expect(await store.getLatestSnapshot(id)).toEqual({ turn: 1, by: "a" });
    // paused: further saves do nothing until the app merges
    b.update({ turn: 2, by: "b" });
    expect(await b.flush()).toBeUndefined();
    const latest = await store.getLatestSnapshot<{ turn: number; by: string }>(id);
    await b.resolveConflict(2);
    b.update({ ...latest!, merged: true });
    expect(await b.flush()).toMatchObject({ snapshot_number: 3, created: true });
    await Promise.all([a.close(), b.close()]);
  });

  it("retries a save whose connection was terminated (pg_terminate_backend)", async () => {
    const id = await newSession(store);
    const one = newPool(1);
    const admin = new pg.Client();
    await admin.connect();
    try {
      const pid = (await one.query("SELECT pg_backend_pid() AS pid")).rows[0].pid;
      const saver = new AutoSaver({
        store: new PgTransport(one),
        sessionId: id,
        debounceMs: 0,
        intervalMs: 0,
        expectedNumber: 0,
        retry: { baseDelayMs: 20 },
      });
      const retries: unknown[] = [];
      saver.on("retry", (r) => retries.push(r.error));
      // hold the session's row so the save waits on it, then kill the saving backend
      await admin.query("BEGIN");
      await admin.query("SELECT 1 FROM free_agent_sessions WHERE id = $1 FOR UPDATE", [id]);
      saver.update({ turn: 1 });
      const saving = saver.flush();
      for (let i = 0; i < 200; i++) {
        const { rows } = await admin.query("SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1", [pid]);
        if (rows[0]?.wait_event_type === "Lock") break;
        await new Promise((r) => setTimeout(r, 10));
      }
      await admin.query("SELECT pg_terminate_backend($1)", [pid]);
      await admin.query("COMMIT");
      expect(await saving).toMatchObject({ snapshot_number: 1, created: true });
      expect(retries.length).toBeGreaterThanOrEqual(1);
      expect((retries[0] as Error).name).toBe("TransientError");
      expect(await store.getLatestSnapshot(id)).toEqual({ turn: 1 });
      await saver.close();
    } finally {
      await admin.end();
      await one.end();
    }
  });

  it("stops retrying after the configured attempts and reports the error", async () => {
    const id = await newSession(store);
    let calls = 0;
    const failing: Transport = {
      async call() {
        calls++;
        const { TransientError } = await import("../src/errors.js");
        throw new TransientError("Connection terminated unexpectedly");
      },
    };
    const saver = new AutoSaver({ store: failing, sessionId: id, debounceMs: 0, intervalMs: 0, retry: { retries: 2, baseDelayMs: 1 } });
    const errored = next(saver, "error");
    saver.update({ a: 1 });
    await expect(saver.flush()).rejects.toThrow("Connection terminated");
    await errored;
    expect(calls).toBe(3);
    expect(saver.status).toBe("error");
  });
});
