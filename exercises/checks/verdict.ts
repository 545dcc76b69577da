/**
 * What an exercise is and how it is graded: a list of checks, run in order on the student's module
 * (its exports) until one fails. The same code grades in Node (`npm run exercise -- <id>`,
 * exercises/grade.ts) and in the book's page (book/worker.ts), so a verdict never depends on
 * where it was asked for.
 */

/** The student's file, as its exports. */
export type StudentModule = Readonly<Record<string, unknown>>;

/** Thrown by a check: `message` says what was expected and what came instead. */
export class Failure extends Error {}

export interface Check {
  /** What is checked, in a few words: "exact on a quadratic". */
  name: string;
  /** What to look at when it fails. */
  hint: string;
  /**
   * Throws a Failure (or lets the student's code throw) when the check fails. It may return, or
   * resolve to, a string: a note of what it measured, shown beside the verdict.
   */
  run: (student: StudentModule) => unknown;
}

export interface Exercise {
  /** The file's name without .ts: "01-centered-difference". */
  id: string;
  chapter: number;
  title: string;
  /** One sentence: what doing it teaches. */
  teaches: string;
  checks: readonly Check[];
}

export interface CaseResult {
  name: string;
  passed: boolean;
  /** For a passed check, what it measured (if anything); for a failed one, what went wrong. */
  detail?: string;
  hint?: string;
}

export interface Verdict {
  id: string;
  passed: boolean;
  /** The checks run: all of them when every one passes, else up to and including the first failure. */
  cases: CaseResult[];
  total: number;
}

/** Run the exercise's checks on `student`, stopping at the first that fails. */
export async function grade(exercise: Exercise, student: StudentModule): Promise<Verdict> {
  const cases: CaseResult[] = [];
  for (const check of exercise.checks) {
    try {
      const note = await check.run(student);
      cases.push({ name: check.name, passed: true, ...(typeof note === "string" ? { detail: note } : {}) });
    } catch (error) {
      const detail =
        error instanceof Failure
          ? error.message
          : `your code threw: ${error instanceof Error ? error.message : String(error)}`;
      cases.push({ name: check.name, passed: false, detail, hint: check.hint });
      return { id: exercise.id, passed: false, cases, total: exercise.checks.length };
    }
  }
  return { id: exercise.id, passed: true, cases, total: exercise.checks.length };
}

/** The verdict as plain text, the same in a terminal and in the page. */
export function formatVerdict(verdict: Verdict): string {
  const lines = verdict.cases.map((c, i) => {
    const mark = c.passed ? "ok  " : "FAIL";
    const head = `${mark} ${i + 1}/${verdict.total} ${c.name}`;
    const body = [c.detail, c.hint === undefined ? undefined : `hint: ${c.hint}`]
      .filter((l): l is string => l !== undefined)
      .map((l) => `       ${l}`);
    return [head, ...body].join("\n");
  });
  const summary = verdict.passed
    ? `PASSED ${verdict.id}: all ${verdict.total} checks`
    : `FAILED ${verdict.id} at check ${verdict.cases.length} of ${verdict.total}: ${verdict.cases.at(-1)?.name}`;
  return [...lines, summary].join("\n");
}
