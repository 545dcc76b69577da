/**
 * Exercise 01-centered-difference (chapter 1: a derivative as a limit).
 *
 * Write the centered difference, the estimate of f'(x) that looks both ways:
 *
 *   (f(x + h) − f(x − h)) / 2h
 *
 * By Taylor's theorem its error falls like h², where a forward difference's falls like h: the
 * grader checks that shrinking h tenfold shrinks the error a hundredfold.
 *
 * Grade it: npm run exercise -- 01-centered-difference
 */
export function centeredDifference(f: (x: number) => number, x: number, h: number): number {
  throw new Error("not written yet");
}
