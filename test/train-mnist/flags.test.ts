/**
 * The flags of `npm run train:mnist`, in-process: their defaults, the values each refuses with a
 * message naming it, and the settings of a run they give, new or continued from a checkpoint. (The
 * end-to-end runs of the command in cli.test.ts show the same messages reach the terminal.)
 */
import { mkdirSync, symlinkSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../../src/kernels/registry.ts";
import { defaultOutFolder, flagsCommand, parseFlags, settingsOf } from "../../src/train-mnist/flags.ts";
import type { Checkpoint, TrainingConfig } from "../../src/vae/checkpoint-format.ts";
import { latentMapMethods } from "../../src/vae/latent-map.ts";
import { sharedTempDir } from "../fixtures/temp-dir.ts";

/** Parse as the command line does, but throw the message instead of ending the process. */
function parse(...argv: string[]) {
  return parseFlags(
    argv,
    flagsCommand()
      .exitOverride()
      .configureOutput({ writeErr: () => {}, writeOut: () => {} }),
  );
}

function refusal(...argv: string[]): string {
  try {
    parse(...argv);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`${argv.join(" ")} was accepted`);
}

describe("the flags", () => {
  it("default to the reference tutorial's settings, each marked as a default", () => {
    const { flags, source } = parse();
    expect(flags).toEqual({
      epochs: 5,
      batchSize: 128,
      lr: 0.01,
      latent: 10,
      hidden: 200,
      seed: 1,
      iwK: 50,
      iwImages: 1000,
      latentMap: "tsne",
    });
    expect(source("epochs")).toBe("default");
    expect(source("limit")).toBeUndefined();
  });

  it("read every value given, and say it came from the command line", () => {
    const { flags, source } = parse(
      "--epochs",
      "3",
      "--batch-size",
      " 64 ",
      "--lr",
      "1e-3",
      "--latent",
      "2",
      "--hidden",
      "7",
      "--seed",
      "-4",
      "--limit",
      "100",
      "--data",
      "d",
      "--out",
      "o",
      "--backend",
      "cpu",
      "--resume",
      "c.safetensors",
      "--iw-k",
      "5",
      "--iw-images",
      "9",
      "--latent-map",
      "umap",
    );
    expect(flags).toEqual({
      epochs: 3,
      batchSize: 64,
      lr: 0.001,
      latent: 2,
      hidden: 7,
      seed: -4,
      limit: 100,
      data: "d",
      out: "o",
      backend: "cpu",
      resume: "c.safetensors",
      iwK: 5,
      iwImages: 9,
      latentMap: "umap",
    });
    expect(source("epochs")).toBe("cli");
    expect(source("batchSize")).toBe("cli");
    expect(parse("--eval-only", "c.safetensors", "--allow-non-finite").flags.allowNonFinite).toBe(true);
  });

  it("refuse an empty path for every path flag, naming it", () => {
    for (const flag of ["--data", "--out", "--resume", "--eval-only"]) {
      expect(refusal(flag, ""), flag).toContain(`${flag} must name a file or folder, got an empty path`);
    }
    // A name of spaces is a name.
    expect(parse("--out", " ").flags.out).toBe(" ");
  });

  it("refuse a flag that the mode would ignore: --epochs with --eval-only, --allow-non-finite without it", () => {
    expect(refusal("--eval-only", "c", "--epochs", "9")).toContain(
      "--epochs does not apply to --eval-only, which trains nothing",
    );
    for (const argv of [["--allow-non-finite"], ["--resume", "c", "--allow-non-finite"]]) {
      expect(refusal(...argv), argv.join(" ")).toContain("--allow-non-finite applies only to --eval-only");
    }
  });

  it("take 1 as the smallest positive integer, and refuse what is not one, naming the flag and the value", () => {
    for (const [flag, key] of [
      ["--epochs", "epochs"],
      ["--batch-size", "batchSize"],
      ["--latent", "latent"],
      ["--hidden", "hidden"],
      ["--limit", "limit"],
      ["--iw-k", "iwK"],
      ["--iw-images", "iwImages"],
    ] as const) {
      expect(parse(flag, "1").flags[key], flag).toBe(1);
      for (const value of ["0", "-1", "+5", "1.5", "abc", "", " ", "1e3", "0x10", "9007199254740993"]) {
        expect(refusal(flag, value), `${flag} ${value}`).toContain(
          `${flag} must be a positive integer, got "${value}"`,
        );
      }
    }
  });

  it("refuse a learning rate that is not a positive finite number", () => {
    for (const value of ["0", "-0.1", "", " ", "abc", "Infinity", "NaN"]) {
      expect(refusal("--lr", value), value).toContain(`--lr must be a positive number, got "${value}"`);
    }
  });

  it("take any safe integer as the seed, and nothing else", () => {
    expect(parse("--seed", "0").flags.seed).toBe(0);
    expect(parse("--seed", " 12 ").flags.seed).toBe(12);
    for (const value of ["1.5", "x", "", "+5", "1e2", "-", "9007199254740993"]) {
      expect(refusal("--seed", value), value).toContain(`--seed must be an integer, got "${value}"`);
    }
  });

  it("are each explained in --help, which names every backend and latent map", () => {
    const command = flagsCommand();
    const help = command.helpInformation();
    expect(help).toMatch(/^Usage: train:mnist \[options\]\n\nTrain a Bernoulli VAE on MNIST/);
    for (const option of command.options) {
      expect(option.description.trim().length, option.long).toBeGreaterThan(10);
      expect(help).toContain(option.long);
    }
    const words = (flag: string) =>
      command.options.find((o) => o.long === flag)?.description.split(/[\s,:()]+/);
    for (const backend of backendNames) expect(words("--backend")).toContain(backend);
    for (const method of latentMapMethods) expect(words("--latent-map")).toContain(method);
  });

  it("after a bad value, point to --help", () => {
    let shown = "";
    const command = flagsCommand()
      .exitOverride()
      .configureOutput({ writeErr: (text) => (shown += text), writeOut: () => {} });
    expect(() => parseFlags(["--epochs", "x"], command)).toThrow();
    expect(shown).toMatch(/--epochs must be a positive integer/);
    expect(shown).toMatch(/--help/);
  });

  it("refuse an unknown latent map, and --resume with --eval-only", () => {
    expect(parse("--eval-only", "c.safetensors").flags.evalOnly).toBe("c.safetensors");
    expect(refusal("--latent-map", "pca")).toContain('--latent-map must be tsne or umap, got "pca"');
    expect(refusal("--resume", "a", "--eval-only", "b")).toContain(
      "--resume and --eval-only cannot be used together",
    );
  });
});

describe("the default output folder", () => {
  it("is runs/ and the time to the second, without characters a file name should not hold", () => {
    expect(defaultOutFolder(new Date(Date.UTC(2026, 10, 30, 1, 4, 3, 789)))).toBe(
      join("runs", "2026-11-30T01-04-03"),
    );
  });
});

describe("the settings of a run", () => {
  const root = sharedTempDir("elbo-flags-");
  beforeAll(() => {
    mkdirSync(join(root, "mnist"));
    mkdirSync(join(root, "other"));
    symlinkSync(join(root, "mnist"), join(root, "link"));
  });

  const saved: TrainingConfig = {
    epochs: 2,
    batchSize: 32,
    lr: 0.005,
    seed: 9,
    limit: 500,
    dataDir: null,
  };
  const checkpoint = (training: Partial<TrainingConfig> = {}, epoch = 1) =>
    ({
      model: { inputDim: 784, latentDim: 3, encUnits: 20, decUnits: 20 },
      training: { ...saved, ...training },
      epoch,
    }) as Checkpoint;
  const settings = (resumed: Checkpoint | undefined, ...argv: string[]) => {
    const { flags, source } = parse(...argv);
    const path = flags.evalOnly ?? (resumed === undefined ? undefined : "ck.safetensors");
    return settingsOf(flags, source, resumed, path);
  };

  it("of a new run come from the flags, the data folder stored absolute", () => {
    const data = relative(process.cwd(), join(root, "mnist"));
    expect(settings(undefined, "--latent", "4", "--hidden", "30", "--limit", "50", "--data", data)).toEqual({
      config: { inputDim: 784, latentDim: 4, encUnits: 30, decUnits: 30 },
      training: { epochs: 5, batchSize: 128, lr: 0.01, seed: 1, limit: 50, dataDir: join(root, "mnist") },
    });
    expect(settings(undefined).training).toMatchObject({ limit: null, dataDir: null });
  });

  it("of a continued run come from the checkpoint; only --epochs changes them", () => {
    const resumed = checkpoint();
    expect(settings(resumed, "--out", "x", "--iw-k", "3")).toEqual({
      config: resumed.model,
      training: saved,
    });
    expect(settings(resumed, "--epochs", "7").training).toEqual({ ...saved, epochs: 7 });
    // Asking for the checkpoint's own value is still asking to change what it fixes.
    for (const [argv, flag] of [
      [["--batch-size", "32"], "--batch-size"],
      [["--lr", "0.1"], "--lr"],
      [["--latent", "3"], "--latent"],
      [["--hidden", "8"], "--hidden"],
      [["--seed", "9"], "--seed"],
      [["--limit", "10"], "--limit"],
      [["--data", root], "--data"],
    ] as [string[], string][]) {
      expect(() => settings(resumed, ...argv), flag).toThrow(
        `${flag} cannot be changed when continuing from ck.safetensors: the checkpoint fixes it`,
      );
    }
  });

  it("of a continued run refuse to continue to where it already is: nothing would be trained", () => {
    for (const epochs of ["2", "1"]) {
      expect(() => settings(checkpoint({}, 2), "--epochs", epochs), epochs).toThrow(
        `--epochs ${epochs}: ck.safetensors has already trained 2 epochs, so there is nothing to train; ask for more than 2, or evaluate it with --eval-only`,
      );
    }
    // Without --epochs, the checkpoint's own target, already reached.
    expect(() => settings(checkpoint({ epochs: 2 }, 2))).toThrow(
      "ck.safetensors has trained all of its 2 epochs: pass --epochs above 2 to train more, or evaluate it with --eval-only",
    );
    expect(settings(checkpoint({}, 2), "--epochs", "3").training.epochs).toBe(3);
    // Evaluating a finished run is what --eval-only is for.
    expect(settings(checkpoint({ epochs: 2 }, 2), "--eval-only", "ck.safetensors").training.epochs).toBe(2);
  });

  it("of an evaluated checkpoint say so when a flag would change what it fixes", () => {
    expect(() => settings(checkpoint(), "--eval-only", "ev.safetensors", "--seed", "3")).toThrow(
      "--seed cannot be changed when evaluating ev.safetensors: the checkpoint fixes it",
    );
  });

  it("accept --data naming the checkpoint's folder another way, and no other folder", () => {
    const resumed = checkpoint({ dataDir: join(root, "mnist") });
    for (const same of [
      join(root, "link"),
      relative(process.cwd(), join(root, "mnist")),
      `${root}/other/../mnist`,
    ]) {
      expect(settings(resumed, "--data", same).training.dataDir, same).toBe(join(root, "mnist"));
    }
    expect(() => settings(resumed, "--data", join(root, "other"))).toThrow(/--data cannot be changed/);
    // The same folder does not let another fixed flag through.
    expect(() => settings(resumed, "--data", join(root, "link"), "--seed", "3")).toThrow(
      /--seed cannot be changed/,
    );
    expect(() => settings(resumed, "--data", join(root, "missing"))).toThrow(/--data cannot be changed/);
    // An older checkpoint's relative folder is read from where the run is.
    expect(settings(checkpoint({ dataDir: "mnist" })).training.dataDir).toBe(resolve("mnist"));
  });
});
