/**
 * The choice between sharing a compiled step's jobs with the workers and running them alone
 * (share-choice.ts), driven by made-up run times: after 10 uncounted warm-up runs it follows the
 * way whose recent runs were faster, judging the other by tries of 3 runs in a row (their median)
 * after waits of 16, 32, … 256 runs, at once when the way in use becomes slower than the other was,
 * and again right after a switch.
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

/** The runs before the first try: 10 of warm-up, then 5 counted. */
const FIRST = 15;
const TRY = 3;

/** The runs (0-based) at which the choice differs from `usual`. */
const departures = (made: boolean[], usual: boolean) =>
  made.flatMap((shared, run) => (shared === usual ? [] : [run]));

/** The runs of tries that lose, the first starting at `start`, each after the wait before it. */
function losingTries(start: number, waits: readonly number[]): number[] {
  const runs: number[] = [];
  let at = start;
  for (const wait of [0, ...waits]) {
    at += wait;
    runs.push(at, at + 1, at + 2);
    at += TRY;
  }
  return runs;
}

describe("ShareChoice", () => {
  it("shares its first 15 runs (10 of warm-up, not counted), then tries alone for 3 runs", () => {
    expect(drive(new ShareChoice(), FIRST + TRY + 1, () => 1)).toEqual([
      ...Array(FIRST).fill(true),
      ...Array(TRY).fill(false),
      true, // alone was not faster
    ]);
  });

  it("is not decided by its warm-up, however slow (the engine compiling, the workers joining)", () => {
    // The first 10 runs take 50 ms, shared or not; then sharing takes 5 ms and alone 8 ms. Counted,
    // they would make alone's try win.
    const made = drive(new ShareChoice(), FIRST + TRY + 16, (shared, run) =>
      run < 10 ? 50 : shared ? 5 : 8,
    );
    expect(made.slice(FIRST + TRY)).toEqual(Array(16).fill(true));
  });

  it("keeps to the faster way, trying the slower for 3 runs after 16, 32, 64, 128, then every 256 runs", () => {
    const made = drive(new ShareChoice(), 800, (shared) => (shared ? 5 : 8));
    expect(departures(made, true)).toEqual(losingTries(FIRST, [16, 32, 64, 128, 256, 256]));
  });

  it("follows the faster way whatever the noise, when the two ways' times never overlap", () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.array(fc.double({ min: 0.85, max: 1.15, noNaN: true }), { minLength: 600, maxLength: 600 }),
        (sharingFaster, jitter) => {
          // The faster way takes 3.4–4.6 ms, the slower 5.1–6.9 (and every warm-up run 40 more).
          const made = drive(
            new ShareChoice(),
            600,
            (shared, run) => (shared === sharingFaster ? 4 : 6) * jitter[run] + (run < 10 ? 40 : 0),
          );
          const waits = [16, 32, 64, 128, 256];
          const expected = sharingFaster
            ? losingTries(FIRST, waits)
            : // Alone's first try wins; sharing is tried again at once (checking the switch), and loses.
              [...Array.from({ length: FIRST }, (_, r) => r), ...losingTries(FIRST + TRY, waits)];
          expect(departures(made, sharingFaster)).toEqual(expected.filter((r) => r < 600));
        },
      ),
      { numRuns: 50 },
    );
  });

  it("judges a try by the median of its 3 runs: one odd run neither wins nor loses it", () => {
    // Alone takes 4 ms and sharing 6, but alone's first run is interrupted (30 ms): alone's first
    // try still wins, and sharing's check of it loses.
    const slowFirst = drive(new ShareChoice(), 60, (shared, run) => (shared ? 6 : run === FIRST ? 30 : 4));
    expect(departures(slowFirst, false)).toEqual([
      ...Array.from({ length: FIRST }, (_, r) => r),
      ...losingTries(FIRST + TRY, [16]),
    ]);
    // Sharing takes 5 ms and alone 8, but alone's first run is lucky (1 ms): its try still loses.
    const fastFirst = drive(new ShareChoice(), 60, (shared, run) => (shared ? 5 : run === FIRST ? 1 : 8));
    expect(departures(fastFirst, true)).toEqual(losingTries(FIRST, [16]));
  });

  it("keeps sharing through runs the operating system interrupted, one or two at a time", () => {
    // Sharing takes 5 ms, but runs 5, 6, 15, 25, 26, 35, … take 40 ms; alone takes 8 ms.
    const made = drive(new ShareChoice(), 300, (shared, run) =>
      !shared ? 8 : run % 10 === 5 || run % 20 === 6 ? 40 : 5,
    );
    expect(departures(made, true)).toEqual(losingTries(FIRST, [16, 32, 64, 128]));
  });

  it("runs alone once the machine is busy and sharing has become slower", () => {
    // Quiet for 40 runs (sharing 5 ms, alone 8 ms), then busy (sharing 30 ms, alone 9 ms).
    const busyFrom = 40;
    const made = drive(new ShareChoice(), 500, (shared, run) =>
      run < busyFrom ? (shared ? 5 : 8) : shared ? 30 : 9,
    );
    const switched = made.indexOf(false, busyFrom);
    // The median of sharing's last 5 runs is slower than alone's last try after 3 slow runs;
    // alone's try then wins.
    expect(switched - busyFrom).toBe(3);
    // From then on alone. Sharing is tried right after the switch (the check), then 16, 32, 64
    // and 128 runs after each try before.
    expect(departures(made.slice(switched), false).map((r) => r + switched)).toEqual(
      losingTries(switched + TRY, [16, 32, 64, 128]),
    );
  });

  it("does not stay on the slower way when noisy runs make the medians cross", () => {
    // Busy: sharing takes 30 ms; alone takes 9 ms, but three runs in every 40 take 50 ms, which
    // sends the step to share for a few runs each time.
    const made = drive(new ShareChoice(), 1200, (shared, run) => (shared ? 30 : run % 40 < 3 ? 50 : 9));
    const sharedRuns = made.slice(FIRST + TRY).filter((s) => s).length;
    // Each of the 29 crossings after the start costs one try of sharing, which wins against
    // alone's slow median, and alone's check right after undoes it: 3 shared runs. Then there are
    // the check at the start and the tries after the waits. (The choice before this one, which
    // switched on the medians alone and tried the other way for one run, shared 146 runs here.)
    expect(sharedRuns).toBeLessThanOrEqual(31 * TRY);
  });

  it("shares again at the first try after the machine is quiet", () => {
    // Busy until run 300 (sharing 30 ms, alone 9 ms), then quiet (sharing 5 ms, alone 8 ms).
    const quietFrom = 300;
    const made = drive(new ShareChoice(), 900, (shared, run) =>
      run < quietFrom ? (shared ? 30 : 9) : shared ? 5 : 8,
    );
    const tries = departures(made.slice(0, quietFrom), false).filter((r) => r >= FIRST + TRY);
    // Tries of sharing start at the first of 3 runs; the waits double.
    const starts = tries.filter((r, i) => i === 0 || tries[i - 1] !== r - 1);
    const [before, last] = starts.slice(-2);
    const nextTry = last + TRY + 2 * (last - before - TRY);
    const back = made.indexOf(true, quietFrom);
    expect(back).toBe(nextTry);
    // Alone is tried once more right after (the check), and loses; then after 16, 32, … runs.
    expect(departures(made.slice(back), true).map((r) => r + back)).toEqual(
      losingTries(back + TRY, [16, 32, 64, 128, 256]).filter((r) => r < 900),
    );
  });
});
