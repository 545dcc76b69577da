/**
 * `npm run exercise`: --list names every exercise with its chapter; grading prints a verdict per
 * check and exits 0 only when all pass; an id's unique prefix is enough; an unknown id is refused
 * with the list of known ones.
 */
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { exercises } from "../../exercises/checks/catalog.ts";

const root = resolve(import.meta.dirname, "../..");

async function exercise(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", "exercises/grade.ts", ...args],
      { cwd: root },
    );
    return { code: 0, out: stdout + stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

describe("npm run exercise", () => {
  it("--list names every exercise and its chapter", async () => {
    const { code, out } = await exercise("--list");
    expect(code).toBe(0);
    for (const e of exercises) expect(out).toMatch(new RegExp(`^${e.id} +chapter +${e.chapter} `, "m"));
  });

  it("passes a solved file, by an id's prefix, with exit code 0", async () => {
    const { code, out } = await exercise("02-scalar", "--file", "exercises/solutions/02-scalar-autodiff.ts");
    expect(out).toContain("PASSED 02-scalar-autodiff: all 4 checks");
    expect(code).toBe(0);
  });

  it("fails the untouched stub with the failed check, what went wrong and a hint, exit code 1", async () => {
    const { code, out } = await exercise("01-centered-difference");
    expect(out).toContain("grading exercises/01-centered-difference.ts");
    expect(out).toMatch(
      /FAIL 1\/3 exact for a quadratic .*\n {7}your code threw: not written yet\n {7}hint: /,
    );
    expect(out).toContain("FAILED 01-centered-difference at check 1 of 3");
    expect(code).toBe(1);
  });

  it("refuses an unknown id and an ambiguous prefix, naming the choices", async () => {
    const unknown = await exercise("99-nothing");
    expect(unknown.code).toBe(1);
    expect(unknown.out).toMatch(
      /exercise: no exercise "99-nothing"; the exercises are 01-centered-difference, /,
    );
    const ambiguous = await exercise("01");
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.out).toContain('"01" could be any of 01-centered-difference, 01-numeric-gradient');
  });
});
