/**
 * Stopping on a signal: SIGINT (Ctrl-C), SIGTERM (what `kill`, `timeout`, supervisors and
 * container runtimes send) and SIGHUP (the terminal closed), sent to the trainer or passed on to it
 * by npm or tsx. Node runs a signal handler only when the event loop turns, and a training loop
 * whose steps' values are already on the host never returns to it: a SIGTERM at epoch 23 of 150
 * used to take effect after epoch 150. So the run calls `between()` after every step, evaluation
 * batch and picture: it lets the event loop turn once (setImmediate, a fraction of a millisecond)
 * and then throws `Stopped` if a signal came. The run ends there, between steps, never in the
 * middle of a checkpoint's write (writes are synchronous); the caller keeps the last checkpoint,
 * writes what it can, and exits with 128 + the signal's number (130 for SIGINT, 143 for SIGTERM).
 * A second signal ends the process at once.
 */
import { constants } from "node:os";

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
export type StopSignal = (typeof SIGNALS)[number];

/** The run was stopped by `signal`, `where` it was. */
export class Stopped extends Error {
  constructor(
    readonly signal: StopSignal,
    readonly where: string,
  ) {
    super(`stopped by ${signal} ${where}`);
  }
}

/** A process's exit code after `signal`, as a shell reports it: 128 + its number. */
export function exitCodeOf(signal: StopSignal): number {
  return 128 + constants.signals[signal];
}

export interface SignalWatch {
  /** The signal received, if any. */
  readonly received: StopSignal | null;
  /** Let the event loop turn, then throw `Stopped` (naming `where`) if a signal has come. */
  between(where: string): Promise<void>;
  /** Stop handling signals (the defaults return). */
  dispose(): void;
}

/** Handle SIGINT, SIGTERM and SIGHUP from now on, until `dispose()`. */
export function watchSignals(): SignalWatch {
  let received: StopSignal | null = null;
  const handler = (signal: StopSignal) => {
    // The second time, the user means it: at once (never inside a write, which is synchronous).
    if (received !== null) process.exit(exitCodeOf(signal));
    received = signal;
  };
  for (const s of SIGNALS) process.on(s, handler);
  return {
    get received() {
      return received;
    },
    async between(where) {
      await new Promise((resolve) => setImmediate(resolve));
      if (received !== null) throw new Stopped(received, where);
    },
    dispose() {
      for (const s of SIGNALS) process.off(s, handler);
    },
  };
}
