/**
 * When a matmul should skip an operand's zeros. MNIST batches are about 81% zeros, and a ReLU's
 * output often half; multiplying by those zeros is wasted work. The kernel (kernels-matmul.ts)
 * can leave out every depth step whose panel numbers are all zero, exactly, but looking costs a
 * little during packing; so first a cheap guess from a sample decides whether to look at all.
 *
 * Measured (`npm run bench -- --only wasm`, the zero-skipping table; bench/sparse.ts, one thread,
 * 128×784·784×200): with zeros scattered at random — the worst case, few whole steps are zero —
 * looking costs up to 8% below half zeros, breaks even near 60%, and pays from 70% (80%: 1.4×,
 * 90%: 2.1×); an MNIST batch, whose zeros cluster at the borders (61% of its depth steps go),
 * gives 2.2–2.3× for both x·W1ᵀ and Gᵀ·x. Hence the threshold of 60%: a ReLU's output, about half
 * zeros, is left dense.
 */

/** Numbers sampled to estimate an operand's share of zeros. */
export const ZERO_SAMPLES = 64;

/** Default share of sampled zeros from which a matmul skips that operand's zeros. */
export const DEFAULT_SPARSE_ZEROS = 0.6;

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
