/**
 * TypeScript from the page, made runnable: a chapter's cells become one async function (cell k runs
 * after `await __cell(k)`, so its output can be shown under it), and an exercise's file becomes a
 * module whose exports the grader reads. sucrase strips the types and turns `import` into
 * `require`, which the worker answers from its own table of modules (book/modules.ts). No Node
 * built-in here: the page and the tests both use it.
 */
import { transform } from "sucrase";

export type Require = (specifier: string) => unknown;

export interface Printer {
  log(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

function toJavaScript(source: string): string {
  return transform(source, {
    transforms: ["typescript", "imports"],
    disableESTransforms: true,
    production: true,
  }).code;
}

const AsyncFunction = (async () => {}).constructor as new (
  ...args: string[]
) => (...values: unknown[]) => Promise<void>;

/** The cells as one program: `run(require, console, cell)` awaits `cell(k)` before cell k. */
export function chapterProgram(
  cells: readonly string[],
): (require: Require, console: Printer, cell: (k: number) => Promise<void>) => Promise<void> {
  const source = cells.map((c, k) => `await __cell(${k});\n${c}`).join("\n");
  return new AsyncFunction("require", "console", "__cell", toJavaScript(source));
}

/** An exercise's file as a module: its exports, after running its top level. */
export function moduleFrom(source: string, require: Require, console: Printer): Record<string, unknown> {
  const exports: Record<string, unknown> = {};
  // A module's top level is synchronous here (no top-level await in an exercise).
  new Function("require", "exports", "console", toJavaScript(source))(require, exports, console);
  return exports;
}
