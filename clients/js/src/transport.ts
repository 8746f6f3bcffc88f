/**
 * How a SessionStore reaches the extension: one remote call of a session_persist function
 * with named p_* arguments, so the same store runs over `pg` and over PostgREST RPC.
 */

/** What a function returns: one value, one row (or none), rows, or one column of rows. */
export type ResultShape = "scalar" | "row" | "rows" | "column";

export interface CallOptions {
  /** Browsers: keep the request alive while the page unloads (fetch keepalive). */
  keepalive?: boolean;
  signal?: AbortSignal;
}

export interface Transport {
  /**
   * Calls `fn` with named arguments (undefined ones are left out so the SQL default applies).
   * Resolves to the scalar, the row (undefined when none), the rows, or the column's values.
   * Rejects with a SessionPersistError subclass for the extension's errors and with
   * TransientError for failures worth retrying.
   */
  call(fn: string, args: Record<string, unknown>, shape: ResultShape, options?: CallOptions): Promise<unknown>;
}

/** Arguments without the undefined ones. */
export function definedArgs(args: Record<string, unknown>): [string, unknown][] {
  return Object.entries(args).filter(([, v]) => v !== undefined);
}

/** A JSON document argument (jsonb): plain objects and arrays. */
export function isJsonDocument(v: unknown): boolean {
  return v !== null && typeof v === "object" && !(v instanceof Date) && !(v instanceof Uint8Array);
}
