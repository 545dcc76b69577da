/**
 * The gradient lab in a real headless Chromium (Debian's, driven by playwright-core): the static
 * build a teacher would host (`npm run lab:build`), served cross-origin isolated, trains the VAE on
 * real MNIST (fetched gzip-compressed) on the wasm backend (threads) and on the gpu backend's WebGL2
 * path (SwiftShader, a software GL, in CI, which the page says), with no console errors; the loss
 * it shows falls, its pictures are not blank, the reparameterization panel follows the model as it
 * learns, the gradient histogram draws a range chosen from the data, a reset starts the charts again
 * at step 1 with nothing of the old run, the op explorer's graph keeps its text inside its boxes
 * and its gradcheck works. Settings the run cannot use are refused in the page's words with start
 * disabled, and a gpu backend that cannot start says so and leaves start disabled. Screenshots of
 * each page mid-training go to test-results/lab/ (git-ignored, kept by CI).
 *
 * Small settings keep it short: 8,000 training images on wasm, batches of 16 on the software GL.
 * Without Chromium it skips and says so, unless ELBO_REQUIRE_BROWSER=1 (CI).
 */
import { mkdirSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GradientHistogram, Reparameterization } from "../../lab/protocol.ts";
import { chromiumInstalled, chromiumPath, launchChromium } from "../browser/chromium.ts";
import { textOutsideBoxes } from "../browser/node-bounds.ts";
import { type Served, serve } from "../browser/serve.ts";
import { sharedTempDir, tempDir } from "../fixtures/temp-dir.ts";

const requireBrowser = process.env.ELBO_REQUIRE_BROWSER === "1";
const haveChromium = chromiumInstalled();
if (!haveChromium && requireBrowser) {
  throw new Error(`ELBO_REQUIRE_BROWSER=1 but there is no Chromium at ${chromiumPath}`);
}
if (!haveChromium) console.warn(`lab browser test skipped: no Chromium at ${chromiumPath}`);

const SCREENSHOTS = join("test-results", "lab");

/** What the page leaves on window.lab (lab/main.ts). */
interface Shown {
  run: number;
  phase: string;
  steps: number;
  firstLoss: number;
  lastLoss: number;
  reconError: number;
  views: number;
  backend: string;
  detail: string;
  softwareRenderer: boolean;
  reconstructionSpread: number;
  sampleSpread: number;
  reparameterization: Reparameterization | null;
  reparameterizationStep: number;
  histogram: GradientHistogram | null;
  lossChartSteps: number[];
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
  const figures = await page.textContent("#figures");
  expect(figures).toMatch(/^step \d+ \(epoch \d+, batch \d+ of \d+\) · [\d.]+ ms per step$/);
  expect(Number(/([\d.]+) ms per step/.exec(figures!)![1])).toBeGreaterThan(0);
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

  it("ships small: MNIST gzip-compressed (11 MB, not 53), the whole build under 20 MB", () => {
    const files = readdirSync(out, { recursive: true, withFileTypes: true }).filter((f) => f.isFile());
    const bytes = (f: (typeof files)[number]) => statSync(join(f.parentPath, f.name)).size;
    expect(
      files
        .filter((f) => /idx\d-ubyte/.test(f.name))
        .map((f) => f.name)
        .sort(),
    ).toEqual([
      "t10k-images-idx3-ubyte.gz",
      "t10k-labels-idx1-ubyte.gz",
      "train-images-idx3-ubyte.gz",
      "train-labels-idx1-ubyte.gz",
    ]);
    expect(files.reduce((sum, f) => sum + bytes(f), 0)).toBeLessThan(20e6);
  });

