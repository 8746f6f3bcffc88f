// The PostgREST transport with a fake fetch: the requests it builds and how it maps
// PostgREST's error bodies and HTTP statuses, with session_persist.http_status_codes on and off.
import { describe, expect, it } from "vitest";
import {
  AutoSaver,
  ConflictError,
  CorruptError,
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
  PostgrestTransport,
  SessionStore,
  TooLargeError,
  TransientError,
} from "../src/index.js";

type Seen = { url: string; init: RequestInit };

function fakeFetch(...responses: (Response | Error)[]) {
  const seen: Seen[] = [];
  const fetch = async (url: string, init: RequestInit) => {
    seen.push({ url, init });
    const r = responses.shift();
    if (!r) throw new Error("no more responses");
    if (r instanceof Error) throw r;
    return r;
  };
  return { fetch, seen };
}
const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
const SID = "1f0c0000-0000-4000-8000-000000000001";

describe("PostgrestTransport requests", () => {
  it("POSTs /rpc/<function> with the named arguments, the JWT, the apikey and the schema", async () => {
    const { fetch, seen } = fakeFetch(
      json(200, { id: "x", session_id: SID, snapshot_number: 3, created: true, kind: "delta", snapshot_size: 10, stored_bytes: 4, created_at: "t" }),
    );
    const store = new SessionStore(
      new PostgrestTransport({ url: "https://db.example/rest/v1/", token: async () => "jwt-1", apiKey: "anon", schema: "agents", fetch }),
    );
    const r = await store.saveSnapshot(SID, { turn: 1 }, { expectedNumber: 2, metadata: { trigger: "auto" } });
    expect(r.snapshot_number).toBe(3);
    expect(seen[0].url).toBe("https://db.example/rest/v1/rpc/create_session_snapshot");
    expect(seen[0].init.method).toBe("POST");
    expect(seen[0].init.headers).toMatchObject({
      Authorization: "Bearer jwt-1",
      apikey: "anon",
      "Content-Profile": "agents",
      "Content-Type": "application/json",
    });
    // undefined arguments are left out so the SQL defaults apply
    expect(JSON.parse(seen[0].init.body as string)).toEqual({
      p_session_id: SID,
      p_snapshot_data: { turn: 1 },
      p_expected_number: 2,
      p_metadata: { trigger: "auto" },
    });
    expect(seen[0].init.keepalive).toBeUndefined();
  });

  it("reads scalars, rows (object or array), empty results and SETOF columns", async () => {
    const { fetch } = fakeFetch(json(200, { turn: 1 }), json(200, null), json(200, []), json(200, [2, 3]), json(200, [{ snapshot_number: 1, problem: "p" }]));
    const store = new SessionStore(new PostgrestTransport({ url: "http://pgrst", fetch }));
    expect(await store.getLatestSnapshot(SID)).toEqual({ turn: 1 });
    expect(await store.getLatestSnapshot(SID)).toBeNull();
    expect(await store.getSnapshot(SID)).toBeUndefined();
    expect(await store.appendMessages(SID, [{ role: "user", content: "a" }])).toEqual([2, 3]);
    expect(await store.verifySession(SID)).toEqual([{ snapshot_number: 1, problem: "p" }]);
  });

  it("sends the unload save as a keepalive request carrying the JWT", async () => {
    const { fetch, seen } = fakeFetch(json(200, { snapshot_number: 1, created: true }));
    const saver = new AutoSaver({
      store: new PostgrestTransport({ url: "http://pgrst", token: "jwt-2", fetch }),
      sessionId: SID,
      debounceMs: 0,
      intervalMs: 0,
      expectedNumber: 0,
    });
    saver.update({ turn: 1 });
    expect(await saver.unloadSave()).toMatchObject({ snapshot_number: 1 });
    expect(seen[0].init.keepalive).toBe(true);
    expect((seen[0].init.headers as Record<string, string>).Authorization).toBe("Bearer jwt-2");
    expect(saver.dirty).toBe(false);
  });

  it("retries 503s and network failures, then saves", async () => {
    const { fetch, seen } = fakeFetch(
      new Response("", { status: 503 }),
      new TypeError("fetch failed"),
      json(200, { snapshot_number: 1, created: true }),
    );
    const saver = new AutoSaver({
      store: new PostgrestTransport({ url: "http://pgrst", fetch }),
      sessionId: SID,
      debounceMs: 0,
      intervalMs: 0,
      retry: { baseDelayMs: 1 },
    });
    saver.update({ a: 1 });
    expect(await saver.flush()).toMatchObject({ snapshot_number: 1 });
    expect(seen.length).toBe(3);
  });
});

describe("PostgREST error mapping", () => {
  const cases: [string, number, Record<string, unknown>, Function, Record<string, unknown>?][] = [
    // session_persist.http_status_codes = on: PTnnn codes and their statuses
    ["PT404 (on)", 404, { code: "PT404", message: "session 1f0c... not found", details: null, hint: null }, NotFoundError],
    ["PT409 (on)", 409, { code: "PT409", message: "session has changed since snapshot 1", details: "The latest snapshot is 7.", hint: "Restore..." }, ConflictError, { latestNumber: 7, status: 409 }],
    ["PT413 (on)", 413, { code: "PT413", message: "state too large", details: null, hint: null }, TooLargeError],
    // off: the plain SQLSTATEs, which PostgREST sends with 500 (or its own status)
    ["P0002 (off)", 500, { code: "P0002", message: "not found" }, NotFoundError],
    ["40001 (off)", 500, { code: "40001", message: "changed", details: "The latest snapshot is 12." }, ConflictError, { latestNumber: 12, code: "40001" }],
    ["54000 (off)", 500, { code: "54000", message: "too large" }, TooLargeError],
    ["42501", 403, { code: "42501", message: "not yours" }, ForbiddenError],
    ["XX001", 500, { code: "XX001", message: "hash mismatch" }, CorruptError],
    ["22023", 400, { code: "22023", message: "bad role" }, InvalidInputError],
    ["22004", 400, { code: "22004", message: "null" }, InvalidInputError],
    ["40P01", 500, { code: "40P01", message: "deadlock" }, TransientError],
    ["57P01", 503, { code: "57P01", message: "terminating connection" }, TransientError],
    ["JWT expired", 401, { code: "PGRST301", message: "JWT expired" }, ForbiddenError],
    ["bare 409", 409, {}, ConflictError],
    ["bare 502", 502, {}, TransientError],
  ];
  for (const [name, status, body, cls, extra] of cases) {
    it(`maps ${name}`, async () => {
      const { fetch } = fakeFetch(json(status, body));
      const t = new PostgrestTransport({ url: "http://pgrst", fetch });
      const err = await t.call("create_session_snapshot", { p_session_id: SID }, "row").catch((e) => e);
      expect(err).toBeInstanceOf(cls);
      expect(err.status).toBe(status);
      if (body.message) expect(err.message).toBe(body.message);
      if (extra) expect(err).toMatchObject(extra);
    });
  }

  it("maps a network failure to TransientError", async () => {
    const { fetch } = fakeFetch(new TypeError("fetch failed"));
    const t = new PostgrestTransport({ url: "http://pgrst", fetch });
    await expect(t.call("get_latest_snapshot", {}, "scalar")).rejects.toBeInstanceOf(TransientError);
  });
});
