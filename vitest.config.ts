/**
 * The tests in two tiers, as two vitest projects.
 *
 * `unit`, the edit-test loop (`npm run test:unit`): autograd, compile, nn, the cpu and wasm kernels
 * and the model — test/autograd, test/compile, test/nn, test/vae, test/kernels and test/*.test.ts.
 * A file there that starts a child process is named *.process.test.ts and belongs to the slow tier,
 * and so does test/kernels/gpu/, which starts a (software) GPU. The tier must finish within a
 * minute on two cores, so a test gets 20 s: a hang shows at once instead of after two minutes.
 *
 * `slow`, every other test file: the browser (Chromium), the packed tarball, the lab, the CLI end to
 * end and the application's files, the docs' examples, the gpu backend. The machines are shared and
 * slow at times, and these tests drive processes and devices: they fail on what they check, not on
 * time (120 s). `npm test` runs both tiers, as CI does.
 */
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/** toThrow(/message/) fails on a thrown value that is not an Error (see the file). */
export const setupFiles = ["test/setup/errors-only.ts"];

/** Whether a test file (a path from the repository's root) is in the unit tier. */
export function isUnitTest(file: string): boolean {
  const inUnitFolder =
    /^test\/(autograd|compile|nn|vae|kernels)\//.test(file) || /^test\/[^/]+\.test\.ts$/.test(file);
  return inUnitFolder && !file.startsWith("test/kernels/gpu/") && !file.endsWith(".process.test.ts");
}

const testFiles = readdirSync(fileURLToPath(new URL("test", import.meta.url)), {
  recursive: true,
  encoding: "utf8",
})
  .map((path) => `test/${path.replaceAll("\\", "/")}`)
  .filter((path) => path.endsWith(".test.ts") && !path.includes("/node_modules/"));

export default defineConfig({
  test: {
    setupFiles,
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: testFiles.filter(isUnitTest),
          // Worker threads start faster than processes, and no file here starts a process of its own;
          // files share a worker's modules rather than each loading the library anew (a minute on
          // two cores became 42 s). Every file here restores what it changes (the backend, the seed).
          pool: "threads",
          isolate: false,
          testTimeout: 20_000,
          hookTimeout: 20_000,
        },
      },
      {
        extends: true,
        test: {
          name: "slow",
          include: testFiles.filter((file) => !isUnitTest(file)),
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
