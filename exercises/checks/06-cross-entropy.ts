import fc from "fast-check";
import { crossEntropy as reference, type Tensor, tensor } from "../../src/index.ts";
import { f64, valuesArb } from "./arbitraries.ts";
import { expectClose, expectShape, expectTensor, exported, holds } from "./assertions.ts";
import type { Exercise } from "./verdict.ts";

type CrossEntropy = (logits: Tensor, labels: readonly number[]) => Tensor;

/** Logits [n, k] with n in 1..4, k in 2..5, and a label per row. */
const batchArb = fc
  .record({ n: fc.integer({ min: 1, max: 4 }), k: fc.integer({ min: 2, max: 5 }) })
  .chain(({ n, k }) =>
    fc.tuple(
      valuesArb(n * k, -4, 4).map((v) => ({ values: v, shape: [n, k] })),
      fc.array(fc.integer({ min: 0, max: k - 1 }), { minLength: n, maxLength: n }),
    ),
  );

export const exercise: Exercise = {
  id: "06-cross-entropy",
  chapter: 6,
  title: "Softmax cross-entropy from logsumexp",
  teaches:
    "why a classifier's loss is computed from logits, and where its gradient softmax − onehot comes from",
  checks: [
    {
      name: "values equal elbo's crossEntropy on random batches",
      hint: "mean over rows of logsumexp(row) − row[label]",
      run: (student) => {
        const ce = exported<CrossEntropy>(student, "crossEntropy");
        holds(batchArb, ([{ values, shape }, labels]) => {
          const logits = f64(values, shape);
          const out = expectTensor(ce(logits, labels), "crossEntropy(logits, labels)");
          expectShape(out, [], "crossEntropy(logits, labels)");
          expectClose(out.item(), reference(logits, labels).item(), "the loss", { atol: 1e-12, rtol: 1e-12 });
        });
      },
    },
    {
      name: "its gradient is (softmax − onehot) / n",
      hint: "build it from differentiable ops on the logits (logsumexp, mul by a constant one-hot, sum, mean)",
      run: (student) => {
        const ce = exported<CrossEntropy>(student, "crossEntropy");
        holds(batchArb, ([{ values, shape }, labels]) => {
          const [n, k] = shape;
          const logits = f64(values, shape);
          logits.requiresGrad = true;
          ce(logits, labels).backward();
          const s = Array.from(logits.detach().softmax(1).dataSync());
          const expected = s.map((p, i) => (p - (i % k === labels[Math.floor(i / k)] ? 1 : 0)) / n);
          expectClose(logits.grad!.dataSync(), expected, "d loss/d logits", { atol: 1e-12, rtol: 1e-10 });
        });
      },
    },
    {
      name: "finite and exact at logits of ±10⁴ in float32",
      hint: "exp(10⁴) overflows: use logits.logsumexp(1), which shifts by the row's maximum first",
      run: (student) => {
        const ce = exported<CrossEntropy>(student, "crossEntropy");
        const logits = tensor([
          [1e4, 0, -1e4],
          [0, 1e4, 0],
        ]);
        expectClose(ce(logits, [0, 1]).item(), 0, "the loss when both rows are right by 10⁴", { atol: 1e-3 });
        expectClose(ce(logits, [1, 0]).item(), 1e4, "the loss when both rows are wrong by 10⁴", {
          rtol: 1e-6,
        });
      },
    },
  ],
};
