/**
 * The page's worker: runs a chapter's cells on elbo's wasm backend (one thread: the site is not
 * cross-origin isolated, and one thread gives the chapters' printed digits), streaming each cell's
 * output and graphs back; and grades an exercise with the very checks `npm run exercise` runs, on the
 * cpu backend, as the command line does.
 */
import { exercises } from "../exercises/checks/catalog.ts";
import { formatVerdict, grade } from "../exercises/checks/verdict.ts";
import { cpuBackend, setBackend, Tensor } from "../src/index.ts";
import { createWasmBackend } from "../src/kernels/wasm/create.ts";
import { requireFor } from "./modules.ts";
import { chapterProgram, moduleFrom, type Printer } from "./program.ts";
import type { FromWorker, ToWorker } from "./protocol.ts";

const post = (message: FromWorker) => (self as unknown as Worker).postMessage(message);

/** console.log's text for the values a chapter prints. */
function show(value: unknown): string {
  if (typeof value === "string") return value;
  if (value instanceof Tensor || value instanceof Error) return String(value);
  if (typeof value === "object" && value !== null) return JSON.stringify(value);
  return String(value);
}

function printer(cell: () => number): Printer {
  const at =
    (level: "log" | "warn" | "error") =>
    (...args: unknown[]) =>
      post({ kind: "print", cell: cell(), text: args.map(show).join(" "), level });
  return { log: at("log"), info: at("log"), warn: at("warn"), error: at("error") };
}

async function runCells(cells: string[], mnist: string): Promise<void> {
  let current = 0;
  const print = printer(() => current);
  try {
    const backend = await createWasmBackend({ threads: 1 });
    setBackend(backend);
    const require = requireFor({ mnist, print, draw: (svg) => post({ kind: "svg", cell: current, svg }) });
    await chapterProgram(cells)(require, print, async (k) => {
      current = k;
    });
    post({ kind: "done", backend: backend.name });
  } catch (error) {
    post({ kind: "failed", cell: current, message: error instanceof Error ? error.message : String(error) });
  }
}

async function gradeExercise(id: string, source: string): Promise<void> {
  const exercise = exercises.find((e) => e.id === id);
  if (exercise === undefined) {
    post({ kind: "verdict", passed: false, text: `no exercise "${id}"` });
    return;
  }
  setBackend(cpuBackend());
  const print = printer(() => 0);
  try {
    const student = moduleFrom(source, requireFor({ mnist: "", print, draw: () => {} }), print);
    const verdict = await grade(exercise, student);
    post({ kind: "verdict", passed: verdict.passed, text: formatVerdict(verdict) });
  } catch (error) {
    // The file itself did not load (a syntax error, an import the page cannot offer).
    post({
      kind: "verdict",
      passed: false,
      text: `your file did not load: ${error instanceof Error ? error.message : String(error)}`,
    });
  }
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  if (message.kind === "run") void runCells(message.cells, message.mnist);
  else void gradeExercise(message.id, message.source);
};
