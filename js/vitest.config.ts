import { defineConfig } from "vitest/config";

// Unit tests only: pure logic with fakes. Real browsers are driven by the Python end-to-end tests.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
    pool: "threads",
    poolOptions: { threads: { maxThreads: 1, minThreads: 1 } },
  },
});
