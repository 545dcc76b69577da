/**
 * The README's picture of the gradient lab: the static build (`npm run lab:build`'s files), served
 * cross-origin isolated, trained for four epochs of MNIST on the wasm backend in headless Chromium,
 * the latent map drawn and ε moved off 0, then the whole page photographed.
 *   npx tsx scripts/lab-screenshot.ts [--epochs 4] [--backend wasm] [--out docs/images/lab.png]
 * Prints the step, loss and panel it photographed.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { build } from "vite";
import { launchChromium } from "../test/browser/chromium.ts";
import { serve } from "../test/browser/serve.ts";

const { values } = parseArgs({
  options: {
    epochs: { type: "string", default: "4" },
    backend: { type: "string", default: "wasm" },
    out: { type: "string", default: "docs/images/lab.png" },
  },
});
const epochs = Number(values.epochs);

interface Shown {
  steps: number;
  lastLoss: number;
  reparameterizationStep: number;
  reparameterization: { mu: number[]; sigma: number[] } | null;
  histogram: { step: number } | null;
}
const lab = () => (globalThis as unknown as { lab: Shown }).lab;
/** The page's text of element `selector` (this script's TypeScript has no DOM types). */
interface Page {
  querySelector(selector: string): { textContent: string | null } | null;
  querySelectorAll(selector: string): { length: number };
}

const dir = mkdtempSync(join(tmpdir(), "elbo-lab-shot-"));
await build({ configFile: "lab/vite.config.ts", logLevel: "error", build: { outDir: dir } });
const served = await serve(dir, {}, true);
// The page's canvases drawn on the CPU (see test/lab/lab-browser.test.ts).
const browser = await launchChromium(["--disable-accelerated-2d-canvas", "--disable-gpu-compositing"]);
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on("pageerror", (e) => console.error(`page error: ${e.message}`));
  await page.goto(`${served.url}/?backend=${values.backend}&autostart=1`);
  await page.waitForFunction(
    (n) =>
      (globalThis as unknown as { document: Page }).document.querySelectorAll("#epochs tbody tr").length >= n,
    epochs,
    { timeout: 3_600_000, polling: 1000 },
  );
  await page.click("#pause");
  await page.click("#latentButton");
  await page.waitForFunction(
    () =>
      /^\d+ test images/.test(
        (globalThis as unknown as { document: Page }).document.querySelector("#latentStatus")?.textContent ??
          "",
      ),
    null,
    { timeout: 600_000 },
  );
  // ε off 0 in the first two dimensions, so z is μ + σε, not μ.
  await page.fill('input[data-dim="0"]', "1");
  await page.fill('input[data-dim="1"]', "-1");
  await page.waitForFunction(() => {
    const r = (globalThis as unknown as { lab: Shown }).lab.reparameterization as { eps: number[] } | null;
    return r !== null && r.eps[0] === 1 && r.eps[1] === -1;
  });
  await page.mouse.move(0, 0);
  await page.screenshot({ path: values.out, fullPage: true });
  const shown = await page.evaluate(lab);
  console.log(
    `photographed ${values.out} at step ${shown.steps}: −ELBO ${shown.lastLoss.toFixed(1)}, panel by the model after ${shown.reparameterizationStep} steps, σ = [${shown.reparameterization?.sigma.map((s) => s.toFixed(2)).join(", ")}], histogram from step ${shown.histogram?.step}`,
  );
} finally {
  await browser.close();
  await served.close();
  rmSync(dir, { recursive: true, force: true });
}
