import fc from "fast-check";
import type { Tensor } from "../../src/index.ts";
import { broadcastPairArb, f64, sizeOf, tensorArb } from "./arbitraries.ts";
import {
  expectClose,
  expectGradcheck,
  expectOp,
  expectShape,
  expectTensor,
  exported,
  holds,
} from "./assertions.ts";
import type { Exercise } from "./verdict.ts";

type SumToShape = (g: Tensor, shape: readonly number[]) => Tensor;
type Add = (a: Tensor, b: Tensor) => Tensor;

/** d(Σ g ⊙ broadcast(x))/dx by elbo's own broadcastTo, for comparison. */
function reference(g: Tensor, shape: readonly number[]): number[] {
  const x = f64(new Array(sizeOf(shape)).fill(0), shape);
  x.requiresGrad = true;
  x.broadcastTo(g.shape).mul(g).sum().backward();
  return Array.from(x.grad!.dataSync());
}

export const exercise: Exercise = {
  id: "03-sum-to-shape",
  chapter: 3,
  title: "Broadcasting add and its VJP",
  teaches: "why a broadcast operand's gradient is a sum over the axes it was repeated along",
  checks: [
    {
      name: "sumToShape of ones [2, 3] to [3], [2, 1] and []",
      hint: "sum the leading axes the shape lacks and the axes where it has a 1, then reshape to the shape",
      run: (student) => {
        const sumToShape = exported<SumToShape>(student, "sumToShape");
        const g = f64([1, 1, 1, 1, 1, 1], [2, 3]);
        for (const [shape, expected] of [
          [[3], [2, 2, 2]],
          [
            [2, 1],
            [3, 3],
          ],
          [[], [6]],
        ] as const) {
          const out = expectTensor(sumToShape(g, shape), `sumToShape(g, [${shape}])`);
          expectShape(out, shape, `sumToShape(g, [${shape}])`);
          expectClose(out.dataSync(), expected, `sumToShape(g, [${shape}])`);
        }
      },
    },
    {
      name: "sumToShape over random broadcast shapes equals broadcastTo's VJP",
      hint: "an axis of size 1 stretched to n is summed with keepdims (it stays, as 1); a missing leading axis is summed away",
      run: (student) => {
        const sumToShape = exported<SumToShape>(student, "sumToShape");
        const cases = broadcastPairArb.chain(({ a, out }) => fc.tuple(fc.constant(a), tensorArb(out)));
        holds(cases, ([shape, g]) => {
          const got = expectTensor(sumToShape(g, shape), "sumToShape");
          expectShape(got, shape, `sumToShape(g of [${g.shape}], [${shape}])`);
          expectClose(got.dataSync(), reference(g, shape), `sumToShape(g of [${g.shape}], [${shape}])`, {
            atol: 1e-12,
          });
        });
      },
    },
    {
      name: "addBroadcast is one op named addBroadcast, with a + b's values",
      hint: "keep the applyOp call of the stub: it records your op under its name",
      run: (student) => {
        const add = exported<Add>(student, "addBroadcast");
        const a = f64([1, 2, 3, 4, 5, 6], [2, 3]);
        const b = f64([10, 20, 30], [3]);
        a.requiresGrad = true;
        const out = expectTensor(add(a, b), "addBroadcast(a, b)");
        expectOp(out, "addBroadcast");
        expectClose(out.dataSync(), [11, 22, 33, 14, 25, 36], "addBroadcast(a, b)");
      },
    },
    {
      name: "gradcheck of addBroadcast over random broadcast pairs",
      hint: "each thunk returns g summed back to its own input's shape (sumToShape(g, a.shape), sumToShape(g, b.shape))",
      run: (student) => {
        const add = exported<Add>(student, "addBroadcast");
        const cases = broadcastPairArb.chain(({ a, b }) => fc.tuple(tensorArb(a), tensorArb(b)));
        holds(cases, ([a, b]) => expectGradcheck((x, y) => add(x, y), [a, b], { name: "addBroadcast" }), 30);
      },
    },
  ],
};
