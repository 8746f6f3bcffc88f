import pg from "pg";

/** The tests run against the server in PG* (a throwaway pg_virtualenv cluster, see run-tests). */
export default async function setup() {
  if (!process.env.PGPORT && !process.env.PGHOST) throw new Error("no server: run the tests through ./run-tests (PG* unset)");
  const client = new pg.Client();
  await client.connect();
  try {
    await client.query("CREATE EXTENSION IF NOT EXISTS session_persist");
  } finally {
    await client.end();
  }
}
