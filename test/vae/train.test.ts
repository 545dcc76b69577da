import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeEach, describe, expect, it, onTestFinished } from "vitest";
import { Generator } from "../../src/autograd/random.ts";
import { Adam } from "../../src/nn/optim/adam.ts";
import { loadCheckpoint, saveCheckpoint } from "../../src/train-mnist/checkpoint.ts";
import { type Dataset, loadMnist } from "../../src/train-mnist/data.ts";
import { BernoulliVAE, type VaeConfig } from "../../src/vae/model.ts";
import { trainEpoch } from "../../src/vae/train.ts";

const config: VaeConfig = { inputDim: 784, latentDim: 4, encUnits: 32, decUnits: 32 };
const training = { epochs: 2, batchSize: 50, lr: 0.01, seed: 3, limit: 300, dataDir: null };

function setup(seed: number) {
  const generator = new Generator(seed);
  const model = new BernoulliVAE(config, { generator });
  const optimizer = new Adam(model.parameters(), { lr: training.lr });
  return { generator, model, optimizer };
}

async function epochOf(run: ReturnType<typeof setup>, data: Dataset, epoch: number) {
  return trainEpoch(run.model, run.optimizer, data, {
    epoch,
    batchSize: training.batchSize,
    generator: run.generator,
  });
}

describe("training", () => {
  // Loaded by the first test that needs it, not while the file is collected: work done then is
  // invisible to mutation testing's per-test coverage, which then runs every test against every mutant.
  let data: Dataset;
  beforeEach(() => {
    data ??= loadMnist("train", { limit: 300 });
  });

  it("the loss falls, epoch after epoch, from about 543 nats per image", async () => {
    const run = setup(1);
    const losses: number[] = [];
    for (let e = 1; e <= 4; e++) losses.push((await epochOf(run, data, e)).loss);
    expect(losses[0]).toBeLessThan(543);
    for (let e = 1; e < losses.length; e++) expect(losses[e]).toBeLessThan(losses[e - 1]);
    expect(losses[3]).toBeLessThan(0.6 * 543);
  });

  it("resuming from a checkpoint reaches exactly the result of an uninterrupted run", async () => {
    const straight = setup(training.seed);
    await epochOf(straight, data, 1);
    const second = await epochOf(straight, data, 2);

    const first = setup(training.seed);
    const h1 = await epochOf(first, data, 1);
    const folder = mkdtempSync(join(tmpdir(), "elbo-ckpt-"));
    onTestFinished(() => rmSync(folder, { recursive: true, force: true }));
    const file = join(folder, "checkpoint.safetensors");
    await saveCheckpoint(file, {
      model: config,
      training,
      epoch: 1,
      weights: first.model.stateDict(),
      optimizer: first.optimizer.stateDict(),
      generator: first.generator.getState(),
      history: [h1],
    });
    const ckpt = loadCheckpoint(file);
    const resumed = setup(999); // a different seed: everything must come from the checkpoint
    resumed.model.loadStateDict(ckpt.weights);
    resumed.optimizer.loadStateDict(ckpt.optimizer);
    resumed.generator.setState(ckpt.generator);
    const again = await epochOf(resumed, data, 2);

    expect(again.stepLosses).toEqual(second.stepLosses);
    const a = straight.model.stateDict();
    const b = resumed.model.stateDict();
    for (const name of Object.keys(a))
      expect(Array.from(b[name].dataSync()), name).toEqual(Array.from(a[name].dataSync()));
    expect(ckpt.history[0].loss).toBe(h1.loss);
  });

  it("stops with a message naming epoch and step when the loss is not finite", async () => {
    const images = data.images.slice();
    images[5] = Number.NaN;
    const broken: Dataset = { ...data, images };
    await expect(epochOf(setup(1), broken, 1)).rejects.toThrow(/loss became NaN at epoch 1, step \d+\/6/);
  });

  it("a missing or foreign checkpoint is reported by name", () => {
    expect(() => loadCheckpoint("no/such/checkpoint.safetensors")).toThrow(
      /no\/such\/checkpoint\.safetensors: checkpoint not found/,
    );
  });
});

