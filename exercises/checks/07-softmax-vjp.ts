import { type Tensor, tensor } from "../../src/index.ts";
import { shapeArb, tensorArb } from "./arbitraries.ts";
import { expectClose, expectGradcheck, expectOp, expectTensor, exported, holds } from "./assertions.ts";
import type { Exercise } from "./verdict.ts";

type Softmax = (x: Tensor) => Tensor;
const inputArb = shapeArb(1, 3).chain((s) => tensorArb(s, -3, 3));

export const exercise: Exercise = {
  id: "07-softmax-vjp",
  chapter: 7,
  title: "Softmax with its VJP by hand",
  teaches: "the softmax Jacobian diag(s) − ssᵀ, applied as a VJP without ever forming it, and the max-shift",
  checks: [
    {
      name: "one op named softmax, equal to elbo's on random shapes",
      hint: "e = exp(x − max(x)) along the last axis, then e / Σ e with keepdims",
      run: (student) => {
        const softmax = exported<Softmax>(student, "softmax");
        holds(inputArb, (x) => {
          x.requiresGrad = true;
          const out = expectTensor(softmax(x), "softmax(x)");
          expectOp(out, "softmax");
          expectClose(out.dataSync(), x.detach().softmax(-1).dataSync(), `softmax of a [${x.shape}] input`, {
            atol: 1e-15,
            rtol: 1e-12,
          });
        });
      },
    },
    {
      name: "stable at [1000, 1000, 999] in float32",
      hint: "subtract the row's maximum before exp: exp(1000) is ∞",
      run: (student) => {
        const softmax = exported<Softmax>(student, "softmax");
        const e = Math.exp(-1);
        expectClose(
          softmax(tensor([1000, 1000, 999])).dataSync(),
          [1 / (2 + e), 1 / (2 + e), e / (2 + e)],
          "softmax([1000, 1000, 999])",
          {
            rtol: 1e-6,
          },
        );
      },
    },
    {
      name: "gradcheck over random shapes",
      hint: "the VJP is s ⊙ (g − Σ g ⊙ s), summed along the last axis with keepdims; the diagonal alone, g ⊙ s ⊙ (1 − s), misses −sᵢsⱼ",
      run: (student) => {
        const softmax = exported<Softmax>(student, "softmax");
        holds(inputArb, (x) => expectGradcheck(softmax, [x], { name: "softmax" }));
      },
    },
  ],
};
