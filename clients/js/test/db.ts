import pg from "pg";
import { PgTransport, SessionStore } from "../src/index.js";

export function newPool(max = 4): pg.Pool {
  const pool = new pg.Pool({ max });
  pool.on("error", () => {});
  return pool;
}

export async function newSession(store: SessionStore, name = "test"): Promise<string> {
  return (await store.createSession(name)).id;
}

export function storeOver(pool: pg.Pool): SessionStore {
  return new SessionStore(new PgTransport(pool));
}

/** Resolves with the next event of that name. */
export function next<T>(emitter: { on(e: string, l: (p: T) => void): () => void }, event: string): Promise<T> {
  return new Promise((resolve) => {
    const off = emitter.on(event, (p) => {
      off();
      resolve(p);
    });
  });
}
