import fc from "fast-check";
import type { Tensor } from "../../src/index.ts";
import { f64, shapeArb, tensorArb } from "./arbitraries.ts";
import { expectClose, expectGradcheck, expectOp, expectTensor, exported, holds } from "./assertions.ts";
import type { Exercise } from "./verdict.ts";

type MeanAxis = (x: Tensor, axis: number, keepdims: boolean) => Tensor;

/** A tensor of rank 1..3, an axis of it (negative half the time) and keepdims. */
const caseArb = shapeArb(1, 3).chain((shape) =>
  fc.tuple(
    tensorArb(shape),
    fc.integer({ min: 0, max: shape.length - 1 }).chain((a) => fc.constantFrom(a, a - shape.length)),
    fc.boolean(),
  ),
);

export const exercise: Exercise = {
  id: "03-mean-axis",
  chapter: 3,
  title: "The mean over an axis and its VJP",
  teaches: "how a reduction's backward broadcasts the gradient back over the axis it reduced",
  checks: [
    {
      name: "the mean over axis 1 of [[1, 2, 3], [4, 5, 6]], and its gradient",
      hint: "each of the 3 elements of a row gets 1/3 of that row's gradient",
      run: (student) => {
        const mean = exported<MeanAxis>(student, "meanAxis");
        const x = f64([1, 2, 3, 4, 5, 6], [2, 3]);
        x.requiresGrad = true;
        const out = expectTensor(mean(x, 1, false), "meanAxis(x, 1, false)");
        expectOp(out, "meanAxis");
        expectClose(out.dataSync(), [2, 5], "meanAxis(x, 1, false)");
        out
          .mul(f64([1, 10], [2]))
          .sum()
          .backward();
        expectClose(
          x.grad!.dataSync(),
          [1 / 3, 1 / 3, 1 / 3, 10 / 3, 10 / 3, 10 / 3],
          "x.grad for L = Σ mean · [1, 10]",
        );
      },
    },
    {
      name: "gradcheck over random shapes, axes (negative too) and keepdims",
      hint: "without keepdims g has lost the axis: reshape it back with a 1 there before broadcasting; a negative axis counts from the end",
      run: (student) => {
        const mean = exported<MeanAxis>(student, "meanAxis");
        holds(caseArb, ([x, axis, keepdims]) =>
          expectGradcheck((t) => mean(t, axis, keepdims), [x], { name: `meanAxis(·, ${axis}, ${keepdims})` }),
        );
      },
    },
  ],
};
