/**
 * The op table (op-table.ts) is complete: every function src/index.ts exports and every Tensor
 * method that returns a Tensor is in it or named in `notInTable` (read from the types by the
 * TypeScript compiler), and every unary and binary kernel of the backend is run by one of its ops,
 * so the conformance suite, which takes its list from the table, checks them all.
 */
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { binaryExpressions, unaryExpressions } from "../../src/kernels/cpu/elementwise.ts";
import { broadcastPairArb } from "../fixtures/arbitraries.ts";
import { kernelOps, notInTable, opTable } from "./op-table.ts";

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
