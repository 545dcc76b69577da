/**
 * An op's work on the wasm backend, planned before it runs: a list of steps done in order, each
 * either one kernel run as independent jobs (each job a list of integer arguments; any thread may
 * take any job) or code on the calling thread over views of the memory. Planning (addresses, how
 * to split, which operand's zeros to skip) happens once; the steps are what runs. An eager op runs
 * its steps at once; a compiled step keeps them and runs them again at every call (program.ts).
 */
export type Step =
  /** `parallel`: the jobs were cut to be shared between threads (else they run one after another here). */
  { kernel: string; jobs: number[][]; parallel: boolean } | { host: () => void };

/**
 * [lo, hi) ranges that cut n items into `parts` runs of nearly equal length, each boundary a
 * multiple of `unit` (whole vectors, so that every run but the last has no scalar tail).
 */
export function evenSplit(n: number, parts: number, unit: number): [number, number][] {
  const ranges: [number, number][] = [];
  for (let t = 0; t < parts; t++) {
    const lo = unit * Math.floor((t * n) / parts / unit);
    const hi = t === parts - 1 ? n : unit * Math.floor(((t + 1) * n) / parts / unit);
    ranges.push([lo, hi]);
  }
  return ranges;
}
