/**
 * docs/derivatives.md is generated from the ops' one-line rule comments (npm run docs:derivatives):
 * it must be what the generator writes from the source today, and every public op must have a rule.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { collectRules, renderTable, tablePath } from "../../scripts/derivatives.ts";

describe("the derivative table", () => {
  it("is what npm run docs:derivatives writes from the source now", () => {
    const stale = "docs/derivatives.md is stale: run npm run docs:derivatives and commit it";
    expect(readFileSync(tablePath, "utf8"), stale).toBe(renderTable(collectRules()));
  });

  it("fails, naming the op, when an exported op loses its rule comment", () => {
    const file = "src/autograd/ops/elementwise.ts";
    const rule = "// d(eˣ)/dx = eˣ = out";
    const original = readFileSync(file, "utf8");
    expect(original).toContain(rule);
    const read = (f: string) => (f === file ? original.replace(rule, "") : readFileSync(f, "utf8"));
    expect(() => collectRules(read)).toThrow(
      /no one-line rule comment.*\bexp \(src\/autograd\/ops\/elementwise\.ts\)/,
    );
  });

  it("lists the ops a student meets first, and no mask or constant", () => {
    const ops = collectRules().map((r) => r.op);
    for (const op of ["add", "mul", "exp", "matmul", "sum", "logsumexp", "gatherRows"])
      expect(ops).toContain(op);
    for (const constant of ["equal", "zerosLike"]) expect(ops).not.toContain(constant);
  });

  it("puts each rule at the line of its comment", () => {
    for (const r of collectRules()) {
      const line = readFileSync(r.file, "utf8").split("\n")[r.line - 1];
      expect(line, `${r.op} at ${r.file}:${r.line}`).toContain(r.rule.split(" ").slice(0, 3).join(" "));
    }
  });
});
