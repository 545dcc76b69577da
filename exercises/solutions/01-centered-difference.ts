/** Reference solution of exercises/01-centered-difference.ts. */
export function centeredDifference(f: (x: number) => number, x: number, h: number): number {
  return (f(x + h) - f(x - h)) / (2 * h);
}
