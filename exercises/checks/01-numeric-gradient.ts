import fc from "fast-check";
import { noGrad, type Tensor } from "../../src/index.ts";
import { f64, valuesArb } from "./arbitraries.ts";
import { expectClose, exported, holds } from "./assertions.ts";
import { type Exercise, Failure } from "./verdict.ts";

type NumericGradient = (f: (x: number[]) => number, x: number[], h?: number) => number[];

/** A smooth function of a vector, mixing its elements: Σ tanh(a ⊙ x) · exp(b·x₀) + (Σ x)². */
function smooth(a: readonly number[], b: number): (x: Tensor) => Tensor {
  return (x) => {
    const first = x.slice(0, 0, 1);
    return x
      .mul(f64(a, [a.length]))
      .tanh()
      .sum()
      .mul(first.mul(b).exp().sum())
      .add(x.sum().pow(2));
  };
}

export const exercise: Exercise = {
  id: "01-numeric-gradient",
  chapter: 1,
  title: "A gradient by finite differences",
  teaches: "what gradcheck computes for each element, and why it costs two evaluations of f per input",
  checks: [
    {
      name: "one derivative per variable, for f(x) = x₀² + 3x₁",
      hint: "return an array as long as x, element j the centered difference along e_j",
      run: (student) => {
        const gradient = exported<NumericGradient>(student, "numericGradient");
        const g = gradient((x) => x[0] ** 2 + 3 * x[1], [2, -1]);
        if (!Array.isArray(g)) throw new Failure(`expected an array of numbers, got ${typeof g}`);
        expectClose(g, [4, 3], "the gradient of x₀² + 3x₁ at [2, −1]", { atol: 1e-6 });
      },
    },
    {
      name: "leaves x unchanged",
      hint: "perturb a copy of x (or put each element back): the caller still uses x afterwards",
      run: (student) => {
        const gradient = exported<NumericGradient>(student, "numericGradient");
        const x = [0.1, 0.2, 0.3];
        gradient((v) => v[0] * v[1] * v[2], x);
        if (x[0] !== 0.1 || x[1] !== 0.2 || x[2] !== 0.3) {
          throw new Failure(`x was [0.1, 0.2, 0.3] and is now ${JSON.stringify(x)}`);
        }
      },
    },
    {
      name: "agrees with backward() on random smooth functions",
      hint: "step each variable both ways by h, keep the others fixed, divide by 2h",
      run: (student) => {
        const gradient = exported<NumericGradient>(student, "numericGradient");
        const caseArb = fc.integer({ min: 1, max: 5 }).chain((n) =>
          fc.record({
            x: valuesArb(n, -1.5, 1.5),
            a: valuesArb(n, -2, 2),
            b: fc.double({ min: -1, max: 1, noNaN: true }),
          }),
        );
        holds(caseArb, ({ x, a, b }) => {
          const f = smooth(a, b);
          const leaf = f64(x, [x.length]);
          leaf.requiresGrad = true;
          f(leaf).backward();
          const exact = Array.from(leaf.grad!.dataSync());
          const numeric = gradient((v) => noGrad(() => f(f64(v, [v.length])).item()), [...x]);
          expectClose(numeric, exact, "the gradient", { atol: 1e-6, rtol: 1e-5 });
        });
      },
    },
  ],
};
