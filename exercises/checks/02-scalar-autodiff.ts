import { tensor } from "../../src/index.ts";
import { expectClose, exported, holds } from "./assertions.ts";
import { evaluate, expressionArb, tensorArithmetic } from "./expressions.ts";
import { type Exercise, Failure, type StudentModule } from "./verdict.ts";

interface Value {
  data: number;
  grad: number;
  add(other: Value | number): Value;
  mul(other: Value | number): Value;
  tanh(): Value;
  backward(): void;
}
type ValueClass = new (data: number) => Value;

const valueClass = (student: StudentModule) => exported<ValueClass>(student, "Value");

export const exercise: Exercise = {
  id: "02-scalar-autodiff",
  chapter: 2,
  title: "Scalar autodiff from nothing",
  teaches:
    "the whole of reverse mode on one page: local derivatives, a topological order, and adding up the gradients of a value used twice",
  checks: [
    {
      name: "forward values: add, mul and tanh, with numbers lifted",
      hint: "each op returns a new Value whose data is the result; a number operand becomes a Value",
      run: (student) => {
        const V = valueClass(student);
        const a = new V(2);
        expectClose(a.add(3).data, 5, "Value(2).add(3).data");
        expectClose(a.mul(new V(-4)).data, -8, "Value(2).mul(Value(-4)).data");
        expectClose(a.tanh().data, Math.tanh(2), "Value(2).tanh().data");
      },
    },
    {
      name: "micrograd's neuron, tanh(x1·w1 + x2·w2 + b)",
      hint: "d(a·b)/da = b, d(a+b)/da = 1, d tanh(a)/da = 1 − tanh²(a); start backward with grad 1",
      run: (student) => {
        const V = valueClass(student);
        const [x1, x2, w1, w2, b] = [2, 0, -3, 1, 6.881373587019543].map((v) => new V(v));
        const o = x1.mul(w1).add(x2.mul(w2)).add(b).tanh();
        o.backward();
        expectClose(o.data, Math.SQRT1_2, "o", { atol: 1e-12 });
        expectClose(
          [x1.grad, w1.grad, x2.grad, w2.grad, b.grad],
          [-1.5, 1, 0.5, 0, 0.5],
          "[x1, w1, x2, w2, b].grad",
          {
            atol: 1e-9,
          },
        );
      },
    },
    {
      name: "a value used twice: L = a·a + a",
      hint: "add into .grad (+=), never assign: a reaches L by three paths and gets the sum, 2a + 1",
      run: (student) => {
        const V = valueClass(student);
        const a = new V(3);
        a.mul(a).add(a).backward();
        if (a.grad !== 7) throw new Failure(`a.grad is ${a.grad}, expected 2a + 1 = 7`);
      },
    },
    {
      name: "random expressions with shared nodes: every gradient equals elbo's",
      hint: "visit each Value once, after all the Values that use it (reverse topological order), and accumulate",
      run: (student) => {
        const V = valueClass(student);
        holds(expressionArb(), (e) => {
          const values = e.leaves.map((v) => new V(v));
          const out = evaluate(e, values, {
            add: (a, b) => a.add(b),
            mul: (a, b) => a.mul(b),
            tanh: (a) => a.tanh(),
            addConstant: (a, c) => a.add(c),
            mulConstant: (a, c) => a.mul(c),
          }).at(-1)!;
          const leaves = e.leaves.map((v) => tensor(v, { dtype: "float64", requiresGrad: true }));
          const reference = evaluate(e, leaves, tensorArithmetic).at(-1)!;
          if (reference.requiresGrad) reference.backward();
          out.backward();
          expectClose(out.data, reference.item(), "the result", { atol: 1e-12, rtol: 1e-12 });
          expectClose(
            values.map((v) => v.grad),
            leaves.map((t) => t.grad?.item() ?? 0),
            "the leaves' gradients",
            { atol: 1e-10, rtol: 1e-9 },
          );
        });
      },
    },
  ],
};
