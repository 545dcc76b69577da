/**
 * The lab trains with the CLI's loop: the same seed, backend and images give the same losses in
 * `npm run train:mnist` and in the lab's session (here in Node; the page runs the same module in a
 * Web Worker).
 */
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { DEFAULT_SETTINGS, type StepRecord } from "../../lab/protocol.ts";
import { histogram, LabSession, Stopped } from "../../lab/session.ts";
import { useBackend } from "../../src/kernels/registry.ts";
import { defaultMnistDir, loadMnist } from "../../src/train-mnist/data.ts";
import type { EpochResult } from "../../src/vae/train.ts";
import { sharedTempDir, tempDir } from "../fixtures/temp-dir.ts";

const settings = { ...DEFAULT_SETTINGS, backend: "cpu" as const, batchSize: 64, seed: 3, limit: 256 };

/**
 * A folder of MNIST-format files holding the first 256 training and 200 test images, so the CLI's
 * report (test loss, IWAE, the t-SNE map) takes seconds rather than minutes.
 */
function smallMnist(): string {
  const dir = sharedTempDir("elbo-lab-mnist-");
  const cut = (file: string, count: number, itemBytes: number) => {
    const bytes = readFileSync(join(defaultMnistDir(), file));
    const headerBytes = 4 + 4 * bytes[3];
    const header = Buffer.from(bytes.subarray(0, headerBytes));
    header.writeUInt32BE(count, 4);
    const items = bytes.subarray(headerBytes, headerBytes + count * itemBytes);
    writeFileSync(join(dir, file), Buffer.concat([header, items]));
  };
  cut("train-images-idx3-ubyte", 256, 784);
  cut("train-labels-idx1-ubyte", 256, 1);
  cut("t10k-images-idx3-ubyte", 200, 784);
  cut("t10k-labels-idx1-ubyte", 200, 1);
  return dir;
}
const data = smallMnist();

/** Train the lab's session for one epoch and stop, keeping every step's record. */
async function labEpoch(): Promise<{
  epoch: EpochResult;
  testLoss: number;
  steps: StepRecord[];
  session: LabSession;
}> {
  await useBackend("cpu");
  const session = new LabSession(
    settings,
    loadMnist("train", { dir: data }),
    loadMnist("test", { dir: data }),
  );
  const steps: StepRecord[] = [];
  let finished: { epoch: EpochResult; testLoss: number } | null = null;
  await session
    .trainUntilStopped(
      (record) => {
        if (finished !== null) throw new Stopped();
        steps.push(record);
      },
      (epoch, testLoss) => {
        finished = { epoch, testLoss };
      },
      () => "fc4.bias",
    )
    .catch((error: unknown) => {
      if (!(error instanceof Stopped)) throw error;
    });
  if (finished === null) throw new Error("the session stopped before an epoch ended");
  return { ...(finished as { epoch: EpochResult; testLoss: number }), steps, session };
}

