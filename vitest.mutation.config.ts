/**
 * The tests StrykerJS runs against each mutant of the book (src/autograd, src/nn, src/vae, src/train-mnist): the
 * book's own tests. The kernel tests (test/kernels) exercise the engine room's backends, which are
 * not mutated, and take minutes on llvmpipe. The end-to-end runs of `npm run train:mnist` are left
 * out too, and so is test/train-mnist/cli.test.ts, whose every test runs the CLI as a child process:
 * Stryker activates no mutant there, so they can kill none, and on a loaded machine their waits for
 * the child's output are what fails a dry run.
 */
import { configDefaults, defineConfig, mergeConfig } from "vitest/config";
import base from "./vitest.config.ts";

export default mergeConfig(
  base,
  defineConfig({
    test: {
      include: [
        "test/autograd/**/*.test.ts",
        "test/nn/**/*.test.ts",
        "test/vae/**/*.test.ts",
        "test/train-mnist/**/*.test.ts",
      ],
      exclude: [...configDefaults.exclude, "test/train-mnist/cli.test.ts"],
      testNamePattern: /^(?!npm run train:mnist)/,
    },
  }),
);
