/**
 * Exercise 08-checkpoint (chapter 8: stopping gradients, and the memory of reverse mode).
 *
 * checkpoint(segment, inputs) returns segment(...inputs), as an op of your own (applyOp, named
 * "checkpoint") that keeps none of the segment's intermediates:
 *
 * - forward: segment(...inputs). applyOp runs it under noGrad and frees its scratch, so the graph
 *   will hold this one node and its inputs, not the segment's inner tensors;
 * - VJP: when backward reaches the node, run the segment again, this time recording
 *   (`vjp(segment)(...inputs)` does that), and pull g back through it: one gradient per input.
 *   Run the recomputation once, not once per input.
 *
 * The gradients must be exactly those of the segment without checkpointing.
 *
 * Grade it: npm run exercise -- 08-checkpoint
 */
import { applyOp, type Tensor, vjp } from "../src/index.ts";

export function checkpoint(segment: (...inputs: Tensor[]) => Tensor, inputs: Tensor[]): Tensor {
  throw new Error("not written yet");
}
