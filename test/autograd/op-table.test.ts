/**
 * Every op of the table (op-table.ts) through every check, each with random shapes and values drawn
 * by fast-check from the op's own domain:
 * - first derivatives: backward against centered finite differences in float64 (gradcheck's
 *   defaults: step 1e-6, |analytic − numeric| ≤ 1e-5 + 1e-3·|numeric|), non-scalar outputs through
 *   gradcheck's random projection, so every element of the VJP is exercised;
 * - second derivatives: the derivative of backward, recorded with createGraph, against finite
 *   differences of the first (gradgradcheck), of the output squared so that a linear op has one;
 * - float64 values against the reference written in the table from the op's definition;
 * - float32 results against the same reference on float32 inputs, within the bound the table
 *   states for the op (one rounding per element, the summation bound, log-sum-exp's);
 * - the name the output records, which graphs, printing and errors show;
 * - the method form against the function.
 * Then the table's completeness: every export of src/index.ts and every Tensor method that returns
 * a Tensor is in it or named in `notInTable`, and every backend kernel is run by one of its ops.
 */
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { tensor } from "../../src/autograd/create.ts";
import { gradcheck, gradgradcheck } from "../../src/autograd/gradcheck.ts";
import type { Tensor } from "../../src/autograd/tensor.ts";
import { binaryExpressions, unaryExpressions } from "../../src/kernels/cpu/elementwise.ts";
import { broadcastPairArb } from "../fixtures/arbitraries.ts";
import { kernelOps, notInTable, type OpEntry, opTable, plainOf, titleOf } from "./op-table.ts";

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

/** The names of the functions src/index.ts exports, and of Tensor's methods, that return a Tensor. */
function tensorReturning(): { exports: string[]; methods: string[] } {
  const root = fileURLToPath(new URL("../../", import.meta.url));
  const config = ts.getParsedCommandLineOfConfigFile(
    `${root}tsconfig.json`,
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
      },
    },
  );
  if (config === undefined) throw new Error("tsconfig.json could not be read");
  const program = ts.createProgram([`${root}src/index.ts`], config.options);
  const checker = program.getTypeChecker();
  const index = checker.getSymbolAtLocation(program.getSourceFile(`${root}src/index.ts`)!)!;
  const returnsTensor = (type: ts.Type) =>
    type.getCallSignatures().some((s) => checker.typeToString(s.getReturnType()) === "Tensor");
  const exports: string[] = [];
  const methods: string[] = [];
  for (const exported of checker.getExportsOfModule(index)) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    if (symbol.flags & ts.SymbolFlags.Function && returnsTensor(checker.getTypeOfSymbol(symbol)))
      exports.push(exported.name);
    if (exported.name === "Tensor") {
      const instance = checker.getDeclaredTypeOfSymbol(symbol);
      for (const property of instance.getProperties()) {
        if (property.flags & ts.SymbolFlags.Method && returnsTensor(checker.getTypeOfSymbol(property)))
          methods.push(property.name);
      }
    }
  }
  return { exports, methods };
}

describe("the table is complete", () => {
  const found = tensorReturning();
  const listed = new Set(notInTable.map((e) => e.name));

  it("every function src/index.ts exports that returns a Tensor is in the table or named in notInTable", () => {
    const inTable = new Set(opTable.map((e) => e.name));
    expect(found.exports.length).toBeGreaterThan(40);
    expect(found.exports.filter((name) => !inTable.has(name) && !listed.has(name))).toEqual([]);
  });

  it("every Tensor method that returns a Tensor is an op's method form or named in notInTable", () => {
    const asMethods = new Set(opTable.flatMap((e) => (e.method === null ? [] : [e.method.name])));
    expect(found.methods).toContain("add");
    expect(found.methods.filter((name) => !asMethods.has(name) && !listed.has(name))).toEqual([]);
  });

  it("notInTable names only what exists (an entry left behind by a removed op would hide nothing)", () => {
    const exist = new Set([...found.exports, ...found.methods]);
    expect(notInTable.map((e) => e.name).filter((name) => !exist.has(name))).toEqual([]);
  });

  it("every unary and binary kernel of the backend is run by an op of the table, so the conformance suite checks it", () => {
    expect([...kernelOps.unary].sort()).toEqual(Object.keys(unaryExpressions).sort());
    expect([...kernelOps.binary].sort()).toEqual(Object.keys(binaryExpressions).sort());
  });

  it("the broadcasting arbitrary the domains draw from really produces stretched and missing dimensions", () => {
    // Guards the generator itself: a property over pairs that never broadcast would prove little.
    const samples = fc.sample(broadcastPairArb, { numRuns: 300, seed: 1 });
    expect(samples.some(({ a, b }) => a.length !== b.length)).toBe(true);
    expect(
      samples.some(({ a, out }) => a.some((d, i) => d === 1 && out[out.length - a.length + i] > 1)),
    ).toBe(true);
  });
});
