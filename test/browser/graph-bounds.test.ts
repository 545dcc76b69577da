/**
 * toSvg's pictures as a browser draws them: in headless Chromium every node's text lies inside its
 * box. Graphviz (in WebAssembly) cannot see the fonts of the machine that will show the picture:
 * it sizes each box from the metrics it has built in, so the picture must name a font the browser
 * draws with those same metrics, else the text overflows its box (it did, with Helvetica on Linux).
 * The graphs: the tutorial's tiny VAE and MLP, long names with Greek letters, and a tensor whose
 * values are still on a device ("value (on device, not read yet)", the longest line toDot writes).
 * Without Chromium it skips and says so, unless ELBO_REQUIRE_BROWSER=1 (CI).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Tensor } from "../../src/autograd/tensor.ts";
import { Generator, randn, toSvg } from "../../src/index.ts";
import type { Storage, TypedArray } from "../../src/kernels/backend.ts";
import { CpuBackend } from "../../src/kernels/cpu/backend.ts";
import { chromiumInstalled, chromiumPath, launchChromium } from "./chromium.ts";
import { textOutsideBoxes } from "./node-bounds.ts";
import { tinyVaeLoss } from "./tiny-vae.ts";

const requireBrowser = process.env.ELBO_REQUIRE_BROWSER === "1";
const haveChromium = chromiumInstalled();
if (!haveChromium && requireBrowser) {
  throw new Error(`ELBO_REQUIRE_BROWSER=1 but there is no Chromium at ${chromiumPath}`);
}
if (!haveChromium) console.warn(`graph bounds test skipped: no Chromium at ${chromiumPath}`);

function mlpLoss(): Tensor {
  const generator = new Generator(0);
  const w = randn([3, 8], { generator, requiresGrad: true });
  w.name = "W1 — the first layer's weights";
  const b = randn([8], { generator, requiresGrad: true });
  b.name = "μ σ ∂z/∂logvar";
  const loss = randn([4, 3], { generator }).matmul(w).add(b).relu().sum();
  loss.backward();
  return loss;
}

/** A tensor on a backend whose values stay on the device: toDot cannot read them. */
function onDevice(): Tensor {
  class DeviceLike extends CpuBackend {
    override readonly name = "device";
    override readSync(_x: Storage): TypedArray {
      throw new Error("device: values are still on the device");
    }
  }
  const backend = new DeviceLike();
  const x = new Tensor(backend.fill(6, 1, "float32"), [2, 3], backend, { requiresGrad: true });
  return x.exp().sum();
}

/**
 * A fontconfig that sees only the DejaVu fonts of the dejavu-fonts-ttf package, as on a minimal
 * Linux: no Helvetica or a metric clone of it (Liberation Sans), so sans-serif is DejaVu Sans.
 */
function dejaVuOnly(dir: string): string {
  const fonts = join(dirname(createRequire(import.meta.url).resolve("dejavu-fonts-ttf/package.json")), "ttf");
  const alias = (generic: string, family: string) =>
    `<alias><family>${generic}</family><prefer><family>${family}</family></prefer></alias>`;
  const file = join(dir, "fonts.conf");
  writeFileSync(
    file,
    `<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig><dir>${fonts}</dir><cachedir>${join(dir, "cache")}</cachedir>${alias("sans-serif", "DejaVu Sans")}${alias("serif", "DejaVu Serif")}${alias("monospace", "DejaVu Sans Mono")}</fontconfig>`,
  );
  return file;
}

describe.skipIf(!haveChromium).each([
  ["this machine's fonts", false],
  ["DejaVu fonts only", true],
])("toSvg's nodes in Chromium with %s", (_fonts, onlyDejaVu) => {
  let browser: Browser;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "elbo-fonts-"));
    browser = await launchChromium([], onlyDejaVu ? { FONTCONFIG_FILE: dejaVuOnly(dir) } : {});
  });
  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ["the tiny VAE", tinyVaeLoss],
    ["an MLP with long and Greek names", mlpLoss],
    ["a tensor whose values are on a device", onDevice],
  ])("%s: every node's text lies inside its box", async (_what, graph) => {
    const svg = await toSvg(graph());
    const page = await browser.newPage();
    try {
      await page.setContent(`<!doctype html><meta charset="utf-8"><body>${svg}</body>`);
      const { nodes, overflows } = await textOutsideBoxes(page, "body");
      expect(nodes).toBeGreaterThan(1);
      expect(overflows).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
