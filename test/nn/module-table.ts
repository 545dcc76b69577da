/**
 * Every nn module in one table, each with its formula written here on plain float64 numbers,
 * sharing no code with the library: the layers (Linear, ReLU, Sigmoid) by what they compute from
 * their input and parameters, the optimizers (SGD, Adam) by one step of their update rule. The
 * losses are ops, with their formulas in the op table (test/autograd/op-table.ts), where they are
 * checked by value and by gradcheck like every op; `losses` names them so a test can hold the two
 * tables together. module-table.test.ts runs the checks.
 */
import fc from "fast-check";
import { Generator } from "../../src/autograd/random.ts";
import type { Tensor } from "../../src/autograd/tensor.ts";
import { ReLU, Sigmoid } from "../../src/nn/activations.ts";
import { Linear } from "../../src/nn/linear.ts";
import type { Module } from "../../src/nn/module.ts";
import { Adam } from "../../src/nn/optim/adam.ts";
import type { Optimizer } from "../../src/nn/optim/optimizer.ts";
import { SGD } from "../../src/nn/optim/sgd.ts";
import { awayFromZeroArb, tensorArb } from "../fixtures/arbitraries.ts";

/** A layer: a float64 module with parameters drawn from a seed, an input batch, and the formula. */
export interface LayerEntry {
  name: string;
  /** A module and an input [batch, features] it accepts. */
  domain: fc.Arbitrary<{ module: Module & { forward(x: Tensor): Tensor }; x: Tensor }>;
  /** Row r of the output from row r of x and the module's parameters (by name), on plain numbers. */
  reference(x: number[][], parameters: Record<string, number[]>): number[][];
}

/** An optimizer: one step of its update rule on one parameter's numbers, and the options it is made with. */
export interface OptimizerEntry<O> {
  name: string;
  make(params: Tensor[], options: O): Optimizer;
  options: fc.Arbitrary<O>;
  /** One step at step number t (from 1): the parameter's new values; `state` holds the buffers between steps. */
  step(p: number[], g: number[], state: Record<string, number[]>, options: O, t: number): number[];
}

const seedArb = fc.integer({ min: 0, max: 2 ** 31 - 1 });
const dims = fc.tuple(
  fc.integer({ min: 1, max: 4 }),
  fc.integer({ min: 1, max: 5 }),
  fc.integer({ min: 1, max: 4 }),
);

/** An activation module applied to a batch of any width, at values away from relu's kink at 0. */
function activation(
  name: string,
  make: () => Module & { forward(x: Tensor): Tensor },
  at: (v: number) => number,
) {
  return {
    name,
    domain: fc
      .tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 5 }))
      .chain(([batch, features]) => tensorArb([batch, features], (n) => awayFromZeroArb(n, 0.1, 4)))
      .map((x) => ({ module: make(), x })),
    reference: (x: number[][]) => x.map((row) => row.map(at)),
  } satisfies LayerEntry;
}

export const layers: readonly LayerEntry[] = [
  {
    name: "Linear",
    domain: fc.tuple(dims, fc.boolean(), seedArb).chain(([[batch, inF, outF], bias, seed]) =>
      tensorArb([batch, inF]).map((x) => ({
        module: new Linear(inF, outF, { bias, dtype: "float64", generator: new Generator(seed) }),
        x,
      })),
    ),
    // y[r][o] = Σᵢ x[r][i]·W[o][i] + b[o], W stored out×in.
    reference: (x, { weight, bias }) => {
      const inF = x[0].length;
      const outF = weight.length / inF;
      return x.map((row) =>
        Array.from(
          { length: outF },
          (_, o) =>
            row.reduce((s, v, i) => s + v * weight[o * inF + i], 0) + (bias === undefined ? 0 : bias[o]),
        ),
      );
    },
  },
  activation(
    "ReLU",
    () => new ReLU(),
    (v) => Math.max(v, 0),
  ),
  activation(
    "Sigmoid",
    () => new Sigmoid(),
    (v) => 1 / (1 + Math.exp(-v)),
  ),
];

export interface SGDEntryOptions {
  lr: number;
  momentum: number;
  weightDecay: number;
}
export interface AdamEntryOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
}

/** Zero half the time: the paths without momentum or decay are their own code. */
const orZero = (arb: fc.Arbitrary<number>) => fc.oneof(fc.constant(0), arb);

const sgd: OptimizerEntry<SGDEntryOptions> = {
  name: "SGD",
  make: (params, options) => new SGD(params, options),
  options: fc.record({
    lr: fc.double({ min: 0, max: 0.5, noNaN: true }),
    momentum: orZero(fc.double({ min: 0.01, max: 0.99, noNaN: true })),
    weightDecay: orZero(fc.double({ min: 0.001, max: 0.1, noNaN: true })),
  }),
  // d = g + λp;  b ← μb + d (b = d on the first step);  p ← p − lr·(b, or d without momentum)
  step: (p, g, state, { lr, momentum, weightDecay }) => {
    const d = g.map((gi, i) => gi + weightDecay * p[i]);
    if (momentum !== 0) state.b = (state.b ?? d.map(() => 0)).map((b, i) => momentum * b + d[i]);
    const direction = momentum !== 0 ? state.b : d;
    return p.map((pi, i) => pi - lr * direction[i]);
  },
};

const adam: OptimizerEntry<AdamEntryOptions> = {
  name: "Adam",
  make: (params, options) => new Adam(params, options),
  options: fc.record({
    lr: orZero(fc.double({ min: 1e-4, max: 0.5, noNaN: true })),
    betas: fc.tuple(
      fc.double({ min: 0, max: 0.99, noNaN: true }),
      fc.double({ min: 0, max: 0.999, noNaN: true }),
    ),
    eps: fc.double({ min: 1e-8, max: 1e-2, noNaN: true }),
    weightDecay: orZero(fc.double({ min: 0.001, max: 0.1, noNaN: true })),
  }),
  // g' = g + λp;  m ← β₁m + (1 − β₁)g';  v ← β₂v + (1 − β₂)g'²;  p ← p − lr·m̂/(√v̂ + ε), m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ)
  step: (p, g, state, { lr, betas: [b1, b2], eps, weightDecay }, t) => {
    const gd = g.map((gi, i) => gi + weightDecay * p[i]);
    state.m = (state.m ?? gd.map(() => 0)).map((m, i) => b1 * m + (1 - b1) * gd[i]);
    state.v = (state.v ?? gd.map(() => 0)).map((v, i) => b2 * v + (1 - b2) * gd[i] * gd[i]);
    // In the order Backend.adamUpdate defines (PyTorch's): m / (√(v / (1 − β₂ᵗ)) + ε) · (lr / (1 − β₁ᵗ)).
    // Written as lr·m̂ / (√v̂ + ε) the rounding differs by some 1e-10 of the step where v̂ ≈ ε², as
    // fast-check found (β = [0, 0], a gradient that falls to zero).
    return p.map(
      (pi, i) => pi - (state.m[i] / (Math.sqrt(state.v[i] / (1 - b2 ** t)) + eps)) * (lr / (1 - b1 ** t)),
    );
  },
};

export const optimizers: readonly OptimizerEntry<unknown>[] = [
  sgd as OptimizerEntry<unknown>,
  adam as OptimizerEntry<unknown>,
];

/** The losses: ops, checked against their formulas by value in the op table. */
export const losses: readonly string[] = [
  "binaryCrossEntropy",
  "binaryCrossEntropyWithLogits",
  "crossEntropy",
];
