import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ReLU, Sigmoid } from "../../src/nn/activations.ts";
import { valuesArb } from "../fixtures/arbitraries.ts";
import { expectGradOk } from "../fixtures/assertions.ts";
import { f64 } from "../fixtures/tensors.ts";

describe("activations", () => {
  it("ReLU and Sigmoid modules apply their ops and pass gradients", () => {
    fc.assert(
      fc.property(valuesArb(6), (v) => {
        const x = f64(v, [2, 3]);
        expect(new ReLU().forward(x).toArray()).toEqual(x.relu().toArray());
        expectGradOk((t) => new Sigmoid().forward(t), [x]);
      }),
      { numRuns: 20 },
    );
  });
});
