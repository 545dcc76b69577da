/**
 * Whether a compiled step's next run shares its jobs with the worker threads or the calling thread
 * runs them alone (program.ts): whichever has been faster lately, trying the other now and then.
 * On an idle machine sharing wins; on a busy one, where the operating system puts a worker aside
 * mid-job and the calling thread waits for it, one thread alone can be faster, and then the step
 * runs alone: never slower than one thread.
 *
 * The machine's speed drifts (a VM's neighbours, other processes, the clock), so the two ways are
 * only compared on runs close together: the way in use by the median of its last RECENT runs, the
 * other by a try of TRY runs in a row made just now, judged by their median. So one interrupted
 * run can neither make nor lose a try, and times from an earlier, faster or slower stretch decide
 * nothing. A try comes
 * - first, once sharing has RECENT counted runs after the first WARM_UP, which share and are not
 *   counted (the engine is still compiling the kernels and the worker threads are joining: those
 *   runs are slow for reasons that pass);
 * - when the way in use has become slower than the other was at its last try (a machine that turns
 *   busy is followed within a few runs);
 * - right after a switch, of the way just left: the try that made the switch may have been judged
 *   against a passing slow stretch of it, and a wrong switch is undone at once, as if it had not
 *   happened;
 * - and otherwise `first` runs after a try that lost, twice as long after each further loss in a
 *   row (`most` at most): a try of the slower way costs TRY slow runs.
 */
export class ShareChoice {
  /** The last RECENT run times of each way, ms, newest last: of the way in use, and of the other's last try. */
  private readonly took: { shared: number[]; alone: number[] } = { shared: [], alone: [] };
  private warmUps = 0;
  /** The times of the try under way, or null. */
  private trial: number[] | null = null;
  /** Runs of the way in use since the last try. */
  private sinceTry = 0;
  /** How many tries in a row have lost, which sets the wait before the next. */
  private losses = 0;
  /** Whether the try under way checks a switch just made, and the losses before that switch. */
  private checking = false;
  private lossesBeforeSwitch = 0;
  /** The way in use. */
  private sharing = true;

  constructor(
    private readonly first = 16,
    private readonly most = 256,
  ) {}

  /** Whether the next run shares. */
  next(): boolean {
    if (this.warmUps < WARM_UP) return true;
    if (this.trial !== null) return !this.sharing;
    const [current, other] = this.ways();
    if (other.length === 0 && current.length < RECENT) return this.sharing;
    if (
      this.checking ||
      other.length === 0 ||
      this.sinceTry >= this.wait() ||
      median(current) > median(other)
    ) {
      this.trial = [];
      return !this.sharing;
    }
    return this.sharing;
  }

  /** How long the run `next` chose took. */
  record(shared: boolean, ms: number): void {
    if (this.warmUps < WARM_UP) {
      this.warmUps++;
      return;
    }
    const [current, other] = this.ways();
    if (this.trial === null) {
      keepRecent(current, ms);
      this.sinceTry++;
      return;
    }
    this.trial.push(ms);
    if (this.trial.length < TRY) return;
    const won = median(this.trial) < median(current);
    other.splice(0, other.length, ...this.trial);
    this.trial = null;
    this.sinceTry = 0;
    if (won) this.sharing = shared;
    if (won && !this.checking) {
      [this.lossesBeforeSwitch, this.losses, this.checking] = [this.losses, 0, true];
      return;
    }
    // A check that wins undoes the switch, and the waits go on as before it.
    this.losses = won ? this.lossesBeforeSwitch : this.losses + 1;
    this.checking = false;
  }

  /** Runs of the way in use between tries. */
  private wait(): number {
    return Math.min(this.first * 2 ** Math.max(this.losses - 1, 0), this.most);
  }

  /** The times of the way in use and of the other. */
  private ways(): [number[], number[]] {
    const { shared, alone } = this.took;
    return this.sharing ? [shared, alone] : [alone, shared];
  }
}

/** Runs at the start that share and are not counted. */
const WARM_UP = 10;
/** How many of the way in use's latest runs its median is over. */
const RECENT = 5;
/** Runs in a try of the other way. */
const TRY = 3;

function keepRecent(times: number[], ms: number): void {
  times.push(ms);
  if (times.length > RECENT) times.shift();
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
