/**
 * The derivative table: every op's vector-Jacobian product, read from the one-line math comment
 * that sits over the op in the source, with its file and line, written to docs/derivatives.md.
 * `npm run docs:derivatives` regenerates it; test/docs/derivatives.test.ts fails when the file is
 * stale or a public op has no rule.
 *
 * The one place a rule sits: the `//` comment lines right above an exported function or const (a
 * JSDoc block may sit between the comment and the export, or above both). Ops are the exports of src/autograd/ops/ and of src/nn's loss files. Every one that the package
 * entry (src/index.ts) exports must have a rule, unless it only makes constants (masks, zeros:
 * derivative zero); an internal export without one is a helper and is left out.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

export interface Rule {
  op: string;
  /** The math, one or more comment lines joined. */
  rule: string;
  /** Path from the repository root, and the 1-based line of the rule. */
  file: string;
  line: number;
}

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const tablePath = join(root, "docs", "derivatives.md");

/** The files that hold ops, relative to the repository root, sorted. */
export function opFiles(): string[] {
  const ops = readdirSync(join(root, "src/autograd/ops"), { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts"))
    .map((f) => `src/autograd/ops/${f.split("\\").join("/")}`);
  const losses = readdirSync(join(root, "src/nn"))
    .filter((f) => /loss|entropy/i.test(f) && f.endsWith(".ts"))
    .map((f) => `src/nn/${f}`);
  return [...ops, ...losses].sort();
}

/** A file's text by its path from the repository root. */
export type Reader = (file: string) => string;
const readSource: Reader = (file) => readFileSync(join(root, file), "utf8");

function parse(file: string, read: Reader): ts.SourceFile {
  return ts.createSourceFile(file, read(file), ts.ScriptTarget.Latest, true);
}

function isExported(node: ts.Node): boolean {
  return (
    ts.canHaveModifiers(node) &&
    (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword)
  );
}

/** The exported functions and consts of a file: name, the statement, and the body to search. */
function exportedDeclarations(source: ts.SourceFile): { name: string; statement: ts.Node; body: ts.Node }[] {
  const out: { name: string; statement: ts.Node; body: ts.Node }[] = [];
  for (const statement of source.statements) {
    if (!isExported(statement)) continue;
    if (ts.isFunctionDeclaration(statement) && statement.name && statement.body) {
      out.push({ name: statement.name.text, statement, body: statement.body });
    } else if (ts.isVariableStatement(statement)) {
      for (const d of statement.declarationList.declarations) {
        if (ts.isIdentifier(d.name) && d.initializer)
          out.push({ name: d.name.text, statement, body: d.initializer });
      }
    }
  }
  return out;
}

/** The `//` lines of the last run of line comments before `node` (JSDoc blocks do not break the run). */
function leadingLineComments(source: ts.SourceFile, node: ts.Node): { text: string; pos: number }[] {
  const text = source.getFullText();
  const ranges = ts.getLeadingCommentRanges(text, node.getFullStart()) ?? [];
  let run: { text: string; pos: number }[] = [];
  let previousEnd = -1;
  for (const r of ranges) {
    if (r.kind === ts.SyntaxKind.MultiLineCommentTrivia) continue;
    const gap = previousEnd < 0 ? "" : text.slice(previousEnd, r.pos);
    // A blank line, or code, between two line comments starts a new run.
    if (previousEnd >= 0 && /\n\s*\n/.test(gap)) run = [];
    run.push({ text: text.slice(r.pos + 2, r.end).trim(), pos: r.pos });
    previousEnd = r.end;
  }
  return run;
}

/**
 * Whether a function only makes constants: it never records an op (no applyOp or Tensor.fromOp)
 * and calls no op, directly or through the file's other constant-makers. Such a function (a mask
 * saying where a gradient goes, zeros) has derivative zero and needs no rule.
 */
function makesOnlyConstants(
  body: ts.Node,
  opNames: ReadonlySet<string>,
  constants: ReadonlySet<string>,
): boolean {
  let records = false;
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node) && (node.text === "applyOp" || node.text === "fromOp")) records = true;
    if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const name = ts.isIdentifier(callee)
        ? callee.text
        : ts.isPropertyAccessExpression(callee) && !/backend$/.test(callee.expression.getText())
          ? callee.name.text
          : undefined;
      if (name !== undefined && opNames.has(name) && !constants.has(name)) records = true;
    }
    node.forEachChild(visit);
  };
  visit(body);
  return !records;
}

