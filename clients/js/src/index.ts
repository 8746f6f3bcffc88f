export * from "./errors.js";
export * from "./transport.js";
export * from "./store.js";
export * from "./autosaver.js";
export { PgTransport, type PgQueryable, type PgTransportOptions } from "./pg.js";
export { PostgrestTransport, postgrestError, type PostgrestTransportOptions, type FetchLike } from "./postgrest.js";
