/**
 * The tutorial cannot rot: every example in examples/ runs; every output block a chapter quotes (a
 * ```text fence right after `<!-- output of examples/NAME.ts -->`) must appear, line for line, in
 * what the example prints now, by the rule of book/quotes.ts, which the book's pages apply in the
 * browser too; and a chapter's code blocks must be its example's cells (book/cells.ts: `npm run
 * docs:code` copies them). A few claims each chapter makes are also checked on the output
 * directly, so they hold even if someone pastes a new output into the chapter.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cellsOf, codeBlocksOf } from "../../book/cells.ts";
import { findQuote, NUMBER, quotesIn } from "../../book/quotes.ts";

const root = resolve(import.meta.dirname, "../..");
const images = mkdtempSync(join(tmpdir(), "elbo-examples-"));
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
    { cwd: root, env: { ...process.env, ELBO_EXAMPLES_IMAGES: images }, maxBuffer: 1 << 24 },
  );
  return stdout;
}

// The examples take about 40 s of CPU in all (09, the VAE, a quarter of it). Beside the rest of the
// suite on a loaded machine that has taken minutes, so the hook gets ten: a test here fails on what
// it checks, never on time.
beforeAll(async () => {
  // Two at a time: CI has two cores.
  const queue = [...examples];
  const worker = async () => {
    for (let f = queue.shift(); f !== undefined; f = queue.shift()) outputs.set(f, await runExample(f));
  };
  await Promise.all([worker(), worker()]);
}, 600_000);

afterAll(() => rmSync(images, { recursive: true, force: true }));

/** The numbers on the output's line that starts with `prefix` (after indentation). */
function numbersOn(example: string, prefix: string): number[] {
  const line = outputs
    .get(example)!
    .split("\n")
    .find((l) => l.trimStart().startsWith(prefix));
  if (line === undefined) throw new Error(`examples/${example} printed no line starting "${prefix}"`);
  return (line.slice(line.indexOf(prefix) + prefix.length).match(NUMBER) ?? []).map(Number);
}

describe("every chapter's quoted output is what its example prints", () => {
  it("has an example for every chapter and a chapter for every example", () => {
    expect(chapters.map((c) => c.replace(/\.md$/, ""))).toEqual(examples.map((e) => e.replace(/\.ts$/, "")));
  });

  for (const chapter of chapters) {
    it(chapter, () => {
      const found = quotesIn(readFileSync(join(root, "docs", chapter), "utf8"));
      expect(found.length, `${chapter} quotes no example output`).toBeGreaterThan(0);
      for (const q of found) {
        const output = outputs.get(q.example);
        expect(output, `${chapter} quotes examples/${q.example}, which is not an example`).toBeDefined();
        const { ok, expected, printed } = findQuote(q, output!);
        expect(
          ok,
          `${chapter} quotes from examples/${q.example}:\n  ${expected}\nbut it printed:\n  ${printed}`,
        ).toBe(true);
      }
    });
  }
});

describe("every chapter's code blocks are its example's cells", () => {
  for (const chapter of chapters) {
    it(chapter, () => {
      const example = readFileSync(join(root, "examples", chapter.replace(/\.md$/, ".ts")), "utf8");
      const blocks = codeBlocksOf(readFileSync(join(root, "docs", chapter), "utf8"));
      expect(blocks.length, `docs/${chapter} shows no code`).toBeGreaterThan(0);
      expect(blocks, `docs/${chapter} differs from its example's cells: run npm run docs:code`).toEqual(
        cellsOf(example),
      );
    });
  }
});

