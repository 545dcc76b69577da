/**
 * The lab's settings as a person types them, checked in the page's own words before any run starts:
 * each control that holds something the run cannot use gets a sentence saying what it takes, and
 * nothing is sent to the worker until every one is right. No DOM here, so tests run it in Node.
 */
import { DEFAULT_SETTINGS, LAB_BACKENDS, type LabBackend, type LabSettings } from "./protocol.ts";

/** The controls, by the id of their element, with the words the page uses for them. */
export const SETTING_LABELS = {
  backend: "backend",
  lr: "learning rate",
  latent: "latent size",
  batchSize: "batch size",
  seed: "seed",
  limit: "training images",
} as const;

export type SettingField = keyof typeof SETTING_LABELS;

export const MNIST_TRAINING_IMAGES = 60000;
export const MAX_LATENT = 64;
export const MAX_BATCH = 1024;

export interface SettingProblem {
  field: SettingField;
  message: string;
}

/** A whole number from `min` to `max` typed into `field`, or the sentence saying what it takes. */
function wholeNumber(
  field: SettingField,
  text: string,
  min: number,
  max: number,
  why = "",
): number | SettingProblem {
  const value = Number(text);
  if (text.trim() === "" || !Number.isInteger(value) || value < min || value > max) {
    return {
      field,
      message: `${SETTING_LABELS[field]}: enter a whole number from ${min.toLocaleString("en")} to ${max.toLocaleString("en")}${why}`,
    };
  }
  return value;
}

/** The settings typed into the controls, or every problem with them. */
export function readSettings(
  typed: Record<SettingField, string>,
): { settings: LabSettings; problems: [] } | { settings: null; problems: SettingProblem[] } {
  const problems: SettingProblem[] = [];
  const keep = (value: number | SettingProblem): number => {
    if (typeof value === "number") return value;
    problems.push(value);
    return Number.NaN;
  };
  const backend = typed.backend as LabBackend;
  if (!LAB_BACKENDS.includes(backend)) {
    problems.push({
      field: "backend",
      message: `backend: "${typed.backend}" is not one of the lab's backends; choose one from the list`,
    });
  }
  const lr = Number(typed.lr);
  if (typed.lr.trim() === "" || !Number.isFinite(lr) || lr <= 0 || lr > 1) {
    problems.push({
      field: "lr",
      message:
        "learning rate: enter a number above 0 and at most 1 (0.01 trains well; from about 0.1 training may diverge)",
    });
  }
  const latent = keep(
    wholeNumber("latent", typed.latent, 1, MAX_LATENT, " (z needs at least one dimension)"),
  );
  const limit = keep(wholeNumber("limit", typed.limit, 1, MNIST_TRAINING_IMAGES));
  const batchSize = keep(wholeNumber("batchSize", typed.batchSize, 1, MAX_BATCH));
  if (batchSize > limit) {
    problems.push({
      field: "batchSize",
      message: `batch size: at most the number of training images (${limit.toLocaleString("en")})`,
    });
  }
  const seed = keep(wholeNumber("seed", typed.seed, 0, 2 ** 32 - 1));
  if (problems.length > 0) return { settings: null, problems };
  return {
    settings: {
      backend,
      lr,
      latent,
      hidden: DEFAULT_SETTINGS.hidden,
      batchSize,
      seed,
      limit: limit >= MNIST_TRAINING_IMAGES ? null : limit,
    },
    problems: [],
  };
}
