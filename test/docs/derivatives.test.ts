/**
 * docs/derivatives.md is generated from the ops' one-line rule comments (npm run docs:derivatives):
 * it must be what the generator writes from the source today, and every public op must have a rule.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { collectRules, publicExports, renderTable, tablePath } from "../../scripts/derivatives.ts";

describe("the derivative table", () => {
  it("is what npm run docs:derivatives writes from the source now", () => {
    const stale = "docs/derivatives.md is stale: run npm run docs:derivatives and commit it";
    expect(readFileSync(tablePath, "utf8"), stale).toBe(renderTable(collectRules()));
  });

  it("has a row for every op the package exports from src/autograd/ops", () => {
    const ops = new Set(collectRules().map((r) => r.op));
    for (const [file, names] of publicExports()) {
      if (!file.startsWith("src/autograd/ops/")) continue;
      for (const name of names) expect(ops.has(name), `${name} from ${file}`).toBe(true);
    }
    for (const op of ["add", "mul", "exp", "matmul", "sum", "logsumexp", "gatherRows"])
      expect(ops).toContain(op);
  });

  it("puts each rule at the line of its comment", () => {
    for (const r of collectRules()) {
      const line = readFileSync(r.file, "utf8").split("\n")[r.line - 1];
      expect(line, `${r.op} at ${r.file}:${r.line}`).toContain(r.rule.split(" ").slice(0, 3).join(" "));
    }
  });
});
