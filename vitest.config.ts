import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // toThrow(/message/) fails on a thrown value that is not an Error (see the file).
    setupFiles: ["test/setup/errors-only.ts"],
    // The machines are shared and slow at times: a test fails on what it checks, never on time.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
