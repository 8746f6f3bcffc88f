import type { CallOptions, Transport } from "./transport.js";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };
export type Visibility = "private" | "organization" | "public";

export interface Session {
  id: string;
  user_id: string;
  organization_id: string | null;
  name: string;
  description: string | null;
  model: string | null;
  status: string;
  current_state: string | null;
  visibility: Visibility;
  memory_summary: Json | null;
  metadata: JsonObject;
  created_at: string | Date;
  updated_at: string | Date;
  completed_at: string | Date | null;
  snapshot_count: number;
  latest_snapshot_number: number;
  last_snapshot_at: string | Date | null;
  latest_snapshot_size: number | string;
  total_snapshot_size: number | string;
  stored_bytes: number | string;
  message_count: number;
  last_message_at: string | Date | null;
}

export interface SaveResult {
  id: string;
  session_id: string;
  snapshot_number: number;
  /** false: the state equals the latest, nothing was written */
  created: boolean;
  kind: "full" | "delta";
  snapshot_size: number;
  stored_bytes: number;
  created_at: string | Date;
}

export interface Snapshot<S = JsonObject> {
  id: string;
  snapshot_number: number;
  snapshot_data: S;
  snapshot_size: number;
  created_at: string | Date;
  metadata: JsonObject;
}

export interface Message {
  id: string;
  message_order: number;
  role: "system" | "user" | "assistant" | "tool";
  content: string;
  metadata: JsonObject | null;
  created_at: string | Date;
}

export interface NewMessage {
  role: "system" | "user" | "assistant" | "tool";
  content: Json;
  [key: string]: Json;
}

export interface SessionSummary {
  session_id: string;
  name: string;
  status: string;
  model: string | null;
  visibility: Visibility;
  snapshot_count: number;
  latest_snapshot_number: number;
  last_snapshot_at: string | Date | null;
  latest_snapshot_size: number;
  total_snapshot_size: number;
  stored_bytes: number;
  message_count: number;
  last_message_at: string | Date | null;
  created_at: string | Date;
  updated_at: string | Date;
}

export interface VerifyProblem {
  snapshot_number: number;
  problem: string;
}

export interface SizeStats {
  count: number;
  total: number;
  min: number;
  max: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
}

export interface StorageReportRow {
  user_id: string;
  sessions: number;
  snapshots: number;
  logical_bytes: number;
  stored_bytes: number;
  stored_ratio: number;
  snapshot_sizes: SizeStats | string | null;
}

export interface SaveOptions {
  /** the number the state was restored from (0: none): a newer snapshot makes this a ConflictError */
  expectedNumber?: number;
  metadata?: JsonObject;
  /** sync the state's top-level `messages` to the history (default true) */
  syncMessages?: boolean;
}

export interface CreateSessionOptions {
  model?: string;
  description?: string;
  metadata?: JsonObject;
  visibility?: Visibility;
}

/** bigint and numeric columns arrive as strings from pg; these are byte counts well below 2^53. */
function num(v: unknown): number {
  return typeof v === "string" ? Number(v) : (v as number);
}

function numbers<T>(row: T, keys: (keyof T)[]): T {
  if (!row) return row;
  for (const k of keys) if (row[k] !== null && row[k] !== undefined) (row as Record<keyof T, unknown>)[k] = num(row[k]);
  return row;
}

/**
 * Typed calls of every session_persist function (docs/functions.md) over a Transport.
 * Errors arrive as NotFoundError, ConflictError, TooLargeError, ForbiddenError, CorruptError,
 * InvalidInputError or TransientError.
 */
export class SessionStore {
  constructor(readonly transport: Transport) {}

  async createSession(name: string, options: CreateSessionOptions = {}): Promise<Session> {
    const row = (await this.transport.call(
      "create_session",
      {
        p_name: name,
        p_model: options.model,
        p_description: options.description,
        p_metadata: options.metadata,
        p_visibility: options.visibility,
      },
      "row",
    )) as Session;
    return numbers(row, ["latest_snapshot_size", "total_snapshot_size", "stored_bytes"]);
  }

