/** Reference solution of exercises/07-init-scale.ts. */
export function initStd(fanIn: number, activation: "relu" | "tanh" | "linear"): number {
  // fanIn·std²·(½ for relu, 1 otherwise) = 1: He's √(2/n) for relu, Glorot's (LeCun's) √(1/n) otherwise
  return Math.sqrt((activation === "relu" ? 2 : 1) / fanIn);
}
