/**
 * Mutation testing of the book (`npm run test:mutation`): StrykerJS plants one small bug at a time
 * in src/autograd, src/nn, src/vae and src/train-mnist and runs the tests that cover it; a mutant the tests let pass
 * is a bug they would not catch. One folder at a time:
 *   npm run test:mutation -- src/nn
 * Slow on two cores (hours for the whole book); not part of CI. Reports go to reports/mutation/.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  testRunner: "vitest",
  vitest: { configFile: "vitest.mutation.config.ts" },
  mutate: ["src/autograd/**/*.ts", "src/nn/**/*.ts", "src/vae/**/*.ts", "src/train-mnist/**/*.ts"],
  // Only the tests that reach a mutant run against it.
  coverageAnalysis: "perTest",
  concurrency: 2,
  // The machines are shared: a slow test is not a killed mutant.
  timeoutFactor: 3,
  timeoutMS: 60_000,
  // The first run of every test, with coverage, takes minutes on a loaded machine.
  dryRunTimeoutMinutes: 30,
  reporters: ["clear-text", "progress", "html", "json"],
  htmlReporter: { fileName: "reports/mutation/index.html" },
  jsonReporter: { fileName: "reports/mutation/mutation.json" },
  tempDirName: ".stryker-tmp",
  cleanTempDir: "always",
};
