/**
 * `npm run test:mutation [-- PATH...] [--tests GLOB,GLOB] [--incremental] [--ignore-static] [--concurrency N]`:
 * StrykerJS over the book
 * (stryker.config.mjs), or over the source folders or files named (e.g. `src/nn src/vae/elbo.ts`),
 * with the reports in reports/mutation/<paths>.{html,json}. `--incremental` reuses the results of an
 * earlier run for every mutant whose code and tests did not change; `--concurrency N` runs N test
 * processes at once (the config's 2 by default). `--ignore-static` skips the mutants that run only
 * while modules load (no test reaches them), which StrykerJS must test with the whole suite each;
 * a mutant that a test reaches too is still run, against the tests that reach it. `--tests` runs
 * those test files instead of the book's (vitest.mutation.config.ts), e.g. the kernels' own for
 * `src/kernels/cpu`.
 *
 * StrykerJS is pinned to 9.6, the last release that supports Node 20 (10 declares node >= 22, and
 * with its Babel 8 made `npm ci` print 41 EBADENGINE warnings on Node 20). It is started through
 * its API, which the command line only wraps, so the reports can be named after the paths.
 */
// The Stryker class from its own module: the package's entry also loads the command line.
const { Stryker } = await import(new URL("stryker.js", import.meta.resolve("@stryker-mutator/core")).href);

const args = process.argv.slice(2);
const testsAt = args.indexOf("--tests");
if (testsAt >= 0) {
  if (args[testsAt + 1] === undefined)
    throw new Error("test:mutation: --tests needs a comma-separated list of globs");
  process.env.ELBO_MUTATION_TESTS = args[testsAt + 1];
  args.splice(testsAt, 2);
}
const concurrencyAt = args.indexOf("--concurrency");
const concurrency = concurrencyAt >= 0 ? Number(args[concurrencyAt + 1]) : undefined;
if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency >= 1)) {
  throw new Error(`test:mutation: --concurrency needs a positive integer, got ${args[concurrencyAt + 1]}`);
}
const paths = args
  .filter((a, i) => !a.startsWith("--") && (concurrencyAt < 0 || i !== concurrencyAt + 1))
  .map((a) => a.replace(/\/+$/, ""));
const name = paths.length === 0 ? "book" : paths.map((f) => f.replaceAll("/", "-")).join("+");
const options = {
  reporters: ["clear-text", "progress-append-only", "html", "json"],
  htmlReporter: { fileName: `reports/mutation/${name}.html` },
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
};
if (paths.length > 0) options.mutate = paths.map((p) => (p.endsWith(".ts") ? p : `${p}/**/*.ts`));
if (concurrency !== undefined) options.concurrency = concurrency;
if (args.includes("--ignore-static")) options.ignoreStatic = true;
if (args.includes("--incremental")) {
  options.incremental = true;
  options.incrementalFile = `reports/mutation/${name}.incremental.json`;
}
await new Stryker(options).runMutationTest();
