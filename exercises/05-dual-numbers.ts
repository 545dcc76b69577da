/**
 * Exercise 05-dual-numbers (chapter 5: Jacobians and the two modes).
 *
 * Forward mode from nothing. A dual number carries a value and its derivative along one direction
 * (the tangent), and every operation updates both at once:
 *
 *   (a, a′) + (b, b′) = (a + b, a′ + b′)
 *   (a, a′) · (b, b′) = (a·b, a′·b + a·b′)          the product rule
 *   exp(a, a′)        = (eᵃ, eᵃ·a′)                 the chain rule
 *   tanh(a, a′)       = (tanh a, (1 − tanh² a)·a′)
 *
 * A plain number operand is a constant: tangent 0. derivative(f, x) seeds x with tangent 1, runs f
 * once and reads the tangent that comes out: f′(x), with no graph and no backward pass.
 *
 * Grade it: npm run exercise -- 05-dual-numbers
 */
export class Dual {
  constructor(
    readonly value: number,
    readonly tangent: number,
  ) {}

  add(other: Dual | number): Dual {
    throw new Error("not written yet");
  }

  mul(other: Dual | number): Dual {
    throw new Error("not written yet");
  }

  exp(): Dual {
    throw new Error("not written yet");
  }

  tanh(): Dual {
    throw new Error("not written yet");
  }
}

export function derivative(f: (x: Dual) => Dual, x: number): number {
  throw new Error("not written yet");
}
