/**
 * Exercise 01-numeric-gradient (chapter 1: a derivative as a limit).
 *
 * The gradient of a function of many variables by centered differences, one variable at a time:
 *
 *   ∂f/∂x_j ≈ (f(x + h·e_j) − f(x − h·e_j)) / 2h
 *
 * where e_j is the j-th unit vector. This is what gradcheck does for every element of every input.
 * Leave x as you found it: the caller's array must not change. The grader compares your gradient
 * with elbo's backward() on random smooth functions.
 *
 * Grade it: npm run exercise -- 01-numeric-gradient
 */
export function numericGradient(f: (x: number[]) => number, x: number[], h = 1e-6): number[] {
  throw new Error("not written yet");
}
