/**
 * A training failure as the lab's page says it: the step counted as the page counts (across
 * epochs), the control by the page's name, never the command line's flags. No DOM here, so tests
 * run it in Node.
 */
import { TrainingDiverged } from "../src/vae/train.ts";

export function failureInPageWords(error: unknown): string {
  if (error instanceof TrainingDiverged) {
    const step = (error.epoch - 1) * error.steps + error.step;
    return `Training stopped at step ${step}: ${error.what}. The learning rate is probably too large for this model: make it smaller and press reset.`;
  }
  return `Training stopped: ${error instanceof Error ? error.message : String(error)}`;
}
