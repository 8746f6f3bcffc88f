/**
 * Errors of session_persist, one class per case of docs/errors.md, chosen by SQLSTATE (or,
 * through PostgREST, by its PTnnn code or HTTP status).
 */
export interface ErrorFields {
  /** SQLSTATE (or PostgREST code such as PT409, PGRST301) */
  code?: string;
  detail?: string;
  hint?: string;
  /** HTTP status, when the error came through PostgREST */
  status?: number;
  cause?: unknown;
}

export class SessionPersistError extends Error {
  readonly code?: string;
  readonly detail?: string;
  readonly hint?: string;
  readonly status?: number;
  constructor(message: string, fields: ErrorFields = {}) {
    super(message, fields.cause !== undefined ? { cause: fields.cause } : undefined);
    this.name = new.target.name;
    this.code = fields.code;
    this.detail = fields.detail;
    this.hint = fields.hint;
    this.status = fields.status;
  }
}

/** P0002 / PT404: the session or snapshot does not exist or is not visible to the caller. */
export class NotFoundError extends SessionPersistError {}
/** 40001 / PT409: p_expected_number is not the latest; `latestNumber` is the latest. */
export class ConflictError extends SessionPersistError {
  readonly latestNumber?: number;
  constructor(message: string, fields: ErrorFields = {}) {
    super(message, fields);
    const m = /latest snapshot is (\d+)/i.exec(fields.detail ?? "");
    this.latestNumber = m ? Number(m[1]) : undefined;
  }
}
/** 54000 / PT413: over session_persist.max_snapshot_bytes. */
export class TooLargeError extends SessionPersistError {}
/** 42501 (HTTP 403; 401 from the gateway): not yours to change, or not allowed at all. */
export class ForbiddenError extends SessionPersistError {}
/** XX001: a stored chain or hash does not verify. */
export class CorruptError extends SessionPersistError {}
/** 22004 / 22023 (and other class 22 codes): NULL or malformed argument. */
export class InvalidInputError extends SessionPersistError {}
/** A dropped connection, a deadlock, a server shutting down, a gateway timeout: worth retrying. */
export class TransientError extends SessionPersistError {}

const TRANSIENT_SQLSTATES = new Set([
  "40P01", // deadlock_detected
  "57P01", // admin_shutdown (pg_terminate_backend)
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now
  "53300", // too_many_connections
  "55P03", // lock_not_available (lock_timeout)
  "57014", // query_canceled (statement_timeout)
]);
const TRANSIENT_NODE_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "ENOTFOUND", "EAI_AGAIN", "ECONNABORTED"]);

/** Maps a SQLSTATE (or PostgREST code) to the class for it; undefined when none fits. */
export function classForCode(code: string | undefined): (new (m: string, f?: ErrorFields) => SessionPersistError) | undefined {
  if (!code) return undefined;
  switch (code) {
    case "P0002":
    case "PT404":
      return NotFoundError;
    case "40001":
    case "PT409":
      return ConflictError;
    case "54000":
    case "PT413":
      return TooLargeError;
    case "42501":
      return ForbiddenError;
    case "XX001":
      return CorruptError;
  }
  if (code.startsWith("22")) return InvalidInputError;
  if (TRANSIENT_SQLSTATES.has(code) || code.startsWith("08")) return TransientError;
  return undefined;
}

/** Maps an HTTP status to a class when the body names no known code. */
export function classForStatus(status: number): (new (m: string, f?: ErrorFields) => SessionPersistError) | undefined {
  switch (status) {
    case 400:
      return InvalidInputError;
    case 401:
    case 403:
      return ForbiddenError;
    case 404:
      return NotFoundError;
    case 409:
      return ConflictError;
    case 413:
      return TooLargeError;
    case 408:
    case 429:
    case 502:
    case 503:
    case 504:
      return TransientError;
  }
  return undefined;
}

interface PgLikeError {
  message?: string;
  code?: string;
  detail?: string;
  hint?: string;
}

/**
 * Turns whatever a driver threw into a SessionPersistError subclass when it is one of ours
 * (by SQLSTATE) or a transient failure (connection lost); other errors are returned as is.
 */
export function mapDriverError(err: unknown): unknown {
  if (err instanceof SessionPersistError) return err;
  if (typeof err !== "object" || err === null) return err;
  const e = err as PgLikeError;
  const message = e.message ?? String(err);
  const cls = classForCode(e.code);
  if (cls) return new cls(message, { code: e.code, detail: e.detail, hint: e.hint, cause: err });
  if (e.code && TRANSIENT_NODE_CODES.has(e.code)) return new TransientError(message, { code: e.code, cause: err });
  // node-postgres reports a connection that went away without a code
  if (/Connection terminated|connection (?:was )?(?:closed|lost)|Client has encountered a connection error|socket hang up/i.test(message))
    return new TransientError(message, { cause: err });
  return err;
}

export function isTransient(err: unknown): boolean {
  return err instanceof TransientError;
}
