/**
 * Every exercise, in the course's order. The command line (exercises/grade.ts), the book's page
 * (book/worker.ts) and the test that proves each grader can pass and can fail
 * (test/exercises/graders.test.ts) all read this list.
 */
import { exercise as centeredDifference } from "./01-centered-difference.ts";
import { exercise as numericGradient } from "./01-numeric-gradient.ts";
import { exercise as scalarAutodiff } from "./02-scalar-autodiff.ts";
import { exercise as topologicalOrder } from "./02-topological-order.ts";
import { exercise as batchedMatmul } from "./03-batched-matmul.ts";
import { exercise as meanAxis } from "./03-mean-axis.ts";
import { exercise as sumToShape } from "./03-sum-to-shape.ts";
import { exercise as gelu } from "./04-gelu.ts";
import { exercise as logSigmoid } from "./04-log-sigmoid.ts";
import { exercise as dualNumbers } from "./05-dual-numbers.ts";
import { exercise as hvp } from "./05-hvp.ts";
import { exercise as jacobianRowsColumns } from "./05-jacobian-rows-columns.ts";
import { exercise as crossEntropy } from "./06-cross-entropy.ts";
import { exercise as sgdStep } from "./06-sgd-step.ts";
import { exercise as bceWithLogits } from "./07-bce-with-logits.ts";
import { exercise as initScale } from "./07-init-scale.ts";
import { exercise as softmaxVjp } from "./07-softmax-vjp.ts";
import { exercise as checkpoint } from "./08-checkpoint.ts";
import { exercise as straightThrough } from "./08-straight-through.ts";
import { exercise as gaussianKl } from "./09-gaussian-kl.ts";
import { exercise as reparamVsReinforce } from "./09-reparam-vs-reinforce.ts";
import { exercise as broadcastKernel } from "./10-broadcast-kernel.ts";
import { exercise as scopedStep } from "./10-scoped-step.ts";
import type { Exercise } from "./verdict.ts";

export const exercises: readonly Exercise[] = [
  centeredDifference,
  numericGradient,
  scalarAutodiff,
  topologicalOrder,
  sumToShape,
  meanAxis,
  batchedMatmul,
  logSigmoid,
  gelu,
  jacobianRowsColumns,
  dualNumbers,
  hvp,
  sgdStep,
  crossEntropy,
  softmaxVjp,
  bceWithLogits,
  initScale,
  straightThrough,
  checkpoint,
  gaussianKl,
  reparamVsReinforce,
  broadcastKernel,
  scopedStep,
];

/** The exercise whose id is `id`, or starts with it when only one does. */
export function findExercise(id: string): Exercise {
  const exact = exercises.find((e) => e.id === id);
  if (exact) return exact;
  const matches = exercises.filter((e) => e.id.startsWith(id));
  if (matches.length === 1) return matches[0];
  const known = exercises.map((e) => e.id).join(", ");
  throw new Error(
    matches.length === 0
      ? `no exercise "${id}"; the exercises are ${known}`
      : `"${id}" could be any of ${matches.map((e) => e.id).join(", ")}`,
  );
}
