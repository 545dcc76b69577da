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
 * A second signal, a second or more after the first, ends the process at once.
 */
import { constants } from "node:os";

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
export type StopSignal = (typeof SIGNALS)[number];

/** The run was stopped, by `signal` (or, when null, for `reason`), `where` it was. */
export class Stopped extends Error {
  constructor(
    readonly signal: StopSignal | null,
    readonly reason: string,
    readonly where: string,
  ) {
    super(`stopped ${reason} ${where}`);
  }
}

/** A stopped process's exit code: 128 + the signal's number, as a shell reports it; else 1. */
export function exitCodeOf(stopped: Stopped): number {
  return stopped.signal === null ? 1 : 128 + constants.signals[stopped.signal];
}

export interface SignalWatch {
  /** Let the event loop turn, then throw `Stopped` (naming `where`) if a signal or a stop has come. */
  between(where: string): Promise<void>;
  /** Stop at the next `between` for `reason` (a launcher gone), as a signal would. */
  stop(reason: string): void;
  /** Stop handling signals (the defaults return). */
  dispose(): void;
}

/** Handle SIGINT, SIGTERM and SIGHUP from now on, until `dispose()`. */
export function watchSignals(): SignalWatch {
  let received: { signal: StopSignal | null; reason: string; at: number } | null = null;
  const handler = (signal: StopSignal) => {
    // A second signal, later, means it: at once (never inside a write, which is synchronous).
    // Within a second it is the same request twice: a terminal's Ctrl-C reaches the trainer
    // both from the terminal and passed on by npm.
    if (received?.signal) {
      if (performance.now() - received.at > 1000) process.exit(128 + constants.signals[signal]);
      return;
    }
    received = { signal, reason: `by ${signal}`, at: performance.now() };
  };
  for (const s of SIGNALS) process.on(s, handler);
  return {
    async between(where) {
      await new Promise((resolve) => setImmediate(resolve));
      if (received !== null) throw new Stopped(received.signal, received.reason, where);
    },
    stop(reason) {
      received ??= { signal: null, reason, at: performance.now() };
    },
    dispose() {
      for (const s of SIGNALS) process.off(s, handler);
    },
  };
}
