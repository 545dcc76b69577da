/**
 * The choice between sharing a compiled step's jobs with the workers and running them alone
 * (share-choice.ts), driven by made-up run times: it follows the way whose recent runs were faster
 * (their median), tries the slower one after 16 runs, waits twice as long after each try that loses
 * (up to 256 runs), and starts over when the faster way changes.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ShareChoice } from "../../../src/kernels/wasm/share-choice.ts";

/** Run `runs` runs, each taking `took(shared, run)` ms; the choices made, true for shared. */
function drive(choice: ShareChoice, runs: number, took: (shared: boolean, run: number) => number): boolean[] {
  const made: boolean[] = [];
  for (let run = 0; run < runs; run++) {
    const shared = choice.next();
    choice.record(shared, took(shared, run));
    made.push(shared);
  }
  return made;
}

/** The runs before the choice follows the times: 10 shared, then 1 alone. */
const FIRST = 11;

/** The runs (0-based) at which the choice differs from `usual`. */
const departures = (made: boolean[], usual: boolean) =>
  made.flatMap((shared, run) => (shared === usual ? [] : [run]));

describe("ShareChoice", () => {
  it("shares for its first 10 runs, then runs alone once", () => {
    expect(drive(new ShareChoice(), FIRST, () => 1)).toEqual([...Array(10).fill(true), false]);
  });

  it("is not decided by its first, slow runs (the engine compiling)", () => {
    // The first 5 runs take 20 ms; then sharing takes 5 ms and alone 8 ms.
    const made = drive(new ShareChoice(), FIRST + 15, (shared, run) => (run < 5 ? 20 : shared ? 5 : 8));
    expect(made.slice(FIRST)).toEqual(Array(15).fill(true));
  });

  it("keeps to the faster way, trying the slower after 16, 32, 64, 128, then every 256 runs", () => {
    const made = drive(new ShareChoice(), FIRST + 16 + 32 + 64 + 128 + 256 + 256, (shared) =>
      shared ? 5 : 8,
    );
    // Run 10 is the first alone; each try comes after the wait, counted from the try before.
    expect(departures(made.slice(FIRST), true).map((r) => r + FIRST)).toEqual([
      FIRST + 15,
      FIRST + 16 + 31,
      FIRST + 16 + 32 + 63,
      FIRST + 16 + 32 + 64 + 127,
      FIRST + 16 + 32 + 64 + 128 + 255,
      FIRST + 16 + 32 + 64 + 128 + 256 + 255,
    ]);
  });

  it("keeps sharing through runs the operating system interrupted, one or two at a time", () => {
    // Sharing takes 5 ms, but runs 5, 6, 15, 25, 26, 35, … take 40 ms; alone takes 8 ms.
    const made = drive(new ShareChoice(), FIRST + 16 + 32 + 64, (shared, run) =>
      !shared ? 8 : run % 10 === 5 || run % 20 === 6 ? 40 : 5,
    );
    expect(departures(made.slice(FIRST), true).map((r) => r + FIRST)).toEqual([
      FIRST + 15,
      FIRST + 16 + 31,
      FIRST + 16 + 32 + 63,
    ]);
  });

  it("runs alone once the machine is busy and sharing has become slower", () => {
    // Quiet for 40 runs (sharing 5 ms, alone 8 ms), then busy (sharing 30 ms, alone 9 ms).
    const busyFrom = 40;
    const made = drive(new ShareChoice(), 400, (shared, run) =>
      run < busyFrom ? (shared ? 5 : 8) : shared ? 30 : 9,
    );
    const switched = made.indexOf(false, busyFrom);
    expect(switched - busyFrom).toBe(3); // the median of sharing's last 5 runs is slow after 3 slow runs
    // From then on alone. Sharing is tried 5 runs after the switch (its median was of the runs
    // that made it switch), then 16, 32, 64 and 128 runs after each try before: 5 slow runs in 360.
    expect(departures(made.slice(switched), false).map((r) => r + switched)).toEqual([
      switched + 4,
      switched + 4 + 16,
      switched + 4 + 16 + 32,
      switched + 4 + 16 + 32 + 64,
      switched + 4 + 16 + 32 + 64 + 128,
    ]);
  });

  it("does not stay on the slower way when noisy runs make the medians cross", () => {
    // Busy: sharing takes 30 ms; alone takes 9 ms, but three runs in every 40 take 50 ms, which
    // sends the step to share for a few runs each time.
    const made = drive(new ShareChoice(), 1200, (shared, run) => (shared ? 30 : run % 40 < 3 ? 50 : 9));
    const sharedRuns = made.slice(FIRST).filter((s) => s).length;
    // Each of the 30 crossings costs 5 shared runs, until running alone is tried again (and wins),
    // and one try of sharing 16 runs later. Left on sharing until the next try's wait was over, or
    // with that first wait of 16, the step would share hundreds of runs.
    expect(sharedRuns).toBeLessThanOrEqual(30 * 6);
  });

  it("shares again at the first try after the machine is quiet, and starts its waits over", () => {
    // Busy until run 300 (sharing 30 ms, alone 9 ms), then quiet (sharing 5 ms, alone 8 ms).
    const quietFrom = 300;
    const made = drive(new ShareChoice(), 900, (shared, run) =>
      run < quietFrom ? (shared ? 30 : 9) : shared ? 5 : 8,
    );
    const tries = departures(made.slice(0, quietFrom), false).filter((r) => r >= FIRST);
    const nextTry = tries[tries.length - 1] + 2 * (tries[tries.length - 1] - tries[tries.length - 2]);
    const back = made.indexOf(true, quietFrom);
    expect(back).toBe(nextTry); // the try that wins: one fresh time replaces the stale average
    expect(made.slice(back, back + 15).every((s) => s)).toBe(true);
    // Alone is tried again 16 runs later, not after the long wait of the busy stretch.
    expect(made[back + 16]).toBe(false);
  });

  it("chooses the slower way at most one run in 16, and at least once, whatever the steady times", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.1, max: 100, noNaN: true }),
        fc.double({ min: 0.1, max: 100, noNaN: true }),
        (shared, alone) => {
          fc.pre(shared !== alone);
          const made = drive(new ShareChoice(), FIRST + 512, (s) => (s ? shared : alone));
          const slower = made.slice(FIRST).filter((s) => s !== shared < alone).length;
          expect(slower).toBeLessThanOrEqual(Math.ceil(512 / 16));
          expect(slower).toBeGreaterThanOrEqual(1); // it does try
        },
      ),
    );
  });
});
