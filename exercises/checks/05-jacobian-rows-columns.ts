import fc from "fast-check";
import { concat, jacrev, type Tensor } from "../../src/index.ts";
import { f64, shapeArb, tensorArb } from "./arbitraries.ts";
import { expectClose, expectShape, expectTensor, exported, holds } from "./assertions.ts";
import type { Exercise, StudentModule } from "./verdict.ts";

type Jacobian = (f: (x: Tensor) => Tensor, x: Tensor) => Tensor;
const both = (student: StudentModule): [string, Jacobian][] => [
  ["jacobianByRows", exported<Jacobian>(student, "jacobianByRows")],
  ["jacobianByColumns", exported<Jacobian>(student, "jacobianByColumns")],
];

/** Functions whose outputs have other shapes than their inputs. */
const functions: [string, (x: Tensor) => Tensor][] = [
  ["tanh(x)·Σx", (x) => x.tanh().mul(x.sum())],
  ["Σ exp(x)", (x) => x.exp().sum()],
  ["softmax of x flattened", (x) => x.reshape([x.size]).softmax(0)],
  [
    "[x·x₀, Σx²]",
    (x) => {
      const flat = x.reshape([x.size]);
      return concat([flat.mul(flat.slice(0, 0, 1)), x.mul(x).sum().reshape([1])]);
    },
  ],
];

export const exercise: Exercise = {
  id: "05-jacobian-rows-columns",
  chapter: 5,
  title: "A Jacobian from VJP rows and from JVP columns",
  teaches: "that reverse mode computes the Jacobian a row at a time and forward mode a column at a time",
  checks: [
    {
      name: "x ↦ A·x has Jacobian A, by rows and by columns",
      hint: "row i is pullback(e_i)[0]; column j is jvp(f)([x], [e_j]).tangent; stack them, then reshape to [...out.shape, ...x.shape]",
      run: (student) => {
        const a = f64([1, 2, 3, 4, 5, 6], [2, 3]);
        const f = (x: Tensor) => a.matmul(x.reshape([3, 1])).reshape([2]);
        for (const [name, jacobian] of both(student)) {
          const j = expectTensor(jacobian(f, f64([0.5, -1, 2], [3])), `${name}(A·x)`);
          expectShape(j, [2, 3], `${name}(A·x)`);
          expectClose(j.dataSync(), [1, 2, 3, 4, 5, 6], `${name}(A·x)`);
        }
      },
    },
    {
      name: "elementwise tanh on a [2, 2] input: shape [2, 2, 2, 2], diagonal 1 − tanh²",
      hint: "the result's shape is the output's shape followed by the input's",
      run: (student) => {
        const x = f64([0.3, -1.2, 0.7, 2], [2, 2]);
        const v = Array.from(x.dataSync());
        const expected = v.flatMap((vi, i) => v.map((_, k) => (i === k ? 1 - Math.tanh(vi) ** 2 : 0)));
        for (const [name, jacobian] of both(student)) {
          const j = expectTensor(
            jacobian((t) => t.tanh(), x),
            `${name}(tanh)`,
          );
          expectShape(j, [2, 2, 2, 2], `${name}(tanh)`);
          expectClose(j.dataSync(), expected, `${name}(tanh)`, { atol: 1e-15, rtol: 1e-12 });
        }
      },
    },
    {
      name: "random shapes and functions: both equal elbo's jacrev",
      hint: "flatten the indices: e_i has a 1 at flat (row-major) index i of a tensor shaped like the output (rows) or the input (columns)",
      run: (student) => {
        const cases = fc.tuple(
          shapeArb(1, 3).chain((s) => tensorArb(s)),
          fc.integer({ min: 0, max: functions.length - 1 }),
        );
        holds(cases, ([x, k]) => {
          const [label, f] = functions[k];
          const reference = jacrev(f)(x);
          for (const [name, jacobian] of both(student)) {
            const j = expectTensor(jacobian(f, x), `${name}(${label})`);
            expectShape(j, reference.shape, `${name}(${label})`);
            expectClose(j.dataSync(), reference.dataSync(), `${name}(${label})`, {
              atol: 1e-12,
              rtol: 1e-10,
            });
          }
        });
      },
    },
  ],
};