const execFileAsync = promisify(execFile);

/** Run `npm run train:mnist -- args` as a user would (through tsx), returning its output and exit code. */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(
      process.execPath,
      ["--import", "tsx", "src/train-mnist/cli.ts", ...args],
      {
        env: { ...process.env, ELBO_BACKEND: "" },
      },
    );
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe("npm run train:mnist", () => {
  it("--help lists the flags", async () => {
    const { code, stdout } = await cli(["--help"]);
    expect(code).toBe(0);
    for (const flag of [
      "--epochs",
      "--batch-size",
      "--lr",
      "--latent",
      "--hidden",
      "--seed",
      "--limit",
      "--data",
      "--out",
      "--backend",
      "--resume",
      "--eval-only",
      "--iw-k",
      "--iw-images",
    ]) {
      expect(stdout).toContain(flag);
    }
  }, 30_000);

  it("a bad value gets a message naming the flag and a non-zero exit", async () => {
    for (const [args, pattern] of [
      [["--epochs", "zero"], /--epochs must be a positive integer, got "zero"/],
      [["--lr", "-1"], /--lr must be a positive number/],
      [["--backend", "quantum"], /unknown backend "quantum"/],
      [["--data", "/nonexistent-elbo-data"], /nonexistent-elbo-data/],
      [["--resume", "missing.safetensors"], /missing\.safetensors: checkpoint not found/],
    ] as [string[], RegExp][]) {
      const { code, stderr } = await cli(args);
      expect(code, args.join(" ")).not.toBe(0);
      expect(stderr).toMatch(pattern);
    }
  }, 60_000);

  it("trains, writes the report, and --resume continues to the same losses", async () => {
    const dir = mkdtempSync(join(tmpdir(), "elbo-cli-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const common = ["--limit", "256", "--latent", "3", "--hidden", "16", "--iw-k", "4", "--iw-images", "20"];
    const straight = await cli([...common, "--epochs", "2", "--out", join(dir, "straight")]);
    expect(straight.code, straight.stderr).toBe(0);
    expect(straight.stdout).toMatch(/^epoch 1\/2 {2}loss \d+\.\d\d {2}\d+\.\d s$/m);
    expect(straight.stdout).toMatch(/^epoch 2\/2 {2}loss \d+\.\d\d {2}\d+\.\d s$/m);
    for (const f of [
      "metrics.json",
      "checkpoint.safetensors",
      "reconstructions.png",
      "samples.png",
      "latent.png",
      "loss.png",
    ]) {
      expect(existsSync(join(dir, "straight", f)), f).toBe(true);
    }

    const half = await cli([...common, "--epochs", "1", "--out", join(dir, "half")]);
    expect(half.code, half.stderr).toBe(0);
    const resumed = await cli([
      "--resume",
      join(dir, "half", "checkpoint.safetensors"),
      "--epochs",
      "2",
      "--iw-k",
      "4",
      "--iw-images",
      "20",
      "--out",
      join(dir, "resumed"),
    ]);
    expect(resumed.code, resumed.stderr).toBe(0);

    const read = (run: string) => JSON.parse(readFileSync(join(dir, run, "metrics.json"), "utf8"));
    const a = read("straight");
    const b = read("resumed");
    expect(b.epochs.map((e: { loss: number }) => e.loss)).toEqual(
      a.epochs.map((e: { loss: number }) => e.loss),
    );
    expect(b.test.negativeElbo.loss).toBe(a.test.negativeElbo.loss);
    expect(a.test.iwae.k).toBe(4);
    expect(a.test.iwae.logLikelihood).toBeGreaterThanOrEqual(
      -a.test.negativeElbo.loss - 3 * a.test.iwae.standardError - 5,
    );
  }, 120_000);
});
