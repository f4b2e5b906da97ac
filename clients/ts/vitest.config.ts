import { defineConfig } from "vitest/config";

// The client suite: talks to the real server that scripts/clients/run-suites.mjs starts
// (MLCACHE_SERVER for gRPC, MLCACHE_HTTP for Connect).
export default defineConfig({
  // Keep vitest's cache with the root one, not in a clients/ts/node_modules of its own.
  cacheDir: "../../node_modules/.vite/client-ts",
  test: {
    name: "client-ts",
    root: import.meta.dirname,
    include: ["test/**/*.test.ts"],
    environment: "node",
    testTimeout: 30_000,
  },
});
