import fc from "fast-check";
import type { Tensor } from "../../src/index.ts";
import { f64, tensorArb } from "./arbitraries.ts";
import { expectClose, expectGradcheck, expectOp, expectTensor, exported, holds } from "./assertions.ts";
import type { Exercise } from "./verdict.ts";

type Bmm = (a: Tensor, b: Tensor) => Tensor;

/** a [..batch, m, p] and b [..batch, p, n] with one or two batch dimensions. */
const pairArb = fc
  .record({
    batch: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 2 }),
    m: fc.integer({ min: 1, max: 3 }),
    p: fc.integer({ min: 1, max: 3 }),
    n: fc.integer({ min: 1, max: 3 }),
  })
  .chain(({ batch, m, p, n }) => fc.tuple(tensorArb([...batch, m, p]), tensorArb([...batch, p, n])));

export const exercise: Exercise = {
  id: "03-batched-matmul",
  chapter: 3,
  title: "Batched matmul and its two VJPs",
  teaches: "matmul's backward, dA = G·Bᵀ and dB = Aᵀ·G, applied matrix by matrix along batch dimensions",
  checks: [
    {
      name: "one op named batchedMatmul, with a·b's values",
      hint: "keep the applyOp call of the stub",
      run: (student) => {
        const bmm = exported<Bmm>(student, "batchedMatmul");
        const a = f64([1, 2, 3, 4], [2, 1, 2]);
        const b = f64([1, 0, 0, 1, 2, 1, 1, 2], [2, 2, 2]);
        a.requiresGrad = true;
        const out = expectTensor(bmm(a, b), "batchedMatmul(a, b)");
        expectOp(out, "batchedMatmul");
        expectClose(out.dataSync(), [1, 2, 10, 11], "batchedMatmul(a, b)");
      },
    },
    {
      name: "gradcheck over random batches of random shapes",
      hint: "dA = G·Bᵀ is g.batchedMatmul(b, { transB: true }); dB = Aᵀ·G is a.batchedMatmul(g, { transA: true })",
      run: (student) => {
        const bmm = exported<Bmm>(student, "batchedMatmul");
        holds(
          pairArb,
          ([a, b]) => expectGradcheck((x, y) => bmm(x, y), [a, b], { name: "batchedMatmul" }),
          30,
        );
      },
    },
  ],
};
