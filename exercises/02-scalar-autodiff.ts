/**
 * Exercise 02-scalar-autodiff (chapter 2: the chain rule on a graph).
 *
 * Reverse-mode autodiff from nothing, on scalars, as in micrograd. A Value holds a number (`data`),
 * the gradient of the final result with respect to it (`grad`, 0 until backward runs), and enough
 * of its history to pass a gradient back:
 *
 *   const a = new Value(2), b = new Value(-3);
 *   const c = a.mul(b).add(1).tanh();   // numbers are lifted to Values
 *   c.backward();                       // fills a.grad and b.grad
 *
 * - add, mul and tanh each return a new Value that remembers its inputs and how to send a gradient
 *   to them (d(a+b)/da = 1, d(a·b)/da = b, d tanh(a)/da = 1 − tanh²(a));
 * - backward() sets this.grad = 1, orders every Value it depends on so that each comes after all
 *   the Values that use it (a topological order, reversed), and walks that order, each Value adding
 *   its share into its inputs' grads. Adding, not assigning: a Value used twice gets both shares.
 *
 * The grader builds random expressions with your Value and with elbo's tensors and compares every
 * gradient.
 *
 * Grade it: npm run exercise -- 02-scalar-autodiff
 */
export class Value {
  data: number;
  grad = 0;

  constructor(data: number) {
    this.data = data;
  }

  add(other: Value | number): Value {
    throw new Error("not written yet");
  }

  mul(other: Value | number): Value {
    throw new Error("not written yet");
  }

  tanh(): Value {
    throw new Error("not written yet");
  }

  backward(): void {
    throw new Error("not written yet");
  }
}
