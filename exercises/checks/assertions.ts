/**
 * What a check can demand of the student's code, each failing with a Failure that says what was
 * expected and what came: an export of the right kind, numbers close to the right ones, a gradient
 * that passes gradcheck, a property that holds for every case fast-check draws (with the first
 * counterexample, shrunk, in the message).
 */
import fc from "fast-check";
import {
  type GradcheckOptions,
  type GradcheckReport,
  gradcheck,
  gradgradcheck,
  type Tensor,
} from "../../src/index.ts";
import { Failure, type StudentModule } from "./verdict.ts";

/** The export `name` of the student's module, which must be a function (or a class). */
// biome-ignore lint/complexity/noBannedTypes: any callable the student exports
export function exported<F extends Function>(student: StudentModule, name: string): F {
  const value = student[name];
  if (typeof value !== "function") {
    throw new Failure(
      `your file must export ${name}, a function; it exports ${Object.keys(student).join(", ") || "nothing"}`,
    );
  }
  return value as F;
}

/** |actual − expected| ≤ atol + rtol·|expected|, for a number or element by element. */
export function expectClose(
  actual: number | ArrayLike<number>,
  expected: number | ArrayLike<number>,
  what: string,
  tolerance: { atol?: number; rtol?: number } = {},
): void {
  const a = typeof actual === "number" ? [actual] : Array.from(actual);
  const e = typeof expected === "number" ? [expected] : Array.from(expected);
  if (a.length !== e.length) throw new Failure(`${what}: got ${a.length} numbers, expected ${e.length}`);
  const { atol = 1e-9, rtol = 1e-7 } = tolerance;
  for (let i = 0; i < e.length; i++) {
    const error = Math.abs(a[i] - e[i]);
    if (!(error <= atol + rtol * Math.abs(e[i]))) {
      const at = e.length === 1 ? "" : ` at element ${i}`;
      throw new Failure(`${what}${at}: got ${a[i]}, expected ${e[i]}`);
    }
  }
}

/** `t` must be a tensor (the student's function returned something else otherwise). */
export function expectTensor(t: unknown, what: string): Tensor {
  if (t === null || typeof t !== "object" || !("shape" in t) || !("dataSync" in t)) {
    throw new Failure(`${what}: expected a Tensor, got ${t === null ? "null" : typeof t}`);
  }
  return t as Tensor;
}

export function expectShape(t: Tensor, shape: readonly number[], what: string): void {
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new Failure(`${what}: shape [${t.shape.join(", ")}], expected [${shape.join(", ")}]`);
  }
}

/** The tensor must be the output of an op recorded under `name` (written with applyOp). */
export function expectOp(t: Tensor, name: string): void {
  if (t.op !== name) {
    throw new Failure(
      `the result was made by the op "${t.op}"; write your own op with applyOp("${name}", …)`,
    );
  }
}

/** gradcheck passes on fn at inputs; its message (the worst element, both derivatives) otherwise. */
export function expectGradcheck(
  fn: (...xs: Tensor[]) => Tensor,
  inputs: Tensor[],
  options?: GradcheckOptions,
): void {
  passes(gradcheck(fn, inputs, options));
}

/** gradgradcheck passes: the second derivatives agree with finite differences of the first. */
export function expectGradgradcheck(
  fn: (...xs: Tensor[]) => Tensor,
  inputs: Tensor[],
  options?: GradcheckOptions,
): void {
  passes(gradgradcheck(fn, inputs, options));
}

function passes(report: GradcheckReport): void {
  if (!report.passed) throw new Failure(report.message);
}

/**
 * `check` holds for every value fast-check draws from `arbitrary` (a fixed seed, so a failure is
 * the same every time); otherwise the first counterexample, shrunk, and what failed for it.
 */
export function holds<T>(arbitrary: fc.Arbitrary<T>, check: (value: T) => void, runs = 40): void {
  const details = fc.check(
    fc.property(arbitrary, (value) => {
      check(value);
    }),
    { numRuns: runs, seed: 19 },
  );
  if (!details.failed) return;
  const why =
    details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  const prefix = details.errorInstance instanceof Failure ? "" : "your code threw: ";
  throw new Failure(`for ${fc.stringify(details.counterexample?.[0])}: ${prefix}${why}`);
}
