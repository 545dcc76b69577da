/**
 * Every exercise can be solved and every grader can fail: each grader passes on its reference
 * solution (exercises/solutions/), and fails on the untouched stub (exercises/) and on a planted
 * wrong answer (test/exercises/wrong/), a mistake a student makes. The catalog and the three
 * folders list the same exercises.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { exercises } from "../../exercises/checks/catalog.ts";
import { formatVerdict, grade, type StudentModule } from "../../exercises/checks/verdict.ts";

const root = resolve(import.meta.dirname, "../..");
const load = async (file: string) => (await import(pathToFileURL(join(root, file)).href)) as StudentModule;
const ids = (folder: string) =>
  readdirSync(join(root, folder))
    .filter((f) => /^\d\d-.*\.ts$/.test(f))
    .map((f) => f.replace(/\.ts$/, ""))
    .sort();

describe("the exercises", () => {
  it("are the same in the catalog, the stubs, the solutions and the planted wrong answers", () => {
    const catalog = exercises.map((e) => e.id).sort();
    expect(ids("exercises")).toEqual(catalog);
    expect(ids("exercises/solutions")).toEqual(catalog);
    expect(ids("test/exercises/wrong")).toEqual(catalog);
  });

  it("are each listed in exercises/README.md and in their chapter's Exercises section", () => {
    const readme = readFileSync(join(root, "exercises", "README.md"), "utf8");
    const chapters = readdirSync(join(root, "docs")).filter((f) => /^\d\d-.*\.md$/.test(f));
    for (const e of exercises) {
      expect(readme, `exercises/README.md lists ${e.id}`).toContain(`[\`${e.id}\`](${e.id}.ts)`);
      const chapter = chapters.find((c) => Number(c.slice(0, 2)) === e.chapter)!;
      const text = readFileSync(join(root, "docs", chapter), "utf8");
      expect(text, `docs/${chapter} lists ${e.id}`).toContain(`[\`${e.id}\`](../exercises/${e.id}.ts)`);
    }
  });

  it("are in the course's order, two to four per chapter, for every chapter", () => {
    const chapters = exercises.map((e) => e.chapter);
    expect(chapters).toEqual([...chapters].sort((a, b) => a - b));
    for (let chapter = 1; chapter <= 10; chapter++) {
      const count = chapters.filter((c) => c === chapter).length;
      expect(count, `chapter ${chapter}`).toBeGreaterThanOrEqual(2);
      expect(count, `chapter ${chapter}`).toBeLessThanOrEqual(4);
    }
  });
});

describe.each(exercises.map((e) => [e.id, e] as const))("%s", (id, exercise) => {
  it("passes its reference solution", async () => {
    const verdict = await grade(exercise, await load(`exercises/solutions/${id}.ts`));
    expect(verdict.passed, formatVerdict(verdict)).toBe(true);
    expect(verdict.cases).toHaveLength(exercise.checks.length);
  });

  it("fails the untouched stub", async () => {
    const verdict = await grade(exercise, await load(`exercises/${id}.ts`));
    expect(verdict.passed, formatVerdict(verdict)).toBe(false);
    expect(verdict.cases.at(-1)?.hint).toBeTruthy();
  });

  it("fails the planted wrong answer, saying which check and why", async () => {
    const verdict = await grade(exercise, await load(`test/exercises/wrong/${id}.ts`));
    expect(verdict.passed, formatVerdict(verdict)).toBe(false);
    const failed = verdict.cases.at(-1)!;
    expect(failed.passed).toBe(false);
    expect(failed.detail).toBeTruthy();
    expect(formatVerdict(verdict)).toContain(
      `FAILED ${id} at check ${verdict.cases.length} of ${exercise.checks.length}`,
    );
  });
});
