/** The messages between the page (book/page.ts) and its worker (book/worker.ts). */

export type ToWorker =
  /** Run a chapter's cells in order; `mnist` is where the site serves the MNIST files. */
  | { kind: "run"; cells: string[]; mnist: string }
  /** Grade the student's source of exercise `id` with the exercise's checks. */
  | { kind: "grade"; id: string; source: string };

export type FromWorker =
  | { kind: "print"; cell: number; text: string; level: "log" | "warn" | "error" }
  | { kind: "svg"; cell: number; svg: string }
  /** The cells ran to the end; `backend` is where they ran. */
  | { kind: "done"; backend: string }
  /** Cell `cell` threw; the cells after it did not run. */
  | { kind: "failed"; cell: number; message: string }
  | { kind: "verdict"; passed: boolean; text: string };

/** What the page reports of its last run of a chapter (window.__book.last). */
export interface RunSummary {
  /** Every cell ran ("done"), or the run stopped at a failing cell. */
  state: "done" | "failed";
  backend: string;
  failure: string | null;
  /** How many quoted output blocks were checked (0 unless the whole chapter ran). */
  quotes: number;
  /** One line per quoted block that the output does not contain. */
  mismatches: string[];
}
