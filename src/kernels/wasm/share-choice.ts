/**
 * Whether a compiled step's next run shares its jobs with the worker threads or the calling thread
 * runs them alone (program.ts): whichever has been faster lately, trying the other now and then.
 * On an idle machine sharing wins; on a busy one, where the operating system puts a worker aside
 * mid-job and the calling thread waits for it, one thread alone can be faster, and then the step
 * runs alone: never slower than one thread.
 *
 * "Lately" is the median of a way's last RECENT runs, so that one run the operating system
 * interrupted (common on a shared machine even when it is idle) does not flip the choice, while a
 * machine that stays busy does, within a few runs. A try costs a slow run for as long as the slower
 * way stays slower, so each try that loses doubles the wait before the next (from `first` runs up
 * to `most`); when the faster way changes (a try wins, or the medians cross) the waits start over.
 */
export class ShareChoice {
  /** The last RECENT run times of each way, ms, newest last. */
  private readonly took: { shared: number[]; alone: number[] } = { shared: [], alone: [] };
  /** Runs that shared, during the first runs. */
  private sharedRuns = 0;
  private sinceTry = 0;
  private tryEvery: number;
  /** Whether the run under way is a try of the slower way. */
  private trying = false;
  /** The way that was faster at the last run (undefined during the first runs). */
  private preferShared: boolean | undefined;

  constructor(
    private readonly first = 16,
    private readonly most = 256,
  ) {
    this.tryEvery = first;
  }

  /**
   * Whether the next run shares. The first 2·RECENT runs share (the first few are slow while the
   * engine compiles, and sharing is what an idle machine wants), the next runs alone once.
   */
  next(): boolean {
    const [shared, alone] = [this.took.shared, this.took.alone];
    if (this.preferShared === undefined && (this.sharedRuns < 2 * RECENT || alone.length === 0))
      return this.sharedRuns < 2 * RECENT;
    const faster = median(shared) <= median(alone);
    if (faster !== this.preferShared) {
      this.preferShared = faster;
      this.sinceTry = 0;
      this.tryEvery = this.first;
    }
    this.trying = ++this.sinceTry >= this.tryEvery;
    if (!this.trying) return faster;
    this.sinceTry = 0;
    return !faster;
  }

  /**
   * How long the run `next` chose took. A try's time stands for its way alone: the way's earlier
   * times are as old as the try before.
   */
  record(shared: boolean, ms: number): void {
    const [times, other] = shared ? [this.took.shared, this.took.alone] : [this.took.alone, this.took.shared];
    if (this.trying) {
      times.length = 0;
      if (ms >= median(other)) this.tryEvery = Math.min(2 * this.tryEvery, this.most);
      this.trying = false;
    }
    times.push(ms);
    if (times.length > RECENT) times.shift();
    if (shared && this.preferShared === undefined) this.sharedRuns++;
  }
}

/** How many of a way's latest runs its median is over. */
const RECENT = 5;

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