  /** create_session_snapshot: saves a state (a JSON object); an equal state writes nothing. */
  async saveSnapshot(sessionId: string, state: JsonObject | object, options: SaveOptions = {}, call?: CallOptions): Promise<SaveResult> {
    const row = (await this.transport.call(
      "create_session_snapshot",
      {
        p_session_id: sessionId,
        p_snapshot_data: state,
        p_expected_number: options.expectedNumber,
        p_metadata: options.metadata,
        p_sync_messages: options.syncMessages,
      },
      "row",
      call,
    )) as SaveResult;
    return numbers(row, ["snapshot_size", "stored_bytes"]);
  }

  /** get_latest_snapshot: the latest state, null when the session has no snapshot. */
  async getLatestSnapshot<S = JsonObject>(sessionId: string): Promise<S | null> {
    return ((await this.transport.call("get_latest_snapshot", { p_session_id: sessionId }, "scalar")) ?? null) as S | null;
  }

  /** get_snapshot: one kept snapshot (the latest when number is omitted); undefined when none. */
  async getSnapshot<S = JsonObject>(sessionId: string, snapshotNumber?: number): Promise<Snapshot<S> | undefined> {
    const row = (await this.transport.call(
      "get_snapshot",
      { p_session_id: sessionId, p_snapshot_number: snapshotNumber },
      "row",
    )) as Snapshot<S> | undefined;
    return row ? numbers(row, ["snapshot_size"]) : undefined;
  }

  /** cleanup_old_snapshots: keeps the newest keepCount; returns how many were deleted. */
  async cleanupOldSnapshots(sessionId: string, keepCount?: number, olderThan?: Date | string): Promise<number> {
    return num(
      await this.transport.call(
        "cleanup_old_snapshots",
        { p_session_id: sessionId, p_keep_count: keepCount, p_older_than: olderThan },
        "scalar",
      ),
    );
  }

  /** cleanup_all_snapshots: the same for every session the caller may write. */
  async cleanupAllSnapshots(keepCount?: number, olderThan?: Date | string): Promise<number> {
    return num(await this.transport.call("cleanup_all_snapshots", { p_keep_count: keepCount, p_older_than: olderThan }, "scalar"));
  }

  /** append_session_messages: the new message_order values. */
  async appendMessages(sessionId: string, messages: NewMessage[]): Promise<number[]> {
    return (await this.transport.call(
      "append_session_messages",
      { p_session_id: sessionId, p_messages: messages },
      "column",
    )) as number[];
  }

  /** get_session_messages: a page of history after message_order `after` (limit 1 to 1000). */
  async getMessages(sessionId: string, after?: number, limit?: number): Promise<Message[]> {
    return (await this.transport.call(
      "get_session_messages",
      { p_session_id: sessionId, p_after: after, p_limit: limit },
      "rows",
    )) as Message[];
  }

  async exportSession(sessionId: string): Promise<JsonObject> {
    return (await this.transport.call("export_session", { p_session_id: sessionId }, "scalar")) as JsonObject;
  }

  /** import_session: the new session's id. */
  async importSession(document: JsonObject): Promise<string> {
    return (await this.transport.call("import_session", { p_document: document }, "scalar")) as string;
  }

  /** fork_session: a new session of the caller's starting at that snapshot (default: latest). */
  async forkSession(sessionId: string, snapshotNumber?: number, name?: string): Promise<string> {
    return (await this.transport.call(
      "fork_session",
      { p_session_id: sessionId, p_snapshot_number: snapshotNumber, p_name: name },
      "scalar",
    )) as string;
  }

  /** verify_session: no rows when chain, hashes and counters are sound. */
  async verifySession(sessionId: string): Promise<VerifyProblem[]> {
    return (await this.transport.call("verify_session", { p_session_id: sessionId }, "rows")) as VerifyProblem[];
  }

  async getSessionSummary(sessionId: string): Promise<SessionSummary | undefined> {
    const row = (await this.transport.call("get_session_summary", { p_session_id: sessionId }, "row")) as
      | SessionSummary
      | undefined;
    return row ? numbers(row, ["latest_snapshot_size", "total_snapshot_size", "stored_bytes"]) : undefined;
  }

  async storageReport(userId?: string): Promise<StorageReportRow[]> {
    const rows = (await this.transport.call("storage_report", { p_user_id: userId }, "rows")) as StorageReportRow[];
    return rows.map((r) => numbers(r, ["sessions", "snapshots", "logical_bytes", "stored_bytes", "stored_ratio"]));
  }
}
