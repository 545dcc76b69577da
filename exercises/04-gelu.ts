/**
 * Exercise 04-gelu (chapter 4: your own op).
 *
 * GELU, the smooth relu of BERT and GPT, in its tanh approximation:
 *
 *   gelu(x) = ½·x·(1 + tanh(u)),   u = c·(x + 0.044715·x³),   c = √(2/π)
 *
 * Write it as an op of your own (applyOp, named "gelu") with its derivative worked out by hand, by
 * the product rule and the chain rule (du/dx = c·(1 + 3·0.044715·x²), d tanh(u)/du = 1 − tanh²(u)).
 * Build the VJP from tensor ops, so that gradgradcheck can differentiate it again.
 *
 * Grade it: npm run exercise -- 04-gelu
 */
import { applyOp, type Tensor } from "../src/index.ts";

export function gelu(x: Tensor): Tensor {
  throw new Error("not written yet");
}
