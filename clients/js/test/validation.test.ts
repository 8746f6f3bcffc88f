// LangGraph's own checkpointer suite (@langchain/langgraph-checkpoint-validation) against
// SessionPersistSaver. Each checkpointer gets a fresh schema for the saver's tables, so `list`
// without a thread sees only its own checkpoints.
import { specTest } from "@langchain/langgraph-checkpoint-validation";
import pg from "pg";
import { SessionPersistSaver } from "../src/langgraph.js";

let pool: pg.Pool;
let n = 0;
const pools = new Map<SessionPersistSaver, string>();

specTest({
  checkpointerName: "session_persist",
  async beforeAll() {
    pool = new pg.Pool({ max: 4 });
    pool.on("error", () => {});
  },
  async afterAll() {
    await pool.end();
  },
  async createCheckpointer() {
    const schema = `lg_validation_${process.pid}_${++n}`;
    const saver = new SessionPersistSaver(pool, { schema });
    await saver.setup();
    pools.set(saver, schema);
    return saver;
  },
  async destroyCheckpointer(saver: SessionPersistSaver) {
    const schema = pools.get(saver)!;
    pools.delete(saver);
    await pool.query(
      `DELETE FROM free_agent_sessions WHERE id IN (SELECT session_id FROM "${schema}".langgraph_threads);
       DROP SCHEMA "${schema}" CASCADE`,
    );
  },
});
