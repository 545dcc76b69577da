/**
 * The tests StrykerJS runs against each mutant of the book (src/autograd, src/nn, src/vae): the
 * book's own tests. The kernel tests (test/kernels) exercise the engine room's backends, which are
 * not mutated, and take minutes on llvmpipe. The end-to-end runs of `npm run train:mnist` are left
 * out too: they run the code in a child process, where Stryker activates no mutant, so they can
 * kill none, and they take minutes each.
 */
import { defineConfig, mergeConfig } from "vitest/config";
import base from "./vitest.config.ts";

export default mergeConfig(
  base,
  defineConfig({
    test: {
      include: ["test/autograd/**/*.test.ts", "test/nn/**/*.test.ts", "test/vae/**/*.test.ts"],
      testNamePattern: /^(?!npm run train:mnist)/,
    },
  }),
);
