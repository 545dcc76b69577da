/**
 * matmul: operands it cannot multiply are named with their shapes and transposes; float32 products
 * of MNIST's width (K = 784) and beyond agree with a float64 triple loop within K·eps_f32·(|A|·|B|).
 */
import { describe, expect, it } from "vitest";
import { rand, zeros } from "../../../src/autograd/create.ts";
import { Generator } from "../../../src/autograd/random.ts";
import { expectClose } from "../../fixtures/assertions.ts";

const m23 = () => zeros([2, 3], { requiresGrad: true });

describe("shape errors name the op and the shapes", () => {
  it("matmul with mismatched inner dimensions, with and without transposes", () => {
    expect(() => m23().matmul(zeros([2, 4]))).toThrow(
      /^matmul\(\[2, 3\], \[2, 4\]\): inner dimensions differ \(3 vs 2\)/,
    );
    expect(() => m23().matmul(zeros([2, 4]), { transA: true, transB: true })).toThrow(
      /^matmul\(\[2, 3\]ᵀ, \[2, 4\]ᵀ\): inner dimensions differ \(2 vs 4\)/,
    );
  });

  it("matmul with operands that are not 2-D", () => {
    expect(() => zeros([2, 3, 4]).matmul(zeros([4, 2]))).toThrow(/^matmul\(\[2, 3, 4\], \[4, 2\]\): .*2-D/);
    expect(() => zeros([3]).matmul(zeros([3]))).toThrow(/^matmul\(\[3\], \[3\]\): .*2-D/);
  });
});

describe("dtype and shape checks name the op", () => {
  it("matmul: a matrix times a vector or a stack of matrices", () => {
    expect(() => zeros([2, 3]).matmul(zeros([3]))).toThrow(
      "matmul([2, 3], [3]): both operands must be 2-D matrices",
    );
    expect(() => zeros([2, 3]).matmul(zeros([1, 3, 2]))).toThrow(
      "matmul([2, 3], [1, 3, 2]): both operands must be 2-D matrices",
    );
  });
});

const EPS_F32 = 2 ** -23;

describe("float32 matmul agrees with a float64 triple loop within K·eps_f32·(|A|·|B|)", () => {
  /** C = op(A)·op(B) and |op(A)|·|op(B)| by the definition, in float64. */
  function reference(
    a: Float64Array,
    b: Float64Array,
    m: number,
    k: number,
    n: number,
    tA: boolean,
    tB: boolean,
  ) {
    const c = new Float64Array(m * n);
    const abs = new Float64Array(m * n);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        for (let p = 0; p < k; p++) {
          const x = tA ? a[p * m + i] : a[i * k + p];
          const y = tB ? b[j * k + p] : b[p * n + j];
          c[i * n + j] += x * y;
          abs[i * n + j] += Math.abs(x * y);
        }
      }
    }
    return { c, abs };
  }

  for (const k of [784, 1500]) {
    for (const [transA, transB] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const) {
      it(`K = ${k}, transA=${transA}, transB=${transB}`, () => {
        const m = 9;
        const n = 13;
        const g = new Generator(k);
        const a32 = rand(transA ? [k, m] : [m, k], { low: -1, high: 1, generator: g });
        const b32 = rand(transB ? [n, k] : [k, n], { low: -1, high: 1, generator: g });
        const c32 = a32.matmul(b32, { transA, transB }).dataSync();
        const { c, abs } = reference(
          Float64Array.from(a32.dataSync()),
          Float64Array.from(b32.dataSync()),
          m,
          k,
          n,
          transA,
          transB,
        );
        expectClose(c32, c, (i) => k * EPS_F32 * abs[i]);
        // And the float64 path of the library against the same reference, at float64's precision.
        const c64 = a32.to("float64").matmul(b32.to("float64"), { transA, transB }).dataSync();
        expectClose(c64, c, (i) => k * 2 ** -52 * abs[i]);
      });
    }
  }
});
