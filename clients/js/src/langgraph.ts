import {
  BaseCheckpointSaver,
  TASKS,
  WRITES_IDX_MAP,
  maxChannelVersion,
  type ChannelVersions,
  type Checkpoint,
  type CheckpointListOptions,
  type CheckpointMetadata,
  type CheckpointTuple,
  type PendingWrite,
  type SerializerProtocol,
} from "@langchain/langgraph-checkpoint";
import type { RunnableConfig } from "@langchain/core/runnables";
import { mapDriverError, NotFoundError } from "./errors.js";

/** The part of a pg Pool the saver uses. */
export interface PgPoolLike {
  query(text: string, values?: unknown[]): Promise<{ rows: any[]; rowCount?: number | null }>;
  connect(): Promise<{
    query(text: string, values?: unknown[]): Promise<{ rows: any[]; rowCount?: number | null }>;
    release(err?: boolean | Error): void;
  }>;
}

export interface SessionPersistSaverOptions {
  /** schema for the saver's two small tables (default "public"); one schema per isolated store */
  schema?: string;
  /** schema of the session_persist extension (default: looked up in pg_extension) */
  extensionSchema?: string;
  serde?: SerializerProtocol;
}

/** What one snapshot holds: the checkpoint without its values, and the values it sees. */
interface StoredState {
  checkpoint: Omit<Checkpoint, "channel_values">;
  /** channel values serialised as JSON (JsonPlusSerializer's "json" type), inline in the state */
  values: Record<string, unknown>;
  /** values of other serialisation types (bytes): [type, base64] */
  blobs?: Record<string, [string, string]>;
}

function ident(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64");
}
function fromBase64(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "base64"));
}

/**
 * A LangGraph checkpointer on session_persist.
 *
 * - A (thread_id, checkpoint_ns) is one session (table `langgraph_threads`).
 * - A checkpoint is one snapshot of that session; its state is the checkpoint with the
 *   channel values it sees, so consecutive checkpoints (a messages list that grew by a turn)
 *   are stored by the extension as deltas against the previous snapshot.
 * - `langgraph_checkpoints` maps checkpoint ids to snapshot numbers and keeps the parent id,
 *   the metadata (for `list` filters) and which channel versions the snapshot holds.
 * - Pending writes live in `langgraph_writes`: they are per (checkpoint, task, index), are
 *   upserted by index, come from parallel tasks, and are not part of the graph's state, so
 *   they do not belong in the snapshot chain.
 *
 * Channel values follow the checkpointer contract: a checkpoint sees the value of a channel
 * only when that (channel, version) was stored by a put that listed it in `newVersions`
 * (this put, its parent or the thread's latest checkpoint).
 */
export class SessionPersistSaver extends BaseCheckpointSaver {
  private readonly schema: string;
  private ext: string | undefined;
  private readonly sessions = new Map<string, string>();
  /** (session, checkpoint id) -> channel versions its snapshot holds; saves a query per put */
  private readonly storedCache = new Map<string, Record<string, string>>();
  private setupDone: Promise<void> | undefined;

  constructor(
    readonly pool: PgPoolLike,
    options: SessionPersistSaverOptions = {},
  ) {
    super(options.serde);
    this.schema = options.schema ?? "public";
    if (options.extensionSchema) this.ext = ident(options.extensionSchema);
  }

  private t(name: string): string {
    return `${ident(this.schema)}.${name}`;
  }

  /** Creates the saver's tables if missing (idempotent). Called by every method on first use. */
  setup(): Promise<void> {
    this.setupDone ??= this.doSetup().catch((e) => {
      this.setupDone = undefined;
      throw e;
    });
    return this.setupDone;
  }

