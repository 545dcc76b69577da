/** Planted wrong answer: each backward step assigns its share instead of adding it. */
export class Value {
  data: number;
  grad = 0;
  private inputs: Value[] = [];
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
      this.grad = out.grad;
      o.grad = out.grad;
    });
  }

  mul(other: Value | number): Value {
    const o = Value.lift(other);
    return Value.made(this.data * o.data, [this, o], (out) => {
      this.grad = o.data * out.grad;
      o.grad = this.data * out.grad;
    });
  }

  tanh(): Value {
    const t = Math.tanh(this.data);
    return Value.made(t, [this], (out) => {
      this.grad = (1 - t * t) * out.grad;
    });
  }

  backward(): void {
    const order: Value[] = [];
    const seen = new Set<Value>();
    const visit = (v: Value) => {
      if (seen.has(v)) return;
      seen.add(v);
      for (const input of v.inputs) visit(input);
      order.push(v);
    };
    visit(this);
    this.grad = 1;
    for (const node of order.reverse()) node.backwardStep();
  }
}
