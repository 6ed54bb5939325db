import { defineConfig } from "vitest/config";

// Two layers: `unit` (pure, no I/O, *.test.ts next to the code) and
// `integration` (*.int.test.ts: real Postgres + real Mosquitto, run serially).
export default defineConfig({
  resolve: { alias: { "@": new URL("./", import.meta.url).pathname } },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["lib/**/*.test.ts", "components/**/*.test.ts", "scripts/**/*.test.ts"],
          exclude: ["**/*.int.test.ts", "node_modules/**"],
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["lib/**/*.int.test.ts", "scripts/**/*.int.test.ts"],
          // Route handlers called in these tests record their answers for the contract check
          // (lib/api/contract-log.ts, scripts/contract-check.ts), as the servers they start do.
          env: { KEEPWATCH_CONTRACT_LOG: process.env.KEEPWATCH_CONTRACT_LOG || ".contract-log" },
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
