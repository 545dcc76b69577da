/**
 * The cpu backend's reductions, broadcasts and permutes against per-element index arithmetic
 * written the slow, obvious way. max, broadcast and permute move values, so they must match
 * exactly; sums of n float64 numbers must agree within n·2⁻⁵²·Σ|terms|.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CpuBackend } from "../../../src/kernels/cpu/backend.ts";
import { sizeOf } from "../../../src/kernels/shape.ts";
import { broadcastPairsOf, shapeArb, valuesArb } from "../../fixtures/arbitraries.ts";
import { broadcastSource, ravel, unravel } from "../../fixtures/ravel.ts";
import { typedArray } from "../../fixtures/tensors.ts";

const RUNS = { numRuns: 50 };

const EPS64 = 2 ** -52;

const cpu = new CpuBackend();

function read(storage: ReturnType<CpuBackend["fromArray"]>): number[] {
  return Array.from(cpu.readSync(storage));
}

describe("reduce over arbitrary axes vs a naive reference", () => {
  for (const dtype of ["float64", "float32"] as const) {
    it(`sum and max, ${dtype}`, () => {
      const arb = shapeArb(0, 4).chain((shape) =>
        fc.tuple(
          fc.constant(shape),
          valuesArb(sizeOf(shape), -10, 10),
          fc.subarray(shape.map((_, i) => i)),
          fc.constantFrom("sum" as const, "max" as const),
        ),
      );
      fc.assert(
        fc.property(arb, ([shape, values, axes, op]) => {
          const x = typedArray(dtype, values);
          const keptShape = shape.filter((_, i) => !axes.includes(i));
          const size = sizeOf(keptShape);
          // Each input element folded into the output element its kept coordinates name.
          const acc = new Float64Array(size).fill(op === "sum" ? 0 : Number.NEGATIVE_INFINITY);
          const abs = new Float64Array(size);
          for (let i = 0; i < x.length; i++) {
            const index = unravel(i, shape);
            const o = ravel(
              index.filter((_, d) => !axes.includes(d)),
              keptShape,
            );
            acc[o] = op === "sum" ? acc[o] + x[i] : Math.max(acc[o], x[i]);
            abs[o] += Math.abs(x[i]);
          }
          const out = cpu.reduce(op, cpu.fromArray(x), shape, axes);
          expect(out.dtype).toBe(dtype);
          const got = read(out);
          expect(got).toHaveLength(size);
          const n = sizeOf(axes.map((a) => shape[a]));
          // float32 accumulation rounds at each step; float64 accumulation only in the order of terms.
          const unit = dtype === "float64" ? EPS64 : 2 ** -23;
          for (let o = 0; o < size; o++) {
            const expected = dtype === "float64" ? acc[o] : Math.fround(acc[o]);
            // == rather than Object.is: the maximum of −0 and +0 may be either.
            if (op === "max") expect(got[o] === expected, `output ${o}: ${got[o]} vs ${expected}`).toBe(true);
            else
              expect(Math.abs(got[o] - acc[o]), `output ${o}`).toBeLessThanOrEqual(
                n * unit * abs[o] + unit * Math.abs(acc[o]),
              );
          }
        }),
        RUNS,
      );
    });
  }

  it("empty axes: a sum over nothing is 0, a reduction over no axes is a copy", () => {
    expect(read(cpu.reduce("sum", cpu.fromArray(new Float64Array(0)), [2, 0], [1]))).toEqual([0, 0]);
    expect(read(cpu.reduce("sum", cpu.fromArray(new Float64Array([1, 2, 3])), [3], []))).toEqual([1, 2, 3]);
    expect(read(cpu.reduce("max", cpu.fromArray(new Float64Array([4])), [], []))).toEqual([4]);
  });
});

describe("broadcastTo and permute vs naive index computation", () => {
  it("broadcastTo", () => {
    const arb = broadcastPairsOf(4).chain(({ a: shape, b: other }) => {
      const n = Math.max(shape.length, other.length);
      const outShape = Array.from({ length: n }, (_, i) =>
        Math.max(shape[shape.length - n + i] ?? 1, other[other.length - n + i] ?? 1),
      );
      return fc.tuple(fc.constant(shape), fc.constant(outShape), valuesArb(sizeOf(shape), -10, 10));
    });
    fc.assert(
      fc.property(arb, ([shape, outShape, values]) => {
        const x = Float64Array.from(values);
        const out = read(cpu.broadcastTo(cpu.fromArray(x), shape, outShape));
        const expected = Array.from(
          { length: sizeOf(outShape) },
          (_, i) => x[broadcastSource(unravel(i, outShape), shape)],
        );
        expect(out).toEqual(expected);
      }),
      RUNS,
    );
  });

  it("permute", () => {
    const arb = shapeArb(0, 4).chain((shape) =>
      fc.tuple(
        fc.constant(shape),
        fc.shuffledSubarray(
          shape.map((_, i) => i),
          { minLength: shape.length, maxLength: shape.length },
        ),
        valuesArb(sizeOf(shape), -10, 10),
      ),
    );
    fc.assert(
      fc.property(arb, ([shape, perm, values]) => {
        const x = Float64Array.from(values);
        const outShape = perm.map((p) => shape[p]);
        const out = read(cpu.permute(cpu.fromArray(x), shape, perm));
        // out[i₀…] = x[j] with j[perm[d]] = i[d]
        const expected = Array.from({ length: x.length }, (_, flat) => {
          const i = unravel(flat, outShape);
          const j = new Array<number>(shape.length);
          perm.forEach((p, d) => {
            j[p] = i[d];
          });
          return x[ravel(j, shape)];
        });
        expect(out).toEqual(expected);
      }),
      RUNS,
    );
  });
});
