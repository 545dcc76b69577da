/**
 * The progress of train:mnist within an epoch, written to a stream held here: a plain line every
 * tenth of the epoch when the output is a file or a pipe (never the last step, which the epoch's own
 * line follows), and a bar that ends cleared on a terminal.
 */
import { describe, expect, it } from "vitest";
import { progressReporter } from "../../src/train-mnist/progress.ts";
import type { StepReport } from "../../src/vae/train.ts";

/** A stream that keeps what is written to it. */
function output(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  const chunks: string[] = [];
  const stream = {
    isTTY,
    columns: 200,
    write: (chunk: string) => {
      chunks.push(chunk);
      return true;
    },
  } as unknown as NodeJS.WriteStream;
  return { stream, text: () => chunks.join("") };
}

const report = (step: number, steps: number): StepReport => ({
  step,
  steps,
  loss: 0,
  bce: 0,
  kl: 0,
  average: 100 + 1 / step,
  inspected: [],
});

/** The steps whose line is printed when an epoch of `steps` steps is reported step by step. */
function printedSteps(steps: number): number[] {
  const { stream, text } = output(false);
  const progress = progressReporter(1, 3, stream);
  for (let step = 1; step <= steps; step++) progress.onStep(report(step, steps));
  progress.stop();
  return [...text().matchAll(/^ {2}step (\d+)\/(\d+) {2}loss (\d+\.\d\d)$/gm)].map((m) => {
    expect(Number(m[2])).toBe(steps);
    expect(m[3]).toBe((100 + 1 / Number(m[1])).toFixed(2));
    return Number(m[1]);
  });
}

describe("progress without a terminal", () => {
  it("prints a line with the running loss every tenth of the epoch, not at its last step", () => {
    expect(printedSteps(20)).toEqual([2, 4, 6, 8, 10, 12, 14, 16, 18]);
    expect(printedSteps(47)).toEqual([5, 10, 15, 20, 25, 30, 35, 40, 45]);
    // Fewer than ten steps: every step but the last.
    expect(printedSteps(4)).toEqual([1, 2, 3]);
    expect(printedSteps(1)).toEqual([]);
  });
});

describe("progress on a terminal", () => {
  it("draws a bar naming the epoch, the step and the running loss, and clears it at the end", () => {
    const { stream, text } = output(true);
    const progress = progressReporter(2, 5, stream);
    progress.onStep(report(1, 8));
    expect(text()).toMatch(/epoch 2\/5 \[[░█]+\] 0\/8 steps {2}loss …/);
    progress.onStep(report(2, 8));
    progress.stop();
    // Started once (its "…" placeholder drawn once), never hiding the cursor (ESC [ ? 25 l): a
    // Ctrl-C mid-epoch would leave the shell without one.
    expect(text().split("loss …")).toHaveLength(2);
    expect(text()).not.toContain("\x1b[?25l");
    // The last drawing shows the last step's figures, and then the line is cleared (ESC [ 2 K).
    const drawn = text();
    const last = drawn.lastIndexOf("epoch 2/5");
    expect(drawn.slice(last)).toMatch(/^epoch 2\/5 \[[░█]+\] 2\/8 steps {2}loss 100\.50/);
    expect(drawn.slice(last)).toContain("\x1b[2K");
  });
});
