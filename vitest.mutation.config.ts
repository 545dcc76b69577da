/**
 * The tests StrykerJS runs against each mutant of the book (src/autograd, src/nn, src/vae, src/train-mnist): the
 * book's own tests. The kernel tests (test/kernels) exercise the engine room's backends, which are
 * not mutated, and take minutes on llvmpipe. The end-to-end runs of `npm run train:mnist` are left
 * out too: test/train-mnist/cli.test.ts runs the CLI as a child process in every test, and Stryker
 * activates no mutant there, so they can kill none, and on a loaded machine their waits for the
 * child's output are what fails a dry run. One project, not vitest.config.ts's two tiers, with the
 * slow tier's timeout: instrumented code runs several times slower.
 */
import { configDefaults, defineConfig } from "vitest/config";
import { setupFiles } from "./vitest.config.ts";

/** The book's tests, or the ones `npm run test:mutation -- … --tests a,b` names (ELBO_MUTATION_TESTS). */
const chosen = process.env.ELBO_MUTATION_TESTS?.split(",").filter((glob) => glob !== "");

export default defineConfig({
  test: {
    setupFiles,
    include: chosen ?? [
      "test/autograd/**/*.test.ts",
      "test/nn/**/*.test.ts",
      "test/vae/**/*.test.ts",
      "test/train-mnist/**/*.test.ts",
    ],
    exclude: [...configDefaults.exclude, "test/train-mnist/cli.test.ts", "**/*.process.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
