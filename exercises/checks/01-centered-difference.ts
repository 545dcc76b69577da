import { expectClose, exported } from "./assertions.ts";
import { type Exercise, Failure } from "./verdict.ts";

type Centered = (f: (x: number) => number, x: number, h: number) => number;

export const exercise: Exercise = {
  id: "01-centered-difference",
  chapter: 1,
  title: "The centered difference",
  teaches: "why looking both ways makes a finite difference's error fall like h² instead of h",
  checks: [
    {
      name: "exact for a quadratic (up to rounding)",
      hint: "(f(x + h) − f(x − h)) / 2h: the h² terms of f(x + h) and f(x − h) cancel",
      run: (student) => {
        const centered = exported<Centered>(student, "centeredDifference");
        const f = (x: number) => 3 * x * x - x + 2; // f'(x) = 6x − 1
        expectClose(centered(f, 1.3, 1e-3), 6 * 1.3 - 1, "the derivative of 3x² − x + 2 at 1.3", {
          atol: 1e-9,
        });
      },
    },
    {
      name: "its error on x³ falls a hundredfold when h falls tenfold",
      hint: "a forward difference (f(x + h) − f(x)) / h loses only a factor of ten: divide by 2h and step both ways",
      run: (student) => {
        const centered = exported<Centered>(student, "centeredDifference");
        const f = (x: number) => x * x * x;
        const exact = 3 * 0.7 ** 2;
        const [coarse, fine] = [1e-2, 1e-3].map((h) => Math.abs(centered(f, 0.7, h) - exact));
        const ratio = coarse / fine;
        if (!(ratio > 90 && ratio < 110)) {
          throw new Failure(
            `error ${coarse.toExponential(2)} at h = 1e-2 and ${fine.toExponential(2)} at h = 1e-3: a ratio of ${ratio.toFixed(1)}, expected about 100`,
          );
        }
        return `error ${coarse.toExponential(2)} at h = 1e-2, ${fine.toExponential(2)} at h = 1e-3`;
      },
    },
    {
      name: "calls f at x + h and x − h only",
      hint: "two evaluations of f, one on each side of x",
      run: (student) => {
        const centered = exported<Centered>(student, "centeredDifference");
        const seen: number[] = [];
        centered(
          (x) => {
            seen.push(x);
            return x;
          },
          2,
          0.5,
        );
        const sorted = [...seen].sort((a, b) => a - b);
        if (sorted.length !== 2 || sorted[0] !== 1.5 || sorted[1] !== 2.5) {
          throw new Failure(`f was called at ${JSON.stringify(seen)}; expected 2.5 and 1.5`);
        }
      },
    },
  ],
};