/** The public names of src/index.ts by the file they come from (`*` when everything is re-exported). */
export function publicExports(read: Reader = readSource): Map<string, Set<string>> {
  const source = parse("src/index.ts", read);
  const byFile = new Map<string, Set<string>>();
  for (const statement of source.statements) {
    if (!ts.isExportDeclaration(statement) || statement.isTypeOnly || !statement.moduleSpecifier) continue;
    const target = relative(root, resolve(root, "src", (statement.moduleSpecifier as ts.StringLiteral).text));
    const names = byFile.get(target) ?? new Set<string>();
    const clause = statement.exportClause;
    if (clause === undefined) names.add("*");
    else if (ts.isNamedExports(clause)) {
      for (const e of clause.elements) if (!e.isTypeOnly) names.add((e.propertyName ?? e.name).text);
    }
    byFile.set(target, names);
  }
  return byFile;
}

/** Every op's rule; throws naming each public op that has none. `read` gives the sources (tests change them). */
export function collectRules(read: Reader = readSource): Rule[] {
  const exported = publicExports(read);
  const files = opFiles().map((file) => ({ file, source: parse(file, read) }));
  const declarations = files.flatMap(({ file, source }) =>
    exportedDeclarations(source).map((d) => ({ ...d, file, source })),
  );
  const opNames = new Set(declarations.map((d) => d.name));
  // Constant-makers, found by fixed point: one may call another (zerosLike calls fullLike).
  const constants = new Set<string>();
  for (let grew = true; grew; ) {
    grew = false;
    for (const d of declarations) {
      if (!constants.has(d.name) && makesOnlyConstants(d.body, opNames, constants)) {
        constants.add(d.name);
        grew = true;
      }
    }
  }
  const rules: Rule[] = [];
  const missing: string[] = [];
  for (const { name, statement, file, source } of declarations) {
    const found = leadingLineComments(source, statement).filter((c) => c.text !== "");
    if (found.length === 0) {
      const names = exported.get(file);
      const isPublic = names !== undefined && (names.has("*") || names.has(name));
      if (isPublic && !constants.has(name)) missing.push(`${name} (${file})`);
      continue;
    }
    rules.push({
      op: name,
      rule: found.map((c) => c.text).join(" "),
      file,
      line: source.getLineAndCharacterOfPosition(found[0].pos).line + 1,
    });
  }
  if (missing.length > 0) {
    throw new Error(
      `derivative table: these exported ops have no one-line rule comment (// d f/dx = …) above them: ${missing.join(", ")}`,
    );
  }
  return rules;
}

function cell(s: string): string {
  return s.replace(/\|/g, "\\|").replace(/`/g, "'");
}

/** The Markdown of docs/derivatives.md. */
export function renderTable(rules: readonly Rule[]): string {
  const lines = [
    "# Derivative table",
    "",
    "Every op's backward rule (its vector-Jacobian product: given g = ∂L/∂out, the gradient ∂L/∂input), as",
    "written in the one-line comment beside the op in the source. Generated by `npm run docs:derivatives`",
    "from those comments; a test fails when this file is stale or a public op has no rule, so it cannot",
    "drift from the code. Read g as the incoming gradient and out as the op's saved output.",
    "",
    "| op | rule | source |",
    "| --- | --- | --- |",
  ];
  for (const r of rules) {
    const where = `[${r.file.split("/").pop()}:${r.line}](../${r.file}#L${r.line})`;
    lines.push(`| \`${r.op}\` | ${cell(r.rule)} | ${where} |`);
  }
  lines.push("");
  return lines.join("\n");
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const rules = collectRules();
  writeFileSync(tablePath, renderTable(rules));
  console.log(`wrote ${relative(root, tablePath)}: ${rules.length} ops`);
}
