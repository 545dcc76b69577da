/**
 * Exercise 07-init-scale (chapter 7: stability and gradient flow).
 *
 * The standard deviation to draw a layer's weights with, N(0, std²), for a layer with `fanIn`
 * inputs followed by `activation`, so that a signal keeps its size through many layers. A unit's
 * pre-activation Σₖ hₖWₖⱼ has variance fanIn·std²·E[h²]; after relu only half of it survives
 * (E[relu(z)²] = Var(z)/2); tanh and the identity keep about all of it near 0. Choose std so that
 * the factor per layer is 1.
 *
 * The grader pushes a batch through 30 layers of width 128 with your scale and measures the
 * signal at the end.
 *
 * Grade it: npm run exercise -- 07-init-scale
 */
export function initStd(fanIn: number, activation: "relu" | "tanh" | "linear"): number {
  throw new Error("not written yet");
}
