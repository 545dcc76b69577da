import fc from "fast-check";
import type { Tensor } from "../../src/index.ts";
import { f64, shapeArb, sizeOf, valuesArb } from "./arbitraries.ts";
import { expectClose, expectShape, expectTensor, exported, holds } from "./assertions.ts";
import type { Exercise } from "./verdict.ts";

type Binarize = (x: Tensor) => Tensor;
const inputArb = shapeArb(1, 3).chain((shape) => valuesArb(sizeOf(shape), -3, 3).map((v) => ({ v, shape })));

export const exercise: Exercise = {
  id: "08-straight-through",
  chapter: 8,
  title: "A straight-through sign",
  teaches: "how detach lets the forward pass compute one thing and the backward pass differentiate another",
  checks: [
    {
      name: "the forward pass is ±1 (and +1 at 0)",
      hint: "x.greaterEqual(0).mul(2).sub(1) is +1 where x ≥ 0 and −1 elsewhere",
      run: (student) => {
        const binarize = exported<Binarize>(student, "signStraightThrough");
        holds(inputArb, ({ v, shape }) => {
          const out = expectTensor(binarize(f64(v, shape)), "signStraightThrough(x)");
          expectShape(out, shape, "signStraightThrough(x)");
          expectClose(
            out.dataSync(),
            v.map((e) => (e >= 0 ? 1 : -1)),
            `signStraightThrough([${v}])`,
          );
        });
        expectClose(binarize(f64([0], [1])).dataSync(), [1], "signStraightThrough([0])");
      },
    },
    {
      name: "the gradient passes where |x| ≤ 1 and stops where |x| > 1",
      hint: "take the gradient from clamp(x, −1, 1) and the value from a detached correction: clipped + detach(sign − clipped)",
      run: (student) => {
        const binarize = exported<Binarize>(student, "signStraightThrough");
        holds(fc.tuple(inputArb, fc.integer()), ([{ v, shape }, seed]) => {
          const x = f64(v, shape);
          x.requiresGrad = true;
          const weights = v.map((_, i) => Math.cos(seed + i));
          binarize(x).mul(f64(weights, shape)).sum().backward();
          if (x.grad === null)
            throw new Error(
              "no gradient reached x: the result must depend on x through ops, not only through detached values",
            );
          expectClose(
            x.grad.dataSync(),
            v.map((e, i) => (Math.abs(e) <= 1 ? weights[i] : 0)),
            `the gradient at [${v}]`,
            {
              atol: 1e-12,
            },
          );
        });
      },
    },
  ],
};
