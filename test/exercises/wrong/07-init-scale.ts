/** Planted wrong answer: the standard deviation of PyTorch's default U(±1/√n), 1/√(3n), for every activation. */
export function initStd(fanIn: number, activation: "relu" | "tanh" | "linear"): number {
  return 1 / Math.sqrt(3 * fanIn);
}