describe("the claims the chapters make", () => {
  it("1: centered differences beat forward ones, float64 beats float32; relu's kink fails, max's tie passes", () => {
    const [, f64Error] = numbersOn("01-derivative.ts", "best centered64:");
    const [, f32Error] = numbersOn("01-derivative.ts", "best centered32:");
    const [, forwardError] = numbersOn("01-derivative.ts", "best forward64:");
    expect(f64Error).toBeLessThan(forwardError / 10);
    expect(f64Error).toBeLessThan(f32Error / 1e4);
    const out = outputs.get("01-derivative.ts")!;
    expect(out).toContain("gradcheck on f over 3 points: passed true");
    expect(out).toContain("relu at [-1, 0, 2]: passed false");
    expect(out).toContain("max at a tie [1, 5, 2, 5]: passed true");
  });

  it("2: backward by hand and by the engine agree on every node; a second backward doubles the gradient", () => {
    expect(numbersOn("02-chain-rule.ts", "largest difference between hand and engine:")[0]).toBe(0);
    expect(numbersOn("02-chain-rule.ts", "a = 3, L = a·a + a: dL/da =")[0]).toBe(7);
    expect(numbersOn("02-chain-rule.ts", "after a second backward: dL/da =")[0]).toBe(14);
  });

  it("4: the quoted gradcheck failure's relative error is its own element's |a − n| / |n|", () => {
    const line = outputs
      .get("04-custom-op.ts")!
      .split("\n")
      .find((l) => l.startsWith("gradcheck(siluBroken): input 0"))!;
    const [a, n] = [...line.matchAll(/gives? (-?[\d.e-]+)/g)].map((m) => Number(m[1]));
    const rel = Number(/rel error ([\d.e+-]+)/.exec(line)![1]);
    expect(rel).toBeCloseTo(Math.abs(a - n) / Math.abs(n), 2);
  });

  it("5: rows from VJPs and columns from JVPs make the same Jacobian; each mode is cheap in its own direction", () => {
    const out = outputs.get("05-jacobians.ts")!;
    expect(numbersOn("05-jacobians.ts", "jacfwd(f)(x): shape [2,3], largest difference from jacrev")).toEqual(
      [0],
    );
    const [row0, row1] = ["row 0:", "row 1:"].map((p) => numbersOn("05-jacobians.ts", p));
    const columns = ["column 0:", "column 1:", "column 2:"].map((p) => numbersOn("05-jacobians.ts", p));
    expect(columns.map((c) => c[0])).toEqual(row0);
    expect(columns.map((c) => c[1])).toEqual(row1);
    expect(out).toMatch(/J·v by the double VJP: \[-2\.7500, {2}0\.0000\]/);
  });

  it("7: the stable forms give the exact loss and gradient where the naive ones give 100 and 0, ∞ and NaN", () => {
    expect(numbersOn("07-stability.ts", "sigmoid then BCE:")).toEqual([100, 0]);
    expect(numbersOn("07-stability.ts", "BCE with logits:")).toEqual([20, 1]);
    expect(outputs.get("07-stability.ts")).toContain("naive log(sum(exp(x))): Infinity, gradient [NaN, NaN]");
    const [lse, half1, half2] = numbersOn("07-stability.ts", "logsumexp(x):");
    expect([lse, half1, half2]).toEqual([1000.69, 0.5, 0.5]);
    const he = numbersOn("07-stability.ts", "He, N(0, 2/n):");
    expect(Math.min(...he)).toBeGreaterThan(0.5);
    expect(numbersOn("07-stability.ts", "U(±1/√n), variance 1/(3n):").at(-1)).toBeLessThan(1e-6);
  });

  it("8: the straight-through estimator fits the integer weights; checkpointing keeps less and changes nothing", () => {
    expect(outputs.get("08-stopping-gradients.ts")).toContain("round(w) = [2,-1,3]");
    const [plainFloats] = numbersOn("08-stopping-gradients.ts", "depth 20: the graph keeps");
    const [checkpointed] = numbersOn(
      "08-stopping-gradients.ts",
      "20 layers in 4 checkpointed segments: the graph keeps",
    );
    expect(checkpointed).toBeLessThan(plainFloats / 5);
    expect(outputs.get("08-stopping-gradients.ts")).toMatch(/largest gradient difference 0$/m);
  });

  it("9: Monte Carlo KL agrees with the closed form; the reparameterized gradient beats REINFORCE; IWAE is tighter", () => {
    const [closed, , mc, se] = numbersOn("09-vae.ts", "closed form");
    expect(Math.abs(mc - closed)).toBeLessThan(4 * se);
    const [backward, numeric, half] = numbersOn("09-vae.ts", "∂z/∂logvar:");
    expect(Math.abs(backward - numeric)).toBeLessThan(1e-5);
    expect(Math.abs(backward - half)).toBeLessThan(1e-5);
    const reparamVariance = numbersOn("09-vae.ts", "reparameterized")[2];
    const scoreVariance = numbersOn("09-vae.ts", "score function")[2];
    expect(scoreVariance).toBeGreaterThan(100 * reparamVariance);
    // On the same 200 images: log p(x) ≥ IWAE(k = 50) ≥ ELBO.
    const [elbo] = numbersOn("09-vae.ts", "on the first 200 test images: ELBO");
    const [iwae] = numbersOn("09-vae.ts", "IWAE k = 50:");
    expect(iwae).toBeGreaterThan(elbo);
  });

  it("10: a step in a scope leaves no buffers behind; cpu and wasm agree", () => {
    const growth = outputs
      .get("10-under-the-hood.ts")!
      .split("\n")
      .find((l) => l.includes("trainStep loop:"))!;
    expect(growth).toContain("+0, +0, +0, +0");
    const [cpu, wasm] = numbersOn("10-under-the-hood.ts", "cpu");
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
