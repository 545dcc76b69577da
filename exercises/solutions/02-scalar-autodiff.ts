/** Reference solution of exercises/02-scalar-autodiff.ts. */
export class Value {
  data: number;
  grad = 0;
  private inputs: Value[] = [];
  /** Adds this Value's share of the gradient into its inputs' grads. */
  private backwardStep: () => void = () => {};

  constructor(data: number) {
    this.data = data;
  }

  private static lift(x: Value | number): Value {
    return x instanceof Value ? x : new Value(x);
  }

  private static made(data: number, inputs: Value[], step: (out: Value) => void): Value {
    const out = new Value(data);
    out.inputs = inputs;
    out.backwardStep = () => step(out);
    return out;
  }

  add(other: Value | number): Value {
    const o = Value.lift(other);
    return Value.made(this.data + o.data, [this, o], (out) => {
      this.grad += out.grad; // d(a+b)/da = 1
      o.grad += out.grad;
    });
  }

  mul(other: Value | number): Value {
    const o = Value.lift(other);
    return Value.made(this.data * o.data, [this, o], (out) => {
      this.grad += o.data * out.grad; // d(a·b)/da = b
      o.grad += this.data * out.grad;
    });
  }

  tanh(): Value {
    const t = Math.tanh(this.data);
    return Value.made(t, [this], (out) => {
      this.grad += (1 - t * t) * out.grad; // d tanh(a)/da = 1 − tanh²(a)
    });
  }

  backward(): void {
    // Depth-first, with an explicit stack: each Value after every Value it was computed from.
    const order: Value[] = [];
    const seen = new Set<Value>([this]);
    const stack: [Value, number][] = [[this, 0]];
    while (stack.length > 0) {
      const frame = stack[stack.length - 1];
      const [node, next] = frame;
      if (next < node.inputs.length) {
        frame[1]++;
        const input = node.inputs[next];
        if (!seen.has(input)) {
          seen.add(input);
          stack.push([input, 0]);
        }
      } else {
        stack.pop();
        order.push(node);
      }
    }
    this.grad = 1;
    for (const node of order.reverse()) node.backwardStep();
  }
}
