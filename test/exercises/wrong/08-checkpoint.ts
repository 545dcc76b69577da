/** Planted wrong answer: calls the segment directly, so the graph keeps every intermediate. */
import type { Tensor } from "../../../src/index.ts";

export function checkpoint(segment: (...inputs: Tensor[]) => Tensor, inputs: Tensor[]): Tensor {
  return segment(...inputs);
}
