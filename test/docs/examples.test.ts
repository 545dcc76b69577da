/**
 * The tutorial cannot rot: every example in examples/ runs, and every output block a chapter
 * quotes (a ```text fence right after `<!-- output of examples/NAME.ts -->`) must appear, line for
 * line, in what the example prints now. A few claims each chapter makes are also checked on the
 * output directly, so they hold even if someone pastes a new output into the chapter.
 *
 * Numbers are compared to the precision they are printed with, give or take one unit in the last
 * printed digit: the examples are seeded and run on the cpu backend, so a run prints the same
 * digits every time; a kernel that sums in another order may move a float32 result's last printed
 * digit by one, and anything more is a real change the chapter must follow. Blocks marked
 * `(timings vary)` compare the words but not the numbers on lines with a time (ms) or a share (%)
 * in them, since those are this machine's and vary from run to run.
 */
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { sharedTempDir } from "../fixtures/temp-dir.ts";

const root = resolve(import.meta.dirname, "../..");
const images = sharedTempDir("elbo-examples-");
const examples = readdirSync(join(root, "examples"))
  .filter((f) => /^\d\d-.*\.ts$/.test(f))
  .sort();
const chapters = readdirSync(join(root, "docs"))
  .filter((f) => /^\d\d-.*\.md$/.test(f))
  .sort();

const outputs = new Map<string, string>();

async function runExample(file: string): Promise<string> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--import", "tsx", join("examples", file)],
    {
      cwd: root,
      env: { ...process.env, ELBO_EXAMPLES_IMAGES: images, ELBO_BACKEND: "cpu" },
      maxBuffer: 1 << 24,
    },
  );
  return stdout;
}

// The examples take about 25 s of CPU in all (06, the VAE, half of it). Alone on two cores that is
// about 15 s; beside the rest of the suite on a loaded machine it has taken over two minutes, so the
// hook gets ten: a test here fails on what it checks, never on time.
beforeAll(async () => {
  // Two at a time: CI has two cores.
  const queue = [...examples];
  const worker = async () => {
    for (let f = queue.shift(); f !== undefined; f = queue.shift()) outputs.set(f, await runExample(f));
  };
  await Promise.all([worker(), worker()]);
}, 600_000);

interface Quote {
  chapter: string;
  example: string;
  timingsVary: boolean;
  lines: string[];
}

function quotes(chapter: string): Quote[] {
  const text = readFileSync(join(root, "docs", chapter), "utf8");
  const found: Quote[] = [];
  const marker =
    /<!-- output of examples\/([\w-]+\.ts)( \(timings vary\))? -->\s*\n```text\n([\s\S]*?)\n```/g;
  for (const m of text.matchAll(marker)) {
    found.push({ chapter, example: m[1], timingsVary: m[2] !== undefined, lines: m[3].split("\n") });
  }
  return found;
}

