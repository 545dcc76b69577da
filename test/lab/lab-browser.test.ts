/**
 * The gradient lab in a real headless Chromium (Debian's, driven by playwright-core): the static
 * build a teacher would host (`npm run lab:build`), served cross-origin isolated, trains the VAE on
 * real MNIST on the wasm backend (threads) and on the gpu backend's WebGL2 path (SwiftShader, a
 * software GL, in CI), with no console errors; the loss it shows falls and its pictures are not
 * blank; the op explorer's gradcheck works. Screenshots of each
 * page mid-training go to test-results/lab/ (git-ignored, kept by CI).
 *
 * Small settings keep it short: 8,000 training images on wasm, batches of 16 on the software GL.
 * Without Chromium it skips and says so, unless ELBO_REQUIRE_BROWSER=1 (CI).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumInstalled, chromiumPath, launchChromium } from "../browser/chromium.ts";
import { type Served, serve } from "../browser/serve.ts";
import { sharedTempDir } from "../fixtures/temp-dir.ts";

const requireBrowser = process.env.ELBO_REQUIRE_BROWSER === "1";
const haveChromium = chromiumInstalled();
if (!haveChromium && requireBrowser) {
  throw new Error(`ELBO_REQUIRE_BROWSER=1 but there is no Chromium at ${chromiumPath}`);
}
if (!haveChromium) console.warn(`lab browser test skipped: no Chromium at ${chromiumPath}`);

const SCREENSHOTS = join("test-results", "lab");

/** What the page leaves on window.lab (lab/main.ts). */
interface Shown {
  steps: number;
  firstLoss: number;
  lastLoss: number;
  reconError: number;
  views: number;
  backend: string;
  detail: string;
  reconstructionSpread: number;
  sampleSpread: number;
  reparameterization: {
    eps: number[];
    mu: number[];
    sigma: number[];
    z: number[];
    dzdmu: number[];
    dzdlogvar: number[];
  } | null;
}

/** The page's window.lab (the test's TypeScript has no DOM types: the page's globalThis is its window). */
const lab = (page: Page): Promise<Shown> =>
  page.evaluate(() => (globalThis as unknown as { lab: Shown }).lab);

/** Open the lab with `query`, train until `steps` steps are shown, and check what every backend must show. */
async function train(browser: Browser, url: string, query: string, steps: number, shot: string) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1500 } });
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${url}/?${query}&autostart=1`);
  await page.waitForFunction(
    (n) => {
      const shown = (globalThis as unknown as { lab: Shown }).lab;
      return shown.steps >= n && shown.views > 1;
    },
    steps,
    { timeout: 500_000, polling: 500 },
  );
  expect(await page.textContent("#error")).toBe("");
  const shown = await lab(page);
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, shot), timeout: 120_000 });
  // At initialisation the loss is about 784·ln 2 ≈ 543 nats; 50 steps of Adam bring it well below 300.
  expect(shown.firstLoss).toBeGreaterThan(500);
  expect(shown.lastLoss).toBeLessThan(300);
  expect(shown.lastLoss).toBeLessThan(shown.firstLoss / 2);
  // Pixel values in [0, 1]: a blank picture has spread 0; digits have ink on a dark ground.
  expect(shown.reconstructionSpread).toBeGreaterThan(0.1);
  expect(shown.sampleSpread).toBeGreaterThan(0.05);
  expect(Number(await page.textContent("#msPerStep"))).toBeGreaterThan(0);
  return { page, shown, errors };
}

describe.skipIf(!haveChromium)("the gradient lab in Chromium", () => {
  let served: Served;
  let browser: Browser;
  const out = sharedTempDir("elbo-lab-build-");

  beforeAll(async () => {
    // The whole lab as a teacher would host it: `npm run lab:build`'s static files.
    await build({ configFile: "lab/vite.config.ts", logLevel: "error", build: { outDir: out } });
    served = await serve(out, {}, true);
    // The page's 2-D canvases are drawn on the CPU: composited through SwiftShader, as WebGL needs it
    // to be here, a page that redraws charts live falls seconds behind.
    browser = await launchChromium(["--disable-accelerated-2d-canvas", "--disable-gpu-compositing"]);
  });

  afterAll(async () => {
    await browser?.close();
    await served?.close();
  });

  it("trains on wasm with threads; the op explorer's gradcheck passes a correct op and catches a broken one", {
    timeout: 600_000,
  }, async () => {
    const { page, shown, errors } = await train(
      browser,
      served.url,
      "backend=wasm&limit=8000",
      50,
      "wasm.png",
    );
    expect(shown.backend).toBe("wasm");
    expect(shown.detail).toMatch(/^\d+ threads?$/);

    // The reparameterization panel answers while training runs (the worker lets messages in between
    // steps): a slider moved twice gives z = μ + σε with ∂z/∂μ = 1 and ∂z/∂logvar = ½σε each time.
    for (const value of [1.5, -0.5]) {
      await page.fill('input[data-dim="0"]', String(value));
      await page.waitForFunction(
        (v) => (globalThis as unknown as { lab: Shown }).lab.reparameterization?.eps[0] === v,
        value,
        { timeout: 120_000, polling: 200 },
      );
      const r = (await lab(page)).reparameterization!;
      r.eps.forEach((e, i) => {
        expect(r.z[i]).toBeCloseTo(r.mu[i] + r.sigma[i] * e, 4);
        expect(r.dzdmu[i]).toBe(1);
        expect(r.dzdlogvar[i]).toBeCloseTo(0.5 * r.sigma[i] * e, 4);
      });
    }

    // The latent map on demand: the test set's latent means embedded by t-SNE while training runs.
    await page.click("#latentButton");
    await expect
      .poll(() => page.textContent("#latentStatus"), { timeout: 300_000, interval: 500 })
      .toMatch(/^1000 test images, [\d.]+ s$/);

    // The op explorer: its graph is drawn, gradcheck passes the custom op, then catches it broken.
    await page.waitForSelector("#graph svg");
    await page.click("#gradcheck");
    await page.waitForSelector("#gradcheckResult[data-passed]");
    expect(await page.getAttribute("#gradcheckResult", "data-passed")).toBe("true");
    await page.click("#opBreak");
    await page.click("#gradcheck");
    await page.waitForSelector('#gradcheckResult[data-passed="false"]');
    expect(await page.textContent("#gradcheckResult")).toMatch(/gradcheck FAILED\n(.|\n)*b: WRONG/);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("trains on the gpu backend's WebGL2 path", { timeout: 600_000 }, async () => {
    const { page, shown, errors } = await train(
      browser,
      served.url,
      "backend=gpu:webgl2&limit=2000&batchSize=16",
      50,
      "gpu-webgl2.png",
    );
    expect(shown.backend).toBe("gpu");
    expect(shown.detail).toMatch(/^gpu\.js webgl2 on /);
    expect(errors).toEqual([]);
    await page.close();
  });
});