  it("trains on wasm with threads: the panel follows the model, the histogram reads, reset starts at step 1, the op explorer works", {
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
    expect(shown.detail).toMatch(/^wasm, \d+ threads?, /);
    expect(shown.softwareRenderer).toBe(false);
    expect(await page.isHidden("#softwareNote")).toBe(true);

    // The reparameterization panel follows the model as it learns: μ and σ of the same digit with
    // the same ε differ between two moments of training, each shown with the step it is from.
    const early = shown.reparameterization!;
    const earlyStep = shown.reparameterizationStep;
    expect(earlyStep).toBeGreaterThan(0);
    await page.waitForFunction(
      (step) => (globalThis as unknown as { lab: Shown }).lab.reparameterizationStep >= step,
      earlyStep + 30,
      { timeout: 300_000, polling: 200 },
    );
    const later = (await lab(page)).reparameterization!;
    expect(later.eps).toEqual(early.eps);
    expect(later.mu).not.toEqual(early.mu);
    expect(later.sigma).not.toEqual(early.sigma);
    expect(await page.textContent("#reparamStep")).toMatch(/^by the model after \d+ steps$/);

    // The panel answers while training runs (the worker lets messages in between steps): a slider
    // moved twice gives z = μ + σε with ∂z/∂μ = 1 and ∂z/∂logvar = ½σε each time.
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

    // The gradient histogram: fc1.weight at a named step, the exact zeros counted apart, a range
    // chosen from the data holding 99% of the rest, spread over many bars (not one bar at 0).
    // Read together: training goes on, and the next histogram may arrive between two reads.
    const { h, caption } = await page.evaluate(() => ({
      h: (globalThis as unknown as { lab: Shown }).lab.histogram!,
      caption: (
        globalThis as unknown as { document: { getElementById(id: string): { textContent: string } } }
      ).document.getElementById("histCaption").textContent,
    }));
    expect(h.parameter).toBe("fc1.weight");
    expect(h.total).toBe(784 * 200);
    expect(h.zeros).toBeGreaterThan(0);
    const drawn = h.counts.reduce((a, b) => a + b, 0);
    expect(drawn + h.zeros + h.below + h.above).toBe(h.total);
    expect(drawn / (h.total - h.zeros)).toBeGreaterThan(0.98);
    expect(h.counts.filter((c) => c > 0).length).toBeGreaterThan(10);
    expect(Math.max(...h.counts)).toBeLessThan(0.5 * drawn);
    expect(caption).toMatch(
      new RegExp(
        `^fc1\\.weight at step ${h.step}: 156,800 entries; [\\d.]+% exactly 0; range drawn from −?[\\d.e−-]+ to −?[\\d.e−-]+`,
      ),
    );

    // The latent map on demand: the test set's latent means embedded by t-SNE while training runs.
    await page.click("#latentButton");
    await expect
      .poll(() => page.textContent("#latentStatus"), { timeout: 300_000, interval: 500 })
      .toMatch(/^1000 test images, [\d.]+ s$/);

    // Legends: the layers' colours are not the digits', the latent map's legend has a title, and no
    // chart shows "--" (uPlot's live legend away from the pointer), which reads as missing data.
    const markers = (chart: string) =>
      page.$$eval(`#${chart} .u-legend .u-marker`, (els) =>
        els
          .map((e) => (e as unknown as { style: { borderColor: string } }).style.borderColor)
          .filter((c) => c !== ""),
      );
    const digits = new Set(await markers("latentChart"));
    const layers = new Set(await markers("gradChart"));
    expect(digits.size).toBe(10);
    expect(layers.size).toBe(5);
    expect([...layers].filter((c) => digits.has(c))).toEqual([]);
    expect(await page.textContent("#latentChart caption")).toBe("colour: the test image's digit");
    expect(await page.textContent("body")).not.toContain("--");

    // The op explorer: its graph is drawn with every node's text inside its box, gradcheck passes
    // the custom op, then catches it broken.
    await page.waitForSelector("#graph svg");
    const { nodes, overflows } = await textOutsideBoxes(page, "#graph");
    expect(nodes).toBeGreaterThan(3);
    expect(overflows).toEqual([]);
    await page.click("#gradcheck");
    await page.waitForSelector("#gradcheckResult[data-passed]");
    expect(await page.getAttribute("#gradcheckResult", "data-passed")).toBe("true");
    await page.click("#opBreak");
    await page.click("#gradcheck");
    await page.waitForSelector('#gradcheckResult[data-passed="false"]');
    expect(await page.textContent("#gradcheckResult")).toMatch(/gradcheck FAILED\n(.|\n)*b: WRONG/);

    // Reset while training runs, three times in a row as an impatient student might: what the old
    // runs still send is dropped, and the last run's chart starts at step 1 and counts up one by one.
    const before = await lab(page);
    expect(before.steps).toBeGreaterThan(50);
    for (let i = 0; i < 3; i++) await page.click("#reset");
    await page.waitForFunction(
      (run) => {
        const shown = (globalThis as unknown as { lab: Shown }).lab;
        return shown.run === run && shown.steps >= 20;
      },
      before.run + 3,
      { timeout: 300_000, polling: 100 },
    );
    const after = await lab(page);
    expect(after.lossChartSteps[0]).toBe(1);
    expect(after.lossChartSteps).toEqual(
      Array.from({ length: after.lossChartSteps.length }, (_, i) => i + 1),
    );
    expect(await page.textContent("#error")).toBe("");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("trains on the gpu backend's WebGL2 path, and says when that is a software renderer", {
    timeout: 600_000,
  }, async () => {
    const { page, shown, errors } = await train(
      browser,
      served.url,
      "backend=gpu:webgl2&limit=2000&batchSize=16",
      50,
      "gpu-webgl2.png",
    );
    expect(shown.backend).toBe("gpu");
    expect(shown.detail).toMatch(/^gpu, gpu\.js webgl2 on /);
    console.log(`lab on gpu:webgl2: ${shown.detail}`);
    // Chromium without a GPU draws WebGL with SwiftShader: the page says so.
    expect(await page.isVisible("#softwareNote")).toBe(shown.softwareRenderer);
    if (shown.softwareRenderer) {
      expect(await page.textContent("#softwareNote")).toMatch(/software renderer/);
    }
    expect(errors).toEqual([]);
    await page.close();
  });

  it("refuses settings it cannot use in the page's words, with start disabled, and starts once they are right", {
    timeout: 300_000,
  }, async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${served.url}/?backend=cpu&limit=512&lr=-1&latent=0&batchSize=0`);
    await page.waitForSelector("#settingsProblems li");
    const problems = await page.$$eval("#settingsProblems li", (items) => items.map((li) => li.textContent));
    expect(problems).toEqual([
      "learning rate: enter a number above 0 and at most 1 (0.01 trains well; from about 0.1 training may diverge)",
      "latent size: enter a whole number from 1 to 64 (z needs at least one dimension)",
      "batch size: enter a whole number from 1 to 1,024",
    ]);
    for (const id of ["start", "step", "pause", "reset"]) expect(await page.isDisabled(`#${id}`)).toBe(true);
    expect(await page.getAttribute("#lr", "aria-invalid")).toBe("true");
    expect(await page.textContent("#status")).toBe("not started: correct the settings marked below");
    // No command-line words anywhere on the page.
    const text = await page.textContent("body");
    expect(text).not.toMatch(/--\w|step \d+\/\d+/);

    // Corrected, the run starts; a bad value typed later disables start again.
    await page.fill("#lr", "0.01");
    await page.fill("#latent", "2");
    await page.fill("#batchSize", "600");
    expect(await page.$$eval("#settingsProblems li", (items) => items.map((li) => li.textContent))).toEqual([
      "batch size: at most the number of training images (512)",
    ]);
    await page.fill("#batchSize", "64");
    expect(await page.$$eval("#settingsProblems li", (items) => items.length)).toBe(0);
    await page.click("#reset");
    await page.waitForFunction(() => (globalThis as unknown as { lab: Shown }).lab.phase === "ready", null, {
      timeout: 120_000,
    });
    expect(await page.isDisabled("#start")).toBe(false);
    await page.fill("#seed", "1.5");
    expect(await page.isDisabled("#start")).toBe(true);
    expect(await page.textContent("#settingsProblems")).toContain("seed: enter a whole number from 0 to");
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe.skipIf(!haveChromium)("the gradient lab where the gpu backend cannot start", () => {
  it("says so in the page and leaves start and step disabled", { timeout: 300_000 }, async () => {
    const out = tempDir("elbo-lab-build-");
    await build({ configFile: "lab/vite.config.ts", logLevel: "error", build: { outDir: out } });
    const served = await serve(out, {}, true);
    // A browser with no GPU process and no software renderer to stand in for one: no WebGL at all,
    // so gpu.js' WebGL2 mode cannot start (--disable-webgl alone leaves it to workers).
    const browser = await launchChromium(["--disable-gpu", "--disable-software-rasterizer"]);
    try {
      const page = await browser.newPage();
      // No autostart: the page must say why it cannot start on its own, and once another backend is
      // ready, leave it ready (autostart would start training there at once, racing the checks).
      await page.goto(`${served.url}/?backend=gpu:webgl2`);
      await page.waitForFunction(
        () => (globalThis as unknown as { lab: Shown }).lab.phase === "failed",
        null,
        {
          timeout: 120_000,
        },
      );
      expect(await page.textContent("#error")).toMatch(
        /^The gpu:webgl2 backend does not start in this browser: .+\. Choose another backend\.$/,
      );
      for (const id of ["start", "step", "pause", "latentButton"])
        expect(await page.isDisabled(`#${id}`)).toBe(true);
      expect(await page.isDisabled("#reset")).toBe(false);
      // Another backend then runs.
      await page.selectOption("#backend", "cpu");
      await page.waitForFunction(
        () => (globalThis as unknown as { lab: Shown }).lab.phase === "ready",
        null,
        {
          timeout: 120_000,
        },
      );
      expect(await page.textContent("#error")).toBe("");
      expect(await page.isDisabled("#start")).toBe(false);
    } finally {
      await browser.close();
      await served.close();
    }
  });
});
