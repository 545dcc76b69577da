import { describe, expect, it } from "vitest";
import { defineOp, evaluate, namesIn, parseExpression, parseTensors } from "../../lab/expression.ts";
import { tensor } from "../../src/autograd/create.ts";
import { gradcheck } from "../../src/autograd/gradcheck.ts";
import type { Tensor } from "../../src/autograd/tensor.ts";

const tensors = () => parseTensors("a = [[0.5, -1.2], [2.0, 0.3]]\nb = [[1.5], [-0.7]]");
const square = () =>
  new Map([["square", defineOp("square", parseExpression("x * x"), parseExpression("2 * x * g"))]]);
const brokenSquare = () =>
  new Map([["square", defineOp("square", parseExpression("x * x"), parseExpression("x * g"))]]);

function run(source: string, ops = square()): Tensor {
  const out = evaluate(parseExpression(source), { tensors: tensors(), ops });
  if (typeof out === "number") throw new Error("number");
  return out;
}

describe("the op explorer's expressions", () => {
  it("follow precedence: * before +, unary minus, ^ with a number, parentheses", () => {
    const t = tensors();
    const a = t.get("a")!.dataSync();
    const out = run("-a * 2 + a ^ 2 / (1 + 1)").dataSync();
    Array.from(a).forEach((v, i) => expect(out[i]).toBeCloseTo(-v * 2 + (v * v) / 2, 12));
  });

  it("call elbo's ops by name and compute what they compute", () => {
    const out = run("sum(sigmoid(matmul(a, b)))").item();
    const z = [0.5 * 1.5 + -1.2 * -0.7, 2.0 * 1.5 + 0.3 * -0.7];
    expect(out).toBeCloseTo(
      z.reduce((s, v) => s + 1 / (1 + Math.exp(-v)), 0),
      12,
    );
  });

  it("list the names they read", () => {
    expect(namesIn(parseExpression("sum(a * b) + a"))).toEqual(["a", "b"]);
  });

  it("say what is wrong with a bad expression, and where", () => {
    expect(() => parseExpression("a + * b")).toThrow(/unexpected "\*" at character 5/);
    expect(() => parseExpression("sum(a")).toThrow(/expected "\)" at the end/);
    expect(() => parseExpression("a $ b")).toThrow(/cannot read "\$ b" at character 3/);
    expect(() => run("foo(a)")).toThrow(/unknown function "foo": use one of add, .*square/);
    expect(() => run("c * 2")).toThrow(/no tensor named "c" \(defined: a, b\)/);
    expect(() => run("matmul(a)")).toThrow(/matmul: takes 2 arguments, got 1/);
    expect(() => run("pow(a, b)")).toThrow(/pow: its second argument must be a number, got "b"/);
    expect(() => parseTensors("a = [1, 2")).toThrow(/tensors, line 1: "\[1, 2" is not a number/);
  });

  it("a custom op's forward is its forward expression; its backward is the one given", () => {
    const x = tensor([[1.5, -2]], { dtype: "float64", requiresGrad: true });
    const out = square().get("square")!(x);
    expect(Array.from(out.dataSync())).toEqual([2.25, 4]);
    out.sum().backward();
    expect(Array.from(x.grad!.dataSync())).toEqual([3, -4]);
  });

  it("gradcheck passes the correct custom op and catches the broken one", () => {
    const check = (ops: ReturnType<typeof square>) => {
      const expr = parseExpression("sum(sigmoid(matmul(a, b)) * square(b))");
      const t = tensors();
      return gradcheck(
        (a, b) =>
          evaluate(expr, {
            tensors: new Map([
              ["a", a],
              ["b", b],
            ]),
            ops,
          }) as Tensor,
        [t.get("a")!, t.get("b")!],
      );
    };
    expect(check(square()).passed).toBe(true);
    const broken = check(brokenSquare());
    expect(broken.passed).toBe(false);
    // Only b goes through the custom op: a's gradient is still right.
    expect(broken.inputs.map((r) => r.passed)).toEqual([true, false]);
    expect(broken.message).toMatch(/input 1 \(shape \[2, 1\]\)/);
  });
});
