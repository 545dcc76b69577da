/**
 * Whether a compiled step's next run shares its jobs with the worker threads or the calling thread
 * runs them alone (program.ts): whichever has been faster lately, trying the other now and then.
 * On an idle machine sharing wins; on a busy one, where the operating system puts a worker aside
 * mid-job and the calling thread waits for it, one thread alone can be faster, and then the step
 * runs alone: never slower than one thread.
 *
 * A try costs a slow run for as long as the slower way stays slower, so each try that loses doubles
 * the wait before the next (from `first` runs up to `most`); when the faster way changes (a try
 * wins, or the averages cross) the waits start over.
 */
export class ShareChoice {
  /** How long a run took each way (ms): a running average over the last few runs of that way. */
  private readonly took = { shared: Number.NaN, alone: Number.NaN };
  private sinceTry = 0;
  private tryEvery: number;
  /** Whether the run under way is a try of the slower way. */
  private trying = false;
  /** The way that was faster at the last run (undefined before each way has run). */
  private preferShared: boolean | undefined;

  constructor(
    private readonly first = 16,
    private readonly most = 256,
  ) {
    this.tryEvery = first;
  }

  /** Whether the next run shares; each way is run once first, sharing first. */
  next(): boolean {
    const { shared, alone } = this.took;
    if (Number.isNaN(shared) || Number.isNaN(alone)) return Number.isNaN(shared);
    const faster = shared <= alone;
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

  /** How long the run `next` chose took. A try replaces its way's average, which is as old as the last try. */
  record(shared: boolean, ms: number): void {
    const [way, other] = shared ? (["shared", "alone"] as const) : (["alone", "shared"] as const);
    const before = this.took[way];
    if (!this.trying) {
      this.took[way] = Number.isNaN(before) ? ms : before + (ms - before) / 4;
      return;
    }
    this.took[way] = ms;
    if (ms >= this.took[other]) this.tryEvery = Math.min(2 * this.tryEvery, this.most);
    this.trying = false;
  }
}
