/**
 * When a matmul should skip an operand's zeros. MNIST batches are about 81% zeros, and a ReLU's
 * output often half; multiplying by those zeros is wasted work. The kernel (kernels-matmul.ts)
 * can leave out every depth step whose panel numbers are all zero, exactly, but looking costs a
 * little during packing; so first a cheap guess from a sample decides whether to look at all.
 *
 * Measured (bench/wasm.ts, "zero skipping"): with zeros scattered at random, skipping is never
 * slower, and from about 70% zeros it is faster (80%: 1.5×, 90%: 2.4× on one thread); on MNIST
 * batches, whose zeros cluster at the borders, 61% of depth steps go and the product takes 2.2×
 * less time. Below half zeros almost no step is all zero, so the sample saves the look.
 */

/** Numbers sampled to estimate an operand's share of zeros. */
export const ZERO_SAMPLES = 64;

/** Default share of sampled zeros from which a matmul skips that operand's zeros. */
export const DEFAULT_SPARSE_ZEROS = 0.5;

/**
 * The share of zeros among ZERO_SAMPLES numbers of memory[start, start + size) (all of them when
 * there are fewer). The positions follow the golden-ratio sequence frac(j·φ)·size: spread evenly,
 * the same every call, and in step with no period of the data (a fixed stride of 392 would read
 * only two pixels of every 784-pixel image of a batch).
 */
export function sampledZeroShare(memory: Float32Array, start: number, size: number): number {
  if (size <= ZERO_SAMPLES) {
    let zeros = 0;
    for (let i = start; i < start + size; i++) if (memory[i] === 0) zeros++;
    return size === 0 ? 0 : zeros / size;
  }
  let zeros = 0;
  let position = 0;
  for (let j = 0; j < ZERO_SAMPLES; j++) {
    position += GOLDEN;
    position -= Math.floor(position);
    if (memory[start + Math.floor(position * size)] === 0) zeros++;
  }
  return zeros / ZERO_SAMPLES;
}

/** The fractional part of the golden ratio. */
const GOLDEN = (Math.sqrt(5) - 1) / 2;

/** Which operand to skip the zeros of: "a" or "b" (the sparser, A on a tie) at or above `threshold`, else "none". */
export function chooseSkip(zerosA: number, zerosB: number, threshold: number): "none" | "a" | "b" {
  if (Math.max(zerosA, zerosB) < threshold) return "none";
  return zerosA >= zerosB ? "a" : "b";
}
