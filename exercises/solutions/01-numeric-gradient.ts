/** Reference solution of exercises/01-numeric-gradient.ts. */
export function numericGradient(f: (x: number[]) => number, x: number[], h = 1e-6): number[] {
  return x.map((_, j) => {
    const at = (delta: number) => f(x.map((v, k) => (k === j ? v + delta : v)));
    return (at(h) - at(-h)) / (2 * h);
  });
}
