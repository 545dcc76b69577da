import fc from "fast-check";
import { hessian, type Tensor } from "../../src/index.ts";
import { f64, tensorArb } from "./arbitraries.ts";
import { expectClose, expectShape, expectTensor, exported, holds } from "./assertions.ts";
import type { Exercise } from "./verdict.ts";

type Hvp = (f: (x: Tensor) => Tensor, x: Tensor, v: Tensor) => Tensor;

const functions: [string, (x: Tensor) => Tensor][] = [
  ["Σ tanh(x)·Σx", (x) => x.tanh().mul(x.sum()).sum()],
  ["logsumexp(x)", (x) => x.reshape([x.size]).logsumexp(0)],
  ["Σ x³ + (Σx)²", (x) => x.pow(3).sum().add(x.sum().pow(2))],
];

export const exercise: Exercise = {
  id: "05-hvp",
  chapter: 5,
  title: "Hessian-vector products from grad",
  teaches: "that H·v costs two gradients, not n, because it is the gradient of ⟨∇f, v⟩",
  checks: [
    {
      name: "a quadratic form Σ (A·x) ⊙ x has H·v = (A + Aᵀ)·v",
      hint: "differentiate y ↦ ⟨grad(f)(y), v⟩ with grad once more",
      run: (student) => {
        const hvp = exported<Hvp>(student, "hessianVectorProduct");
        const a = f64([1, 2, 0, -1, 3, 1, 0.5, 0, 2], [3, 3]);
        const f = (x: Tensor) =>
          a
            .matmul(x.reshape([3, 1]))
            .reshape([3])
            .mul(x)
            .sum();
        const out = expectTensor(hvp(f, f64([0.3, -1, 2], [3]), f64([1, 0.5, -2], [3])), "H·v");
        expectShape(out, [3], "H·v");
        // (A + Aᵀ)·v with A + Aᵀ = [[2, 1, 0.5], [1, 6, 1], [0.5, 1, 4]]
        expectClose(out.dataSync(), [1.5, 2, -7], "H·v of the quadratic form");
      },
    },
    {
      name: "random points, directions and functions: equals hessian(f)(x)·v",
      hint: "H·v has x's shape; v is held fixed while you differentiate ⟨∇f(y), v⟩ in y",
      run: (student) => {
        const hvp = exported<Hvp>(student, "hessianVectorProduct");
        const cases = fc
          .integer({ min: 1, max: 4 })
          .chain((n) =>
            fc.tuple(tensorArb([n]), tensorArb([n]), fc.integer({ min: 0, max: functions.length - 1 })),
          );
        holds(cases, ([x, v, k]) => {
          const [label, f] = functions[k];
          const expected = hessian(f)(x)
            .matmul(v.reshape([v.size, 1]))
            .reshape([v.size]);
          const out = expectTensor(hvp(f, x, v), `H·v of ${label}`);
          expectShape(out, x.shape, `H·v of ${label}`);
          expectClose(out.dataSync(), expected.dataSync(), `H·v of ${label}`, { atol: 1e-12, rtol: 1e-10 });
        });
      },
    },
  ],
};
