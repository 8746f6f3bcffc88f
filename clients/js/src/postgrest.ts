import { classForCode, classForStatus, SessionPersistError, TransientError } from "./errors.js";
import { definedArgs, type CallOptions, type ResultShape, type Transport } from "./transport.js";

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface PostgrestTransportOptions {
  /** the PostgREST root, e.g. `https://xyz.supabase.co/rest/v1` or `http://localhost:3000` */
  url: string;
  /** the user's JWT (or a function returning the current one) sent as `Authorization: Bearer` */
  token?: string | (() => string | undefined | Promise<string | undefined>);
  /** Supabase's `apikey` header (the anon key) */
  apiKey?: string;
  /** the schema the extension lives in, when it is not PostgREST's default (Content-Profile) */
  schema?: string;
  /** defaults to globalThis.fetch */
  fetch?: FetchLike;
  headers?: Record<string, string>;
}

interface PostgrestErrorBody {
  code?: string;
  message?: string;
  details?: string | null;
  hint?: string | null;
}

/**
 * session_persist over PostgREST / Supabase RPC: `POST {url}/rpc/{function}` with the named
 * arguments as the JSON body and the JWT, using only fetch. Errors are mapped from the body's
 * code (P0002, 40001, ... or PT404, PT409, PT413 with session_persist.http_status_codes on)
 * and, when the code is not one of ours, from the HTTP status.
 */
export class PostgrestTransport implements Transport {
  private readonly fetchFn: FetchLike;
  constructor(readonly options: PostgrestTransportOptions) {
    const f = options.fetch ?? (globalThis.fetch as FetchLike | undefined);
    if (!f) throw new TypeError("no fetch: pass options.fetch");
    this.fetchFn = f;
  }

  async headers(): Promise<Record<string, string>> {
    const h: Record<string, string> = { "Content-Type": "application/json", Accept: "application/json" };
    if (this.options.apiKey) h.apikey = this.options.apiKey;
    const token = typeof this.options.token === "function" ? await this.options.token() : this.options.token;
    if (token) h.Authorization = `Bearer ${token}`;
    if (this.options.schema) h["Content-Profile"] = this.options.schema;
    return { ...h, ...this.options.headers };
  }

  /** The request a call makes (used by call; exposed for tests and for custom senders). */
  async request(fn: string, args: Record<string, unknown>, options: CallOptions = {}): Promise<[string, RequestInit]> {
    const body = JSON.stringify(Object.fromEntries(definedArgs(args).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v])));
    const init: RequestInit = { method: "POST", headers: await this.headers(), body };
    if (options.keepalive) init.keepalive = true;
    if (options.signal) init.signal = options.signal;
    return [`${this.options.url.replace(/\/+$/, "")}/rpc/${encodeURIComponent(fn)}`, init];
  }

  async call(fn: string, args: Record<string, unknown>, shape: ResultShape, options: CallOptions = {}): Promise<unknown> {
    const [url, init] = await this.request(fn, args, options);
    let res: Response;
    try {
      res = await this.fetchFn(url, init);
    } catch (err) {
      if ((err as Error)?.name === "AbortError") throw err;
      // fetch rejects only when the request never got a response: network down, DNS, reset
      throw new TransientError(`request to ${fn} failed: ${(err as Error)?.message ?? err}`, { cause: err });
    }
    const text = await res.text();
    if (!res.ok) throw postgrestError(res.status, text, fn);
    const value: unknown = text === "" ? null : JSON.parse(text);
    switch (shape) {
      case "scalar":
        return value ?? null;
      case "row":
        return Array.isArray(value) ? value[0] : (value ?? undefined);
      case "rows":
        return Array.isArray(value) ? value : value == null ? [] : [value];
      case "column":
        return Array.isArray(value) ? value : [value];
    }
  }
}

/** Maps a PostgREST error response ({code, message, details, hint} and the status). */
export function postgrestError(status: number, bodyText: string, fn = "rpc"): SessionPersistError {
  let body: PostgrestErrorBody = {};
  try {
    const parsed = JSON.parse(bodyText);
    if (parsed && typeof parsed === "object") body = parsed;
  } catch {
    body = { message: bodyText };
  }
  const fields = {
    code: body.code,
    detail: body.details ?? undefined,
    hint: body.hint ?? undefined,
    status,
  };
  const message = body.message || `${fn}: HTTP ${status}`;
  const cls = classForCode(body.code) ?? classForStatus(status) ?? (status >= 500 && !body.code ? TransientError : SessionPersistError);
  return new cls(message, fields);
}