  private async doSetup(): Promise<void> {
    if (!this.ext) {
      const { rows } = await this.pool.query(
        "SELECT n.nspname FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'session_persist'",
      );
      if (rows.length === 0) throw new Error("the session_persist extension is not installed in this database");
      this.ext = ident(rows[0].nspname);
    }
    await this.pool.query(`
      CREATE SCHEMA IF NOT EXISTS ${ident(this.schema)};
      CREATE TABLE IF NOT EXISTS ${this.t("langgraph_threads")} (
        thread_id     text NOT NULL,
        checkpoint_ns text NOT NULL,
        session_id    uuid NOT NULL UNIQUE,
        PRIMARY KEY (thread_id, checkpoint_ns));
      CREATE TABLE IF NOT EXISTS ${this.t("langgraph_checkpoints")} (
        session_id           uuid NOT NULL,
        checkpoint_id        text NOT NULL,
        snapshot_number      integer NOT NULL,
        parent_checkpoint_id text,
        metadata             jsonb NOT NULL,
        stored               jsonb NOT NULL,
        PRIMARY KEY (session_id, checkpoint_id));
      CREATE TABLE IF NOT EXISTS ${this.t("langgraph_writes")} (
        session_id    uuid NOT NULL,
        checkpoint_id text NOT NULL,
        task_id       text NOT NULL,
        idx           integer NOT NULL,
        channel       text NOT NULL,
        type          text NOT NULL,
        value         bytea,
        task_path     text NOT NULL DEFAULT '',
        PRIMARY KEY (session_id, checkpoint_id, task_id, idx));
    `);
  }

  private async q(text: string, values?: unknown[]) {
    try {
      return await this.pool.query(text, values);
    } catch (e) {
      throw mapDriverError(e);
    }
  }

  /** The session of a thread and namespace, created on first use. */
  private async sessionFor(threadId: string, ns: string, create: boolean): Promise<string | undefined> {
    const key = JSON.stringify([threadId, ns]);
    const cached = this.sessions.get(key);
    if (cached) return cached;
    const sel = `SELECT session_id FROM ${this.t("langgraph_threads")} WHERE thread_id = $1 AND checkpoint_ns = $2`;
    let { rows } = await this.q(sel, [threadId, ns]);
    if (rows.length === 0 && create) {
      const client = await this.pool.connect();
      try {
        await client.query("BEGIN");
        const name = `langgraph ${threadId}${ns ? " " + ns : ""}`.slice(0, 200);
        ({ rows } = await client.query(
          `WITH s AS (SELECT id FROM ${this.ext}.create_session(p_name => $3, p_metadata => $4::jsonb))
           INSERT INTO ${this.t("langgraph_threads")} (thread_id, checkpoint_ns, session_id)
           SELECT $1, $2, id FROM s ON CONFLICT (thread_id, checkpoint_ns) DO NOTHING RETURNING session_id`,
          [threadId, ns, name, JSON.stringify({ langgraph: { thread_id: threadId, checkpoint_ns: ns } })],
        ));
        // lost a race with another writer: drop our session, use theirs
        await client.query(rows.length ? "COMMIT" : "ROLLBACK");
      } catch (e) {
        await client.query("ROLLBACK").catch(() => {});
        throw mapDriverError(e);
      } finally {
        client.release();
      }
      if (rows.length === 0) ({ rows } = await this.q(sel, [threadId, ns]));
    }
    const id: string | undefined = rows[0]?.session_id;
    if (id) this.sessions.set(key, id);
    return id;
  }

  private async encodeValue(value: unknown): Promise<{ json?: unknown; blob?: [string, string] }> {
    const [type, bytes] = await this.serde.dumpsTyped(value);
    if (type === "json") {
      const text = typeof bytes === "string" ? bytes : decoder.decode(bytes);
      // jsonb refuses \u0000 in strings; such values keep their bytes
      if (!text.includes("\\u0000")) return { json: JSON.parse(text) };
    }
    return { blob: [type, toBase64(typeof bytes === "string" ? encoder.encode(bytes) : bytes)] };
  }

