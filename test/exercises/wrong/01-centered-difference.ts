/** Planted wrong answer: a forward difference, whose error falls like h, not h². */
export function centeredDifference(f: (x: number) => number, x: number, h: number): number {
  return (f(x + h) - f(x)) / h;
}
