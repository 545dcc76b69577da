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
 * way stays slower, so each try that loses doubles the wait before the next (`first` runs at
 * least, `most` at most), and a try that wins starts the waits over (at `first`). When the
 * medians cross, the way left behind is tried again RECENT runs later: its median may be of a few
 * slow runs, now stale, and would otherwise keep the step on the slower way until the next try.
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
  /** Whether the first runs, which run each way in turn, are over. */
  private explored = false;
  /** The way that has been faster lately. */
  private preferShared = true;

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
    if (!this.explored && (this.sharedRuns < 2 * RECENT || alone.length === 0))
      return this.sharedRuns < 2 * RECENT;
    const faster = median(shared) <= median(alone);
    if (!this.explored) {
      this.explored = true;
      this.preferShared = faster;
    } else if (faster !== this.preferShared) {
      this.preferShared = faster;
      this.sinceTry = 0;
      this.tryEvery = RECENT;
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
      const won = ms < median(other);
      if (won) this.preferShared = shared;
      this.tryEvery = won ? this.first : Math.min(Math.max(2 * this.tryEvery, this.first), this.most);
      this.trying = false;
    }
    times.push(ms);
    if (times.length > RECENT) times.shift();
    if (shared && !this.explored) this.sharedRuns++;
  }
}

/** How many of a way's latest runs its median is over. */
const RECENT = 5;

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
