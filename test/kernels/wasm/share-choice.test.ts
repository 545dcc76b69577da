/**
 * The choice between sharing a compiled step's jobs with the workers and running them alone
 * (share-choice.ts), driven by made-up run times: it follows the faster way, tries the slower one
 * after 16 runs, waits twice as long after each try that loses (up to 256 runs), and starts over
 * when the faster way changes.
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

/** The runs (0-based) at which the choice differs from `usual`. */
const departures = (made: boolean[], usual: boolean) =>
  made.flatMap((shared, run) => (shared === usual ? [] : [run]));

describe("ShareChoice", () => {
  it("runs each way once, sharing first", () => {
    expect(drive(new ShareChoice(), 2, () => 1)).toEqual([true, false]);
  });

  it("keeps to the faster way, trying the slower after 16, 32, 64, 128, then every 256 runs", () => {
    const made = drive(new ShareChoice(), 2 + 16 + 32 + 64 + 128 + 256 + 256, (shared) => (shared ? 5 : 8));
    // Run 1 is the first alone; each try comes after the wait, counted from the try before.
    expect(departures(made.slice(2), true).map((r) => r + 2)).toEqual([
      2 + 15,
      2 + 16 + 31,
      2 + 16 + 32 + 63,
      2 + 16 + 32 + 64 + 127,
      2 + 16 + 32 + 64 + 128 + 255,
      2 + 16 + 32 + 64 + 128 + 256 + 255,
    ]);
  });

  it("runs alone once the machine is busy and sharing has become slower", () => {
    // Quiet for 40 runs (sharing 5 ms, alone 8 ms), then busy (sharing 30 ms, alone 9 ms).
    const busyFrom = 40;
    const made = drive(new ShareChoice(), 400, (shared, run) =>
      run < busyFrom ? (shared ? 5 : 8) : shared ? 30 : 9,
    );
    const switched = made.indexOf(false, busyFrom);
    expect(switched - busyFrom).toBeLessThanOrEqual(2); // the running average crosses 9 ms at once
    // From then on alone, trying to share after 16, 32, 64, 128 runs: 4 slow runs in 360.
    expect(departures(made.slice(switched), false).map((r) => r + switched)).toEqual([
      switched + 15,
      switched + 16 + 31,
      switched + 16 + 32 + 63,
      switched + 16 + 32 + 64 + 127,
    ]);
  });

  it("shares again at the first try after the machine is quiet, and starts its waits over", () => {
    // Busy until run 300 (sharing 30 ms, alone 9 ms), then quiet (sharing 5 ms, alone 8 ms).
    const quietFrom = 300;
    const made = drive(new ShareChoice(), 900, (shared, run) =>
      run < quietFrom ? (shared ? 30 : 9) : shared ? 5 : 8,
    );
    const tries = departures(made.slice(0, quietFrom), false).filter((r) => r >= 2);
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
          const made = drive(new ShareChoice(), 2 + 512, (s) => (s ? shared : alone));
          const slower = made.slice(2).filter((s) => s !== shared < alone).length;
          expect(slower).toBeLessThanOrEqual(Math.ceil(512 / 16));
          expect(slower).toBeGreaterThanOrEqual(1); // it does try
        },
      ),
    );
  });
});
