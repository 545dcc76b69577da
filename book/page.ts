/**
 * A chapter page made live. Every ```ts block of a chapter (wrapped by the site's Markdown plugin
 * in `.book-cell`) gets Run and Edit buttons; running cell k runs cells 0..k, in a fresh Web Worker
 * (book/worker.ts), and prints each cell's output and draws its graphs under it. After a run of the
 * whole chapter, every output block the chapter quotes (`.book-quote`) is compared with what was
 * printed, by the same rule as the Node test (book/quotes.ts), and marked as matching or not. Each
 * exercise the chapter lists (`a[data-exercise]`) opens an editor with its stub and grades it with
 * the same checks as `npm run exercise`.
 *
 * window.__book reports the last run, for the site's browser test.
 */

import type { FromWorker, RunSummary, ToWorker } from "./protocol.ts";
import { findQuote, type Quote } from "./quotes.ts";

export interface BookOptions {
  /** The stubs of the exercises, by id ("02-scalar-autodiff"). */
  stubs: Readonly<Record<string, string>>;
  /** The URL of the folder where the site serves the MNIST files. */
  mnist: string;
}

declare global {
  interface Window {
    __book?: {
      runs: number;
      last: RunSummary | null;
      grades: { id: string; passed: boolean; text: string }[];
    };
  }
}

/** The page's report for the browser test, made on first use. */
function report(): NonNullable<Window["__book"]> {
  window.__book ??= { runs: 0, last: null, grades: [] };
  return window.__book;
}

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function startWorker(): Worker {
  return new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
}

/** One cell: its code (from the page, or from its editor once opened) and where its output goes. */
class Cell {
  readonly output = element("div", "book-output");
  private editor: HTMLTextAreaElement | null = null;

  constructor(
    readonly host: HTMLElement,
    private readonly original: string,
  ) {}

  code(): string {
    return this.editor?.value ?? this.original;
  }

  toggleEditor(): void {
    const view = this.host.querySelector<HTMLElement>("div[class*='language-']");
    if (this.editor === null) {
      this.editor = element("textarea", "book-editor");
      this.editor.value = this.original;
      this.editor.rows = Math.min(40, this.original.split("\n").length + 1);
      this.editor.spellcheck = false;
      view?.after(this.editor);
    }
    const editing = this.editor.style.display !== "none" && view?.style.display === "none";
    if (view) view.style.display = editing ? "" : "none";
    this.editor.style.display = editing ? "none" : "";
  }

  clear(): void {
    this.output.replaceChildren();
    this.output.classList.remove("failed");
  }

  print(text: string, level: string): void {
    const line = element("div", `book-line ${level}`, text);
    this.output.append(line);
  }

  draw(svg: string): void {
    // Graphviz's own SVG, of the library's own graph: parsed as markup, never run as script.
    const picture = element("div", "book-graph");
    picture.append(new DOMParser().parseFromString(svg, "image/svg+xml").documentElement);
    this.output.append(picture);
  }

  fail(message: string): void {
    this.output.classList.add("failed");
    this.print(`Error: ${message}`, "error");
  }
}

function quoteOf(host: HTMLElement): Quote {
  const text = host.querySelector("pre")?.textContent ?? "";
  return {
    example: host.dataset.example ?? "",
    timingsVary: host.dataset.timingsVary === "true",
    lines: text.replace(/\n+$/, "").split("\n"),
  };
}

/** Compare every quoted block with the run's output and mark each; the mismatches, described. */
function markQuotes(root: HTMLElement, output: string): { quotes: number; mismatches: string[] } {
  const hosts = [...root.querySelectorAll<HTMLElement>(".book-quote")];
  const mismatches: string[] = [];
  for (const host of hosts) {
    host.querySelector(".book-quote-status")?.remove();
    const { ok, expected, printed } = findQuote(quoteOf(host), output);
    host.classList.toggle("matches", ok);
    host.classList.toggle("differs", !ok);
    const status = element(
      "div",
      "book-quote-status",
      ok ? "✓ the run above printed this" : `✗ the run printed «${printed}» where this says «${expected}»`,
    );
    host.append(status);
    if (!ok) mismatches.push(`quoted «${expected}», printed «${printed}»`);
  }
  return { quotes: hosts.length, mismatches };
}

