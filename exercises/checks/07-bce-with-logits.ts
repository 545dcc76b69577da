import fc from "fast-check";
import { binaryCrossEntropyWithLogits, type Tensor, tensor, topologicalOrder } from "../../src/index.ts";
import { f64, shapeArb, sizeOf, valuesArb } from "./arbitraries.ts";
import { expectClose, expectGradcheck, expectShape, expectTensor, exported, holds } from "./assertions.ts";
import { type Exercise, Failure } from "./verdict.ts";

type Bce = (logits: Tensor, targets: Tensor) => Tensor;
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** Logits and targets of one random shape. */
const pairArb = shapeArb(1, 2).chain((shape) =>
  fc
    .tuple(valuesArb(sizeOf(shape), -6, 6), valuesArb(sizeOf(shape), 0, 1))
    .map(([l, t]) => [f64(l, shape), f64(t, shape)] as const),
);

export const exercise: Exercise = {
  id: "07-bce-with-logits",
  chapter: 7,
  title: "BCE with logits, stable in float32",
  teaches:
    "why a loss is computed from logits: the algebra that removes log(1 − σ), and the gradient σ(ℓ) − t",
  checks: [
    {
      name: "values equal elbo's on random logits and targets",
      hint: "mean of softplus(ℓ) − t·ℓ",
      run: (student) => {
        const bce = exported<Bce>(student, "bceWithLogits");
        holds(pairArb, ([l, t]) => {
          const out = expectTensor(bce(l, t), "bceWithLogits(l, t)");
          expectShape(out, [], "bceWithLogits(l, t)");
          expectClose(out.item(), binaryCrossEntropyWithLogits(l, t).item(), "the loss", {
            atol: 1e-12,
            rtol: 1e-12,
          });
          for (const node of topologicalOrder(out)) {
            if (node.op === "binaryCrossEntropyWithLogits")
              throw new Failure(
                "write the loss from softplus, mul and sub, not with binaryCrossEntropyWithLogits",
              );
          }
        });
      },
    },
    {
      name: "confident mistakes in float32: logits ±20 and ±100, loss and gradient exact",
      hint: "σ(20) rounds to 1 in float32, so log(1 − σ(20)) = −∞: never take the log of a probability you computed",
      run: (student) => {
        const bce = exported<Bce>(student, "bceWithLogits");
        const logits = [20, -20, 100, -100];
        const wrong = [0, 1, 0, 1]; // every prediction confidently wrong
        const l = tensor(logits, { requiresGrad: true });
        const loss = bce(l, tensor(wrong));
        expectClose(loss.item(), (20 + 20 + 100 + 100) / 4, "the mean loss of four wrong predictions", {
          rtol: 1e-6,
        });
        loss.backward();
        expectClose(
          l.grad!.dataSync(),
          logits.map((v, i) => (sigmoid(v) - wrong[i]) / 4),
          "d loss/d logits: (σ(ℓ) − t)/n",
          {
            rtol: 1e-6,
          },
        );
        // Right predictions lose almost nothing: softplus(20) − 20 rounds to 0 in float32, which is fine.
        const right = tensor(logits.map((v) => (v > 0 ? 1 : 0)));
        expectClose(
          bce(tensor(logits), right).item(),
          0,
          "the mean loss of four confidently right predictions",
          {
            atol: 1e-8,
          },
        );
      },
    },
    {
      name: "gradcheck over random shapes",
      hint: "build it from differentiable ops on the logits",
      run: (student) => {
        const bce = exported<Bce>(student, "bceWithLogits");
        holds(pairArb, ([l, t]) => expectGradcheck((x) => bce(x, t), [l], { name: "bceWithLogits" }));
      },
    },
  ],
};
