/** Timing for benchmarks: warm up, repeat, report the median (robust to a noisy shared machine). */

export interface Timing {
  /** Median milliseconds per call. */
  medianMs: number;
  /** Fastest call, ms. */
  minMs: number;
  reps: number;
}

/**
 * Run `fn` until `minReps` calls and at least `minTimeMs` have passed (after `warmup` calls that
 * are not counted), and return the median time per call.
 */
export async function measure(
  fn: () => unknown,
  options: { warmup?: number; minReps?: number; minTimeMs?: number; maxReps?: number } = {},
): Promise<Timing> {
  const warmup = options.warmup ?? 2;
  const minReps = options.minReps ?? 5;
  const minTimeMs = options.minTimeMs ?? 300;
  const maxReps = options.maxReps ?? 1000;
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < maxReps && (times.length < minReps || performance.now() - start < minTimeMs)) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return { medianMs: median(times), minMs: times.reduce((a, b) => Math.min(a, b)), reps: times.length };
}

export interface StepTiming {
  /** The first call, ms: compiling and warming up included. */
  firstMs: number;
  /** Median ms per call once warm. */
  medianMs: number;
}

/** A step's first call, timed on its own, then its median over `options` (see measure). */
export async function firstAndMedian(
  step: () => unknown,
  options: { warmup: number; minReps: number; minTimeMs: number },
): Promise<StepTiming> {
  const t0 = performance.now();
  await step();
  const firstMs = performance.now() - t0;
  return { firstMs, medianMs: (await measure(step, options)).medianMs };
}

/** The middle value (of an even count, the upper of the two middle ones). */
export function median(xs: readonly number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
}

/** GFLOP/s of an m×k·k×n matrix multiply (2mkn flops) taking `ms` milliseconds. */
export function gflops(m: number, k: number, n: number, ms: number): number {
  return (2 * m * k * n) / (ms * 1e6);
}
