import fc from "fast-check";
import { type Tensor, tensor } from "../../src/index.ts";
import { f64, valuesArb } from "./arbitraries.ts";
import {
  expectClose,
  expectGradcheck,
  expectGradgradcheck,
  expectOp,
  expectTensor,
  exported,
  holds,
} from "./assertions.ts";
import type { Exercise } from "./verdict.ts";

type Gelu = (x: Tensor) => Tensor;
const c = Math.sqrt(2 / Math.PI);
const exactGelu = (v: number) => 0.5 * v * (1 + Math.tanh(c * (v + 0.044715 * v ** 3)));
const pointsArb = fc.integer({ min: 1, max: 6 }).chain((n) => valuesArb(n, -4, 4));

export const exercise: Exercise = {
  id: "04-gelu",
  chapter: 4,
  title: "GELU with its derivative by hand",
  teaches: "deriving a VJP with the product and chain rules, and checking first and second order",
  checks: [
    {
      name: "one op named gelu, with gelu's values",
      hint: '½·x·(1 + tanh(c·(x + 0.044715·x³))), recorded with applyOp("gelu", …)',
      run: (student) => {
        const gelu = exported<Gelu>(student, "gelu");
        const points = [-3, -1, 0, 0.5, 2];
        const out = expectTensor(gelu(tensor(points, { dtype: "float64", requiresGrad: true })), "gelu(x)");
        expectOp(out, "gelu");
        expectClose(out.dataSync(), points.map(exactGelu), "gelu(x)", { atol: 1e-12, rtol: 1e-12 });
      },
    },
    {
      name: "gradcheck at random points",
      hint: "the product rule gives ½(1 + tanh u) + ½·x·(1 − tanh² u)·du/dx, and du/dx = c·(1 + 3·0.044715·x²)",
      run: (student) => {
        const gelu = exported<Gelu>(student, "gelu");
        expectGradcheck(gelu, [f64([-3, -1.5, 0, 0.5, 2], [5])], { name: "gelu" });
        holds(pointsArb, (v) => expectGradcheck(gelu, [f64(v, [v.length])], { name: "gelu" }));
      },
    },
    {
      name: "gradgradcheck at random points",
      hint: "make the VJP of tensor ops on x (no numbers read out of it), so it can be differentiated again",
      run: (student) => {
        const gelu = exported<Gelu>(student, "gelu");
        holds(pointsArb, (v) => expectGradgradcheck(gelu, [f64(v, [v.length])], { name: "gelu" }), 20);
      },
    },
  ],
};