async function runCells(root: HTMLElement, cells: Cell[], upTo: number, mnist: string): Promise<RunSummary> {
  for (const c of cells) c.clear();
  root.dataset.bookState = "running";
  const printed: string[] = [];
  const worker = startWorker();
  const outcome = await new Promise<{ state: "done" | "failed"; backend: string; failure: string | null }>(
    (resolve) => {
      worker.onmessage = (event: MessageEvent<FromWorker>) => {
        const m = event.data;
        if (m.kind === "print") {
          cells[m.cell].print(m.text, m.level);
          printed.push(m.text);
        } else if (m.kind === "svg") cells[m.cell].draw(m.svg);
        else if (m.kind === "done") resolve({ state: "done", backend: m.backend, failure: null });
        else if (m.kind === "failed") {
          cells[m.cell].fail(m.message);
          resolve({ state: "failed", backend: "", failure: `cell ${m.cell + 1}: ${m.message}` });
        }
      };
      worker.onerror = (event) => resolve({ state: "failed", backend: "", failure: event.message });
      const message: ToWorker = { kind: "run", cells: cells.slice(0, upTo + 1).map((c) => c.code()), mnist };
      worker.postMessage(message);
    },
  );
  worker.terminate();
  // The quotes are checked against a run of the whole chapter, as the Node test checks the example.
  const whole = outcome.state === "done" && upTo === cells.length - 1;
  const { quotes, mismatches } = whole ? markQuotes(root, printed.join("\n")) : { quotes: 0, mismatches: [] };
  root.dataset.bookState = outcome.state;
  const summary: RunSummary = { ...outcome, quotes, mismatches };
  const book = report();
  book.runs++;
  book.last = summary;
  return summary;
}

function gradeIn(id: string, source: string): Promise<{ passed: boolean; text: string }> {
  const worker = startWorker();
  return new Promise((resolve) => {
    worker.onmessage = (event: MessageEvent<FromWorker>) => {
      const m = event.data;
      if (m.kind === "verdict") {
        worker.terminate();
        resolve({ passed: m.passed, text: m.text });
      }
    };
    worker.onerror = (event) => {
      worker.terminate();
      resolve({ passed: false, text: `the grader stopped: ${event.message}` });
    };
    const message: ToWorker = { kind: "grade", id, source };
    worker.postMessage(message);
  });
}

/** The editor and grader of one exercise, opened under the list item that names it. */
function exercisePanel(id: string, stub: string): HTMLElement {
  const panel = element("div", "book-exercise");
  const editor = element("textarea", "book-editor");
  editor.value = stub;
  editor.rows = Math.min(36, stub.split("\n").length + 2);
  editor.spellcheck = false;
  editor.dataset.exercise = id;
  const verdict = element("pre", "book-verdict");
  const gradeButton = element("button", "book-button", "Grade");
  const reset = element("button", "book-button", "Reset to the stub");
  gradeButton.addEventListener("click", async () => {
    gradeButton.disabled = true;
    verdict.className = "book-verdict";
    verdict.textContent = `grading ${id}…`;
    const result = await gradeIn(id, editor.value);
    verdict.textContent = result.text;
    verdict.classList.add(result.passed ? "passed" : "failed");
    panel.dataset.verdict = result.passed ? "passed" : "failed";
    report().grades.push({ id, ...result });
    gradeButton.disabled = false;
  });
  reset.addEventListener("click", () => {
    editor.value = stub;
  });
  const bar = element("div", "book-toolbar");
  bar.append(
    gradeButton,
    reset,
    element("span", "book-note", `the same checks as npm run exercise -- ${id}`),
  );
  panel.append(editor, bar, verdict);
  return panel;
}

/** Make the chapter under `root` live (once: a second call on the same page does nothing). */
export function enhanceChapter(root: HTMLElement, options: BookOptions): void {
  if (root.dataset.bookReady === "true") return;
  root.dataset.bookReady = "true";
  const hosts = [...root.querySelectorAll<HTMLElement>(".book-cell")];
  const cells = hosts.map(
    (host) => new Cell(host, (host.querySelector("pre code")?.textContent ?? "").replace(/\n+$/, "")),
  );
  cells.forEach((cell, k) => {
    const bar = element("div", "book-toolbar");
    const run = element("button", "book-button book-run", k === 0 ? "Run" : `Run cells 1–${k + 1}`);
    const edit = element("button", "book-button", "Edit");
    run.addEventListener("click", () => runCells(root, cells, k, options.mnist));
    edit.addEventListener("click", () => cell.toggleEditor());
    bar.append(run, edit);
    cell.host.after(bar, cell.output);
  });
  if (cells.length > 0) {
    const all = element("button", "book-button book-run-all", "Run the whole chapter");
    all.addEventListener("click", () => runCells(root, cells, cells.length - 1, options.mnist));
    const intro = element(
      "p",
      "book-note",
      "Every code block on this page runs here, on elbo's wasm backend in a Web Worker. A block's Run runs the blocks before it too; Edit lets you change it first. After a run of the whole chapter, each quoted output is checked against what the run printed.",
    );
    const header = element("div", "book-header");
    header.append(all, intro);
    hosts[0].before(header);
  }
  for (const link of root.querySelectorAll<HTMLAnchorElement>("a[data-exercise]")) {
    const id = link.dataset.exercise!;
    const stub = options.stubs[id];
    if (stub === undefined) continue;
    const open = element("button", "book-button book-try", "Try it here");
    let panel: HTMLElement | null = null;
    open.addEventListener("click", () => {
      if (panel === null) {
        panel = exercisePanel(id, stub);
        (link.closest("li") ?? link.parentElement ?? root).append(panel);
      } else panel.hidden = !panel.hidden;
    });
    link.after(" ", open);
  }
}
