/**
 * The backend conformance suite (test/kernels/conformance.ts, the module vitest runs in Node) run
 * in headless Chromium: bundled from the sources by esbuild with test/browser/conformance-page.ts,
 * served on 127.0.0.1 (cross-origin isolated, so the wasm backend has its threads).
 * cpu and wasm must pass every check. The gpu backend runs on WebGL2 and, where this Chromium
 * offers it, WebGPU (both on SwiftShader without a GPU); its finite-value kernels are checked by
 * the package test's page, and what the suite finds here (IEEE special values through the shaders)
 * is printed, not asserted: see the README's Precision paragraph.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sharedTempDir } from "../fixtures/temp-dir.ts";
import { chromiumInstalled, chromiumPath, launchChromium, runPage } from "./chromium.ts";
import { type Served, serve } from "./serve.ts";

const repo = resolve(import.meta.dirname, "../..");
const haveChromium = chromiumInstalled();
if (!haveChromium && process.env.ELBO_REQUIRE_BROWSER === "1")
  throw new Error(`ELBO_REQUIRE_BROWSER=1 but there is no Chromium at ${chromiumPath}`);

interface Results {
  target: string;
  checks: number;
  failures: string[];
  error?: string;
}

describe.skipIf(!haveChromium)(
  `the conformance suite in headless Chromium${haveChromium ? "" : ` (SKIPPED: no ${chromiumPath})`}`,
  () => {
    const out = sharedTempDir("elbo-conformance-");
    let browser: Browser;
    let server: Served;
    beforeAll(async () => {
      execFileSync(join(repo, "node_modules/.bin/esbuild"), [
        join(repo, "test/browser/conformance-page.ts"),
        "--bundle",
        "--platform=browser",
        "--format=esm",
        "--log-level=error",
        `--outfile=${join(out, "app.js")}`,
      ]);
      writeFileSync(
        join(out, "index.html"),
        '<!doctype html><meta charset="utf-8"><script type="module" src="app.js"></script>',
      );
      server = await serve(out, {}, true);
      browser = await launchChromium();
    }, 120_000);
    afterAll(async () => {
      await browser?.close();
      await server?.close();
    });

    async function suite(query: string): Promise<Results> {
      const { results, errors } = await runPage<Results>(
        browser,
        `${server.url}/?${query}`,
        "conformanceResults",
      );
      expect(results.error, results.error).toBeUndefined();
      expect(errors).toEqual([]);
      return results;
    }

    it.each(["cpu", "wasm"])("%s passes every check", async (backend) => {
      const results = await suite(`backend=${backend}`);
      expect(results.checks).toBeGreaterThan(40);
      expect(results.failures).toEqual([]);
    });

    it.each(["webgl2", "webgpu"])("gpu on %s runs the suite; what it breaks is printed", async (mode) => {
      const results = await suite(`backend=gpu&mode=${mode}`);
      expect(results.target).toContain(`gpu.js ${mode}`);
      console.log(
        `conformance on ${results.target}: ${results.failures.length} of ${results.checks} checks fail:\n  ${results.failures.join("\n  ")}`,
      );
    });
  },
);
