import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // the LangGraph validation suite calls describe/it/expect as globals
    globals: true,
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    fileParallelism: true,
  },
});
