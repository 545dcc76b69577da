import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { tensor } from "../../src/autograd/create.ts";
import { gradcheck, gradgradcheck } from "../../src/autograd/gradcheck.ts";
import type { Tensor } from "../../src/autograd/tensor.ts";
import { type OpEntry, opTable, plainOf, titleOf } from "./op-table.ts";

/** Runs per op: enough to hit ranks 0..3 and every broadcasting pattern, small enough to stay fast. */
const FIRST = { numRuns: 40 };
/** A second derivative costs a backward pass per finite difference: fewer runs. */
const SECOND = { numRuns: 12 };
const VALUES = { numRuns: 60 };

/** gradcheck needs a float64 output; the cast to float32 is checked through float32 and back. */
const float64 = (t: Tensor) => (t.dtype === "float64" ? t : t.to("float64"));
const apply =
  (entry: OpEntry<unknown>, params: unknown) =>
  (...xs: Tensor[]) =>
    float64(entry.fn(xs, params));

describe("first derivatives match finite differences (gradcheck, float64)", () => {
  for (const entry of opTable) {
    it(titleOf(entry), () => {
      fc.assert(
        fc.property(entry.domain, ({ inputs, params }) => {
          const report = gradcheck(apply(entry, params), inputs, {
            name: titleOf(entry),
            ...entry.gradcheck,
          });
          expect(report.passed, report.message).toBe(true);
        }),
        FIRST,
      );
    });
  }
});

describe("second derivatives match finite differences of the first (gradgradcheck of the output squared)", () => {
  for (const entry of opTable) {
    const { secondDerivative } = entry;
    if (secondDerivative !== true) {
      it.skip(`${titleOf(entry)}: not checked, ${secondDerivative.notChecked}`, () => {});
      continue;
    }
    it(titleOf(entry), () => {
      fc.assert(
        fc.property(entry.domain, ({ inputs, params }) => {
          const g = apply(entry, params);
          const square = (...xs: Tensor[]) => {
            const y = g(...xs);
            return y.mul(y);
          };
          const report = gradgradcheck(square, inputs, { name: titleOf(entry), ...entry.gradcheck });
          expect(report.passed, report.message).toBe(true);
        }),
        SECOND,
      );
    });
  }
});

describe("float64 values match the reference written from each op's definition", () => {
  for (const entry of opTable) {
    it(titleOf(entry), () => {
      fc.assert(
        fc.property(entry.domain, ({ inputs, params }) => {
          const got = plainOf(entry.fn(inputs, params));
          const exact = entry.reference(inputs.map(plainOf), params);
          expect(got.shape).toEqual(exact.shape);
          exact.values.forEach((want, i) => {
            const error = Math.abs(got.values[i] - want);
            if (!(error <= 1e-10 + 1e-12 * Math.abs(want)))
              throw new Error(`${titleOf(entry)}: element ${i} is ${got.values[i]}, exactly ${want}`);
          });
        }),
        VALUES,
      );
    });
  }
});

describe("float32 results are within the op's bound of the exact answer on the same float32 inputs", () => {
  for (const entry of opTable) {
    it(titleOf(entry), () => {
      fc.assert(
        fc.property(entry.float32.domain ?? entry.domain, ({ inputs, params }) => {
          const inputs32 = inputs.map((t) => tensor(Float32Array.from(t.dataSync()), t.shape));
          const out = entry.fn(inputs32, params);
          expect(out.dtype).toBe(entry.variant === "to float64" ? "float64" : "float32");
          const plain = inputs32.map(plainOf);
          const exact = entry.reference(plain, params);
          const bound = entry.float32.bound({ exact, inputs: plain, params, reference: entry.reference });
          const got = Array.from(out.dataSync());
          expect(got.length).toBe(exact.values.length);
          exact.values.forEach((want, i) => {
            const allowed = bound(i);
            const ok =
              allowed === 0
                ? got[i] === Math.fround(want) || (Number.isNaN(got[i]) && Number.isNaN(want))
                : Math.abs(got[i] - want) <= allowed;
            if (!ok)
              throw new Error(
                `${titleOf(entry)}: element ${i} is ${got[i]} in float32, exactly ${want} (allowed ±${allowed})`,
              );
          });
        }),
        VALUES,
      );
    });
  }
});

describe("each op's output records the op's name (what graphs, printing and errors show)", () => {
  for (const entry of opTable) {
    it(titleOf(entry), () => {
      fc.assert(
        fc.property(entry.domain, (c) => {
          for (const x of c.inputs) x.requiresGrad = true;
          const name = typeof entry.recordedAs === "string" ? entry.recordedAs : entry.recordedAs(c);
          const out = entry.fn(c.inputs, c.params);
          expect(out.op).toBe(name);
          // A leaf (concat of one piece is the piece) prints no op.
          if (name !== "leaf") expect(String(out)).toContain(`op=${name}`);
        }),
        { numRuns: 20 },
      );
    });
  }
});

describe("the method form gives the function's values", () => {
  for (const entry of opTable) {
    const { method } = entry;
    if (method === null) continue;
    it(`x.${method.name}(…) for ${titleOf(entry)}`, () => {
      fc.assert(
        fc.property(entry.domain, ({ inputs, params }) => {
          expect(plainOf(method.call(inputs, params))).toEqual(plainOf(entry.fn(inputs, params)));
        }),
        { numRuns: 10 },
      );
    });
  }
});