const NUMBER = /[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?/gi;

/** Does `actual` say what `quoted` says, numbers to their printed precision? */
function lineMatches(quoted: string, actual: string, ignoreNumbers: boolean): boolean {
  const words = (s: string) => s.replace(NUMBER, "#").trimEnd();
  if (words(quoted) !== words(actual)) return false;
  if (ignoreNumbers) return true;
  const q = quoted.match(NUMBER) ?? [];
  const a = actual.match(NUMBER) ?? [];
  return q.every((token, i) => {
    const mantissa = token.toLowerCase().split("e")[0];
    const decimals = mantissa.includes(".") ? mantissa.split(".")[1].length : 0;
    const exponent = token.toLowerCase().includes("e") ? Number(token.toLowerCase().split("e")[1]) : 0;
    const unit = 10 ** (exponent - decimals);
    return Math.abs(Number(token) - Number(a[i])) <= unit * 1.000001;
  });
}

function findQuote(quote: Quote, output: string): { ok: boolean; detail: string } {
  const actual = output.split("\n");
  let best = { at: -1, matched: -1 };
  for (let start = 0; start < actual.length; start++) {
    let k = 0;
    while (
      k < quote.lines.length &&
      start + k < actual.length &&
      lineMatches(quote.lines[k], actual[start + k], quote.timingsVary && /\bms\b|%/.test(quote.lines[k]))
    ) {
      k++;
    }
    if (k === quote.lines.length) return { ok: true, detail: "" };
    if (k > best.matched) best = { at: start, matched: k };
  }
  const k = best.matched;
  return {
    ok: false,
    detail: `${quote.chapter} quotes from examples/${quote.example}:\n  ${quote.lines[Math.max(0, k)]}\nbut it printed:\n  ${actual[best.at + k] ?? "(nothing there)"}`,
  };
}

describe("every chapter's quoted output is what its example prints", () => {
  it("has an example for every chapter and a chapter for every example", () => {
    expect(chapters.map((c) => c.slice(0, 2))).toEqual(examples.map((e) => e.slice(0, 2)));
  });

  for (const chapter of chapters) {
    it(chapter, () => {
      const found = quotes(chapter);
      expect(found.length, `${chapter} quotes no example output`).toBeGreaterThan(0);
      for (const q of found) {
        const output = outputs.get(q.example);
        expect(output, `${chapter} quotes examples/${q.example}, which is not an example`).toBeDefined();
        const { ok, detail } = findQuote(q, output!);
        expect(ok, detail).toBe(true);
      }
    });
  }
});

/** The numbers on the output's line that starts with `prefix` (after indentation). */
function numbersOn(example: string, prefix: string): number[] {
  const line = outputs
    .get(example)!
    .split("\n")
    .find((l) => l.trimStart().startsWith(prefix));
  if (line === undefined) throw new Error(`examples/${example} printed no line starting "${prefix}"`);
  return (line.slice(line.indexOf(prefix) + prefix.length).match(NUMBER) ?? []).map(Number);
}

describe("the claims the chapters make", () => {
  it("1: centered differences beat forward ones, and float64 beats float32 by orders of magnitude", () => {
    const [, f64Error] = numbersOn("01-derivative.ts", "best centered64:");
    const [, f32Error] = numbersOn("01-derivative.ts", "best centered32:");
    const [, forwardError] = numbersOn("01-derivative.ts", "best forward64:");
    expect(f64Error).toBeLessThan(forwardError / 10);
    expect(f64Error).toBeLessThan(f32Error / 1e4);
    expect(outputs.get("01-derivative.ts")).toContain("gradcheck on f over 3 points: passed true");
  });

  it("2: backward by hand and by the engine agree on every node", () => {
    expect(numbersOn("02-chain-rule.ts", "largest difference between hand and engine:")[0]).toBe(0);
    expect(numbersOn("02-chain-rule.ts", "a = 3, L = a·a + a: dL/da =")[0]).toBe(7);
  });

  it("6: Monte Carlo KL agrees with the closed form; the reparameterized gradient beats REINFORCE", () => {
    const [closed, , mc, se] = numbersOn("06-vae.ts", "closed form");
    expect(Math.abs(mc - closed)).toBeLessThan(4 * se);
    const [backward, numeric, half] = numbersOn("06-vae.ts", "∂z/∂logvar:");
    expect(Math.abs(backward - numeric)).toBeLessThan(1e-5);
    expect(Math.abs(backward - half)).toBeLessThan(1e-5);
    const reparamVariance = numbersOn("06-vae.ts", "reparameterized")[2];
    const scoreVariance = numbersOn("06-vae.ts", "score function")[2];
    expect(scoreVariance).toBeGreaterThan(100 * reparamVariance);
    const [elbo] = numbersOn("06-vae.ts", "test −ELBO");
    const [iwae] = numbersOn("06-vae.ts", "IWAE log p(x) ≥");
    // The importance-weighted bound is tighter: log p(x) ≥ IWAE ≥ ELBO.
    expect(iwae).toBeGreaterThan(-elbo);
  });

  it("7: a step in a scope leaves no buffers behind; cpu and wasm agree", () => {
    const growth = outputs
      .get("07-under-the-hood.ts")!
      .split("\n")
      .find((l) => l.includes("trainStep loop:"))!;
    expect(growth).toContain("+0, +0, +0, +0");
    const [cpu, wasm] = numbersOn("07-under-the-hood.ts", "cpu");
    expect(Math.abs(cpu - wasm) / cpu).toBeLessThan(1e-5);
  });
});

describe("the tutorial's pictures are what its examples draw", () => {
  const committed = readdirSync(join(root, "docs", "images")).filter((f) => f.endsWith(".svg"));
  const texts = (svg: string) => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);

  it("draws every committed picture", () => {
    expect(readdirSync(images).sort()).toEqual(committed.sort());
  });

  for (const file of committed) {
    it(`${file} shows the same labels`, () => {
      const drawn = readFileSync(join(images, file), "utf8");
      const saved = readFileSync(join(root, "docs", "images", file), "utf8");
      expect(texts(drawn)).toEqual(texts(saved));
    });
  }
});
