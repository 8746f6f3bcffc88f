import { mapDriverError } from "./errors.js";
import { definedArgs, isJsonDocument, type CallOptions, type ResultShape, type Transport } from "./transport.js";

/** The part of a pg Pool or Client this transport uses (so `pg` stays a peer, types only). */
export interface PgQueryable {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
  on?(event: "error", listener: (err: Error) => void): unknown;
  listenerCount?(event: string): number;
}

export interface PgTransportOptions {
  /** schema the extension was created in; default: found through search_path */
  schema?: string;
}

function quoteIdent(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

/**
 * session_persist over node-postgres: `SELECT * FROM f(p_a => $1, ...)`. Pass a Pool (each
 * call takes a connection, so a dropped one is replaced on the next call) or a Client.
 * JSON documents are sent as text with an explicit ::jsonb cast (pg would turn arrays into
 * PostgreSQL arrays). Rejects with the SessionPersistError subclass for the SQLSTATE.
 */
export class PgTransport implements Transport {
  private readonly prefix: string;

  constructor(
    readonly db: PgQueryable,
    options: PgTransportOptions = {},
  ) {
    this.prefix = options.schema ? quoteIdent(options.schema) + "." : "";
    // A Pool emits "error" when an idle connection dies (pg_terminate_backend, a restart);
    // unhandled, that event ends the process. The next call gets a fresh connection.
    if (db.on && db.listenerCount && db.listenerCount("error") === 0) db.on("error", () => {});
  }

  async call(fn: string, args: Record<string, unknown>, shape: ResultShape, _options?: CallOptions): Promise<unknown> {
    if (!/^[a-z_][a-z0-9_]*$/.test(fn)) throw new TypeError(`not a function name: ${fn}`);
    const values: unknown[] = [];
    const named = definedArgs(args).map(([name, value]) => {
      if (!/^p_[a-z_]+$/.test(name)) throw new TypeError(`not an argument name: ${name}`);
      if (isJsonDocument(value)) {
        values.push(JSON.stringify(value));
        return `${name} => $${values.length}::jsonb`;
      }
      values.push(value instanceof Date ? value.toISOString() : value);
      return `${name} => $${values.length}`;
    });
    const callText = `${this.prefix}${fn}(${named.join(", ")})`;
    const text = shape === "scalar" || shape === "column" ? `SELECT ${callText} AS v` : `SELECT * FROM ${callText}`;
    let rows: Record<string, unknown>[];
    try {
      ({ rows } = await this.db.query(text, values));
    } catch (err) {
      throw mapDriverError(err);
    }
    switch (shape) {
      case "scalar":
        return rows[0]?.v ?? null;
      case "column":
        return rows.map((r) => r.v);
      case "row":
        return rows[0];
      case "rows":
        return rows;
    }
  }
}
