import { grad, type Tensor, tensor } from "../../src/index.ts";
import { expectClose, exported, holds } from "./assertions.ts";
import { evaluate, expressionArb, tensorArithmetic } from "./expressions.ts";
import type { Exercise, StudentModule } from "./verdict.ts";

interface Dual {
  value: number;
  tangent: number;
  add(other: Dual | number): Dual;
  mul(other: Dual | number): Dual;
  exp(): Dual;
  tanh(): Dual;
}
type DualClass = new (value: number, tangent: number) => Dual;
type Derivative = (f: (x: Dual) => Dual, x: number) => number;

const parts = (student: StudentModule) => ({
  D: exported<DualClass>(student, "Dual"),
  derivative: exported<Derivative>(student, "derivative"),
});

export const exercise: Exercise = {
  id: "05-dual-numbers",
  chapter: 5,
  title: "Forward mode with dual numbers",
  teaches: "that forward mode carries derivatives along with values, one direction per pass, with no graph",
  checks: [
    {
      name: "x·x + 3x at 2: value 10, derivative 7",
      hint: "add adds the tangents; mul applies the product rule a′·b + a·b′; a number has tangent 0",
      run: (student) => {
        const { D, derivative } = parts(student);
        const y = new D(2, 1).mul(new D(2, 1)).add(new D(2, 1).mul(3));
        expectClose([y.value, y.tangent], [10, 7], "[value, tangent] of x·x + 3x at x = (2, 1)");
        expectClose(
          derivative((x) => x.mul(x).add(x.mul(3)), 2),
          7,
          "derivative(x·x + 3x, 2)",
        );
      },
    },
    {
      name: "exp and tanh, by the chain rule",
      hint: "exp(a, a′) = (eᵃ, eᵃ·a′); tanh(a, a′) = (tanh a, (1 − tanh² a)·a′)",
      run: (student) => {
        const { derivative } = parts(student);
        expectClose(
          derivative((x) => x.mul(2).exp(), 0.3),
          2 * Math.exp(0.6),
          "d exp(2x)/dx at 0.3",
          { rtol: 1e-12 },
        );
        expectClose(
          derivative((x) => x.tanh().mul(x), 0.8),
          Math.tanh(0.8) + 0.8 * (1 - Math.tanh(0.8) ** 2),
          "d x·tanh(x)/dx at 0.8",
          {
            rtol: 1e-12,
          },
        );
      },
    },
    {
      name: "random expressions in one variable: derivative equals elbo's grad",
      hint: "every op must pass the tangent on; a node used twice simply appears twice in the computation",
      run: (student) => {
        const { derivative } = parts(student);
        holds(expressionArb(1, 1), (e) => {
          const ops = {
            add: (a: Dual, b: Dual) => a.add(b),
            mul: (a: Dual, b: Dual) => a.mul(b),
            tanh: (a: Dual) => a.tanh(),
            addConstant: (a: Dual, c: number) => a.add(c),
            mulConstant: (a: Dual, c: number) => a.mul(c),
          };
          const got = derivative((x) => evaluate(e, [x], ops).at(-1)!, e.leaves[0]);
          const expected = grad((x: Tensor) => evaluate(e, [x], tensorArithmetic).at(-1)!)(
            tensor(e.leaves[0], { dtype: "float64" }),
          ).item();
          expectClose(got, expected, "the derivative", { atol: 1e-10, rtol: 1e-9 });
        });
      },
    },
  ],
};
