/** Planted wrong answer: perturbs x in place and forgets to put each element back. */
export function numericGradient(f: (x: number[]) => number, x: number[], h = 1e-6): number[] {
  return x.map((_, j) => {
    x[j] += h;
    const plus = f(x);
    x[j] -= 2 * h;
    const minus = f(x);
    return (plus - minus) / (2 * h);
  });
}
