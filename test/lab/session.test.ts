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
    // fc4.bias has 784 entries: the histogram counts each once.
    expect(first.histogram?.parameter).toBe("fc4.bias");
    expect(first.histogram?.counts.reduce((a, b) => a + b, 0)).toBe(784);
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
  it("counts every finite value once, in bins spanning min..max", () => {
    const h = histogram(Float32Array.from([0, 1, 2, 3, 4, Number.NaN, 40]));
    expect(h.counts.reduce((a, b) => a + b, 0)).toBe(6);
    expect(h.edges[0]).toBe(0);
    expect(h.edges[h.edges.length - 1]).toBe(40);
    expect(h.counts[h.counts.length - 1]).toBe(1);
  });
});