  private async decodeValues(state: StoredState): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(state.values ?? {})) out[k] = await this.serde.loadsTyped("json", JSON.stringify(v));
    for (const [k, [type, b64]] of Object.entries(state.blobs ?? {})) out[k] = await this.serde.loadsTyped(type, fromBase64(b64));
    return out;
  }

  async put(config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata, newVersions: ChannelVersions): Promise<RunnableConfig> {
    if (config.configurable === undefined) throw new Error(`Missing "configurable" field in "config" param`);
    const { thread_id, checkpoint_ns = "", checkpoint_id: parentId } = config.configurable;
    if (!thread_id) throw new Error(`Missing "thread_id" field in "config.configurable" param`);
    await this.setup();
    const sessionId = (await this.sessionFor(thread_id, checkpoint_ns, true))!;

    const { channel_values: channelValues = {}, ...rest } = checkpoint;
    const versions = checkpoint.channel_versions ?? {};
    const carried = Object.keys(versions).filter((c) => !(c in newVersions) && c in channelValues);
    const known = carried.length ? await this.knownVersions(sessionId, parentId) : {};

    const state: StoredState = { checkpoint: rest, values: {} };
    const stored: Record<string, string> = {};
    for (const [c, value] of Object.entries(channelValues)) {
      if (!(c in versions)) continue;
      const version = String(versions[c]);
      const fresh = c in newVersions && String(newVersions[c]) === version;
      if (!fresh && known[c] !== version) continue; // never stored at this version: the contract hides it
      const enc = await this.encodeValue(value);
      if (enc.blob) (state.blobs ??= {})[c] = enc.blob;
      else state.values[c] = enc.json;
      stored[c] = version;
    }
    const [, metaBytes] = await this.serde.dumpsTyped(metadata);
    const meta = JSON.parse(decoder.decode(metaBytes).replace(/\\u0000/g, ""));

    const save = (sid: string) =>
      this.q(
        `WITH s AS (SELECT snapshot_number FROM ${this.ext}.create_session_snapshot(p_session_id => $1, p_snapshot_data => $2::jsonb, p_sync_messages => false))
         INSERT INTO ${this.t("langgraph_checkpoints")} AS c (session_id, checkpoint_id, snapshot_number, parent_checkpoint_id, metadata, stored)
         SELECT $1, $3, s.snapshot_number, $4, $5::jsonb, $6::jsonb FROM s
         ON CONFLICT (session_id, checkpoint_id) DO UPDATE SET snapshot_number = EXCLUDED.snapshot_number,
           parent_checkpoint_id = EXCLUDED.parent_checkpoint_id, metadata = EXCLUDED.metadata, stored = EXCLUDED.stored`,
        [sid, JSON.stringify(state), checkpoint.id, parentId ?? null, JSON.stringify(meta), JSON.stringify(stored)],
      );
    try {
      await save(sessionId);
    } catch (e) {
      if (!(e instanceof NotFoundError)) throw e;
      // the session went away under a cached id (another process deleted the thread)
      this.sessions.delete(JSON.stringify([thread_id, checkpoint_ns]));
      await save((await this.sessionFor(thread_id, checkpoint_ns, true))!);
    }
    this.remember(sessionId, checkpoint.id, stored);
    return { configurable: { thread_id, checkpoint_ns, checkpoint_id: checkpoint.id } };
  }

  private remember(sessionId: string, checkpointId: string, stored: Record<string, string>) {
    this.storedCache.set(sessionId + "/" + checkpointId, stored);
    if (this.storedCache.size > 1000) this.storedCache.delete(this.storedCache.keys().next().value!);
  }

  /** Channel versions held by the parent checkpoint or the thread's latest one. */
  private async knownVersions(sessionId: string, parentId: string | undefined): Promise<Record<string, string>> {
    if (parentId) {
      const hit = this.storedCache.get(sessionId + "/" + parentId);
      if (hit) return hit;
    }
    const { rows } = await this.q(
      `(SELECT stored FROM ${this.t("langgraph_checkpoints")} WHERE session_id = $1 AND checkpoint_id = $2)
       UNION ALL
       (SELECT stored FROM ${this.t("langgraph_checkpoints")} WHERE session_id = $1 ORDER BY checkpoint_id DESC LIMIT 1)`,
      [sessionId, parentId ?? null],
    );
    return Object.assign({}, ...rows.map((r) => r.stored).reverse());
  }

  async putWrites(config: RunnableConfig, writes: PendingWrite[], taskId: string, taskPath = ""): Promise<void> {
    const { thread_id, checkpoint_ns = "", checkpoint_id } = config.configurable ?? {};
    if (!thread_id || !checkpoint_id) throw new Error("putWrites needs thread_id and checkpoint_id in config.configurable");
    if (writes.length === 0) return;
    await this.setup();
    const sessionId = (await this.sessionFor(thread_id, checkpoint_ns, true))!;
    const idx: number[] = [];
    const channels: string[] = [];
    const types: string[] = [];
    const values: Buffer[] = [];
    for (const [i, [channel, value]] of writes.entries()) {
      const [type, bytes] = await this.serde.dumpsTyped(value);
      idx.push((WRITES_IDX_MAP as Record<string, number>)[channel] ?? i);
      channels.push(channel);
      types.push(type);
      values.push(Buffer.from(typeof bytes === "string" ? encoder.encode(bytes) : bytes));
    }
    // special channels (errors, interrupts, ...) have fixed indexes and replace what was there
    const upsert = writes.every(([c]) => c in WRITES_IDX_MAP);
    await this.q(
      `INSERT INTO ${this.t("langgraph_writes")} (session_id, checkpoint_id, task_id, task_path, idx, channel, type, value)
       SELECT $1, $2, $3, $4, * FROM unnest($5::int[], $6::text[], $7::text[], $8::bytea[])
       ON CONFLICT (session_id, checkpoint_id, task_id, idx) DO ${
         upsert ? "UPDATE SET channel = EXCLUDED.channel, type = EXCLUDED.type, value = EXCLUDED.value, task_path = EXCLUDED.task_path" : "NOTHING"
       }`,
      [sessionId, checkpoint_id, taskId, taskPath, idx, channels, types, values],
    );
  }

  async getTuple(config: RunnableConfig): Promise<CheckpointTuple | undefined> {
    const { thread_id, checkpoint_ns = "", checkpoint_id } = config.configurable ?? {};
    if (!thread_id) return undefined;
    const where = ["t.thread_id = $1", "t.checkpoint_ns = $2"];
    const args: unknown[] = [thread_id, checkpoint_ns];
    if (checkpoint_id) {
      args.push(checkpoint_id);
      where.push(`c.checkpoint_id = $3`);
    }
    const [tuple] = await this.select(where, args, 1);
    return tuple;
  }

  async *list(config: RunnableConfig, options: CheckpointListOptions = {}): AsyncGenerator<CheckpointTuple> {
    const { filter, before, limit } = options;
    const where: string[] = [];
    const args: unknown[] = [];
    const cfg = config?.configurable ?? {};
    if (cfg.thread_id) where.push(`t.thread_id = $${args.push(cfg.thread_id)}`);
    if (cfg.checkpoint_ns !== undefined && cfg.checkpoint_ns !== null) where.push(`t.checkpoint_ns = $${args.push(cfg.checkpoint_ns)}`);
    if (cfg.checkpoint_id) where.push(`c.checkpoint_id = $${args.push(cfg.checkpoint_id)}`);
    if (filter && Object.keys(filter).length > 0) where.push(`c.metadata @> $${args.push(JSON.stringify(filter))}::jsonb`);
    if (before?.configurable?.checkpoint_id !== undefined) where.push(`c.checkpoint_id < $${args.push(before.configurable.checkpoint_id)}`);
    for (const tuple of await this.select(where, args, limit)) yield tuple;
  }

  /** One round trip: the checkpoint rows, their snapshots (restored by the extension) and writes. */
  private async select(where: string[], args: unknown[], limit: number | undefined): Promise<CheckpointTuple[]> {
    await this.setup();
    const lim = limit !== undefined ? ` LIMIT ${Math.max(0, Math.trunc(Number(limit)))}` : "";
    const { rows } = await this.q(
      `SELECT c.thread_id, c.checkpoint_ns, c.checkpoint_id, c.parent_checkpoint_id, c.metadata, s.snapshot_data AS state,
         (SELECT json_agg(json_build_array(w.task_id, w.channel, w.type, encode(w.value, 'base64'))
                          ORDER BY w.task_path, w.task_id, w.idx)
            FROM ${this.t("langgraph_writes")} w
           WHERE w.session_id = c.session_id AND w.checkpoint_id = c.checkpoint_id) AS writes,
         (SELECT json_agg(json_build_array(w.type, encode(w.value, 'base64')) ORDER BY w.task_path, w.task_id, w.idx)
            FROM ${this.t("langgraph_writes")} w
           WHERE (s.snapshot_data->'checkpoint'->>'v')::int < 4 AND c.parent_checkpoint_id IS NOT NULL
             AND w.session_id = c.session_id AND w.checkpoint_id = c.parent_checkpoint_id AND w.channel = $${args.length + 1}) AS sends
       FROM (SELECT t.thread_id, t.checkpoint_ns, c.*
               FROM ${this.t("langgraph_threads")} t JOIN ${this.t("langgraph_checkpoints")} c ON c.session_id = t.session_id
              ${where.length ? "WHERE " + where.join(" AND ") : ""}
              ORDER BY c.checkpoint_id DESC${lim}) c
       CROSS JOIN LATERAL ${this.ext}.get_snapshot(c.session_id, c.snapshot_number) s
       ORDER BY c.checkpoint_id DESC`,
      [...args, TASKS],
    );
    return Promise.all(rows.map((r) => this.toTuple(r)));
  }

  private async toTuple(r: any): Promise<CheckpointTuple> {
    const state = r.state as StoredState;
    const checkpoint = {
      ...state.checkpoint,
      channel_versions: { ...(state.checkpoint.channel_versions ?? {}) },
      versions_seen: state.checkpoint.versions_seen ?? {},
      channel_values: await this.decodeValues(state),
    } as Checkpoint;
    if (r.sends) {
      // checkpoints older than v4 kept pending sends as writes of their parent
      checkpoint.channel_values[TASKS] = await Promise.all(
        (r.sends as [string, string][]).map(([type, b64]) => this.serde.loadsTyped(type, fromBase64(b64))),
      );
      const vs = Object.values(checkpoint.channel_versions);
      checkpoint.channel_versions[TASKS] = vs.length > 0 ? maxChannelVersion(...vs) : this.getNextVersion(undefined);
    }
    const [type, bytes] = await this.serde.dumpsTyped(r.metadata);
    const metadata = (await this.serde.loadsTyped(type, bytes)) as CheckpointMetadata;
    const pendingWrites = await Promise.all(
      ((r.writes ?? []) as [string, string, string, string][]).map(
        async ([taskId, channel, t, b64]) => [taskId, channel, await this.serde.loadsTyped(t, fromBase64(b64))] as [string, string, unknown],
      ),
    );
    const ids = { thread_id: r.thread_id, checkpoint_ns: r.checkpoint_ns };
    return {
      config: { configurable: { ...ids, checkpoint_id: r.checkpoint_id } },
      checkpoint,
      metadata,
      parentConfig: r.parent_checkpoint_id ? { configurable: { ...ids, checkpoint_id: r.parent_checkpoint_id } } : undefined,
      pendingWrites,
    };
  }

  async deleteThread(threadId: string): Promise<void> {
    await this.setup();
    await this.q(
      `WITH t AS (DELETE FROM ${this.t("langgraph_threads")} WHERE thread_id = $1 RETURNING session_id),
            c AS (DELETE FROM ${this.t("langgraph_checkpoints")} WHERE session_id IN (SELECT session_id FROM t)),
            w AS (DELETE FROM ${this.t("langgraph_writes")} WHERE session_id IN (SELECT session_id FROM t))
       DELETE FROM ${this.ext}.free_agent_sessions WHERE id IN (SELECT session_id FROM t)`,
      [threadId],
    );
    for (const [k, sid] of this.sessions) {
      if (JSON.parse(k)[0] === threadId) {
        this.sessions.delete(k);
        for (const ck of this.storedCache.keys()) if (ck.startsWith(sid + "/")) this.storedCache.delete(ck);
      }
    }
  }
}
