/**
 * The negative ELBO: the Gaussian KL against its closed form, and BCE + KL with gradients against
 * finite differences.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { gaussianKl, negativeElbo } from "../../src/vae/elbo.ts";
import { valuesArb } from "../fixtures/arbitraries.ts";
import { expectGradOk } from "../fixtures/assertions.ts";
import { f64 } from "../fixtures/tensors.ts";

describe("the negative ELBO", () => {
  it("KL(N(μ, σ²) ‖ N(0, 1)) matches the closed form ½(σ² + μ² − 1 − ln σ²) and is 0 at the prior", () => {
    const mu = [0.5, -1, 0];
    const lv = [0.2, -0.7, 0];
    const expected = mu.reduce((s, m, i) => s + 0.5 * (Math.exp(lv[i]) + m * m - 1 - lv[i]), 0);
    expect(gaussianKl(f64(mu, [1, 3]), f64(lv, [1, 3])).item()).toBeCloseTo(expected, 12);
    expect(Math.abs(gaussianKl(f64([0, 0], [1, 2]), f64([0, 0], [1, 2])).item())).toBe(0);
  });

  it("loss = BCE + KL, and its gradient in logits, μ and logvar matches finite differences", () => {
    fc.assert(
      fc.property(valuesArb(8, -3, 3), valuesArb(8, 0, 1), valuesArb(4), valuesArb(4), (l, x, m, lv) => {
        const target = f64(x, [2, 4]);
        const terms = negativeElbo(f64(l, [2, 4]), target, f64(m, [2, 2]), f64(lv, [2, 2]));
        expect(terms.loss.item()).toBeCloseTo(terms.bce.item() + terms.kl.item(), 10);
        expectGradOk(
          (a, b, c) => negativeElbo(a, target, b, c).loss,
          [f64(l, [2, 4]), f64(m, [2, 2]), f64(lv, [2, 2])],
        );
      }),
      { numRuns: 25 },
    );
  });
});