describe("the lab's training session", () => {
  it("gives the CLI's losses for the same seed, backend and images", async () => {
    const out = tempDir("elbo-lab-cli-");
    await promisify(execFile)(
      process.execPath,
      [
        "--import",
        "tsx",
        "src/train-mnist/cli.ts",
        ...["--backend", "cpu", "--data", data, "--epochs", "1", "--batch-size", "64", "--seed", "3"],
        ...["--iw-k", "2", "--iw-images", "10", "--out", out],
      ],
      { env: { ...process.env, ELBO_BACKEND: "" } },
    );
    const metrics = JSON.parse(readFileSync(join(out, "metrics.json"), "utf8"));
    const { epoch, steps } = await labEpoch();
    expect(steps.length).toBe(4);
    expect(epoch.loss).toBe(metrics.epochs[0].loss);
    expect(epoch.bce).toBe(metrics.epochs[0].bce);
    expect(epoch.kl).toBe(metrics.epochs[0].kl);
    // Each step's record holds the batch's loss, split into its two terms.
    for (const s of steps) expect(s.loss).toBeCloseTo(s.bce + s.kl, 3);
    expect(steps.reduce((sum, s) => sum + s.loss * 64, 0) / 256).toBeCloseTo(epoch.loss, 3);
  });

  it("reports every parameter's gradient norm and the chosen one's histogram", async () => {
    const { steps, session } = await labEpoch();
    const first = steps[0].gradients;
    expect(first.norms.length).toBe(session.parameterNames.length);
    for (const n of first.norms) expect(n).toBeGreaterThan(0);
    // fc4.bias has 784 entries: the histogram counts each once, and names the step it is from.
    const h = first.histogram!;
    expect(h.parameter).toBe("fc4.bias");
    expect(h.step).toBe(1);
    expect(h.total).toBe(784);
    expect(h.counts.reduce((a, b) => a + b, 0) + h.zeros + h.below + h.above + h.nonFinite).toBe(784);
  });

  it("computes z = μ + σε and its derivatives by backward", async () => {
    const { session } = await labEpoch();
    const eps = Array.from({ length: settings.latent }, (_, i) => (i - 4.5) / 3);
    const r = await session.reparameterization(7, eps);
    expect(r.label).toBe(session.test.labels[7]);
    r.z.forEach((z, i) => {
      expect(z).toBeCloseTo(r.mu[i] + r.sigma[i] * eps[i], 5);
      expect(r.dzdmu[i]).toBeCloseTo(1, 6);
      expect(r.dzdlogvar[i]).toBeCloseTo(0.5 * r.sigma[i] * eps[i], 5);
    });
    expect(r.decoded.length).toBe(784);
    await expect(session.reparameterization(7, [1])).rejects.toThrow(/ε has 1 entries, not 10/);
    await expect(session.reparameterization(200, eps)).rejects.toThrow(/test image 200 is outside 0..199/);
  });
});

describe("histogram", () => {
  it("counts every entry once: the exact zeros and the non-finite apart, the rest in the range drawn or beside it", () => {
    const h = histogram(Float32Array.from([0, 0, 1, 2, 3, 4, Number.NaN, 40]));
    expect(h.total).toBe(8);
    expect(h.zeros).toBe(2);
    expect(h.nonFinite).toBe(1);
    expect(h.counts.reduce((a, b) => a + b, 0) + h.below + h.above).toBe(5);
    expect(h.edges).toHaveLength(h.counts.length + 1);
  });

  it("draws the central 99% of the non-zero values, so outliers do not squeeze the rest into one bar", () => {
    // 10,000 values spread over [-1, 1) and 20 outliers at ±1000, as a gradient with a few large entries.
    const values = new Float32Array(10_020);
    for (let i = 0; i < 10_000; i++) values[i] = -1 + (2 * i) / 10_000;
    for (let i = 0; i < 20; i++) values[10_000 + i] = i % 2 === 0 ? 1000 : -1000;
    const h = histogram(values);
    expect(h.edges[0]).toBeGreaterThan(-1.01);
    expect(h.edges[0]).toBeLessThan(-0.95);
    expect(h.edges.at(-1)).toBeLessThan(1.01);
    expect(h.edges.at(-1)).toBeGreaterThan(0.95);
    expect(h.below).toBeGreaterThanOrEqual(10);
    expect(h.above).toBeGreaterThanOrEqual(10);
    expect(h.below + h.above).toBeLessThan(0.011 * values.length);
    // Evenly spread values fill every bar about equally.
    const mean = (10_020 - h.below - h.above) / h.counts.length;
    for (const c of h.counts) expect(Math.abs(c - mean)).toBeLessThan(0.2 * mean);
  });

  it("gives a single repeated value a range around it, and all zeros no bars", () => {
    const one = histogram(Float32Array.from([0.5, 0.5, 0.5]));
    expect(one.edges[0]).toBeLessThan(0.5);
    expect(one.edges.at(-1)).toBeGreaterThan(0.5);
    expect(one.counts.reduce((a, b) => a + b, 0)).toBe(3);
    expect(histogram(new Float32Array(4))).toMatchObject({ edges: [], counts: [], zeros: 4, total: 4 });
  });
});
