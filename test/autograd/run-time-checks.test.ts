/**
 * What the types promise, checked at run time for JavaScript callers, who have no types to stop
 * them: each call below used to give a wrong value (NaN, a silent float32), a bare TypeError or
 * RangeError from deep inside, or a message naming the wrong op. Each is now refused, or works,
 * with a message naming the function and what it got.
 */
import { describe, expect, it } from "vitest";
import { full, ones, rand, randn, tensor, zeros } from "../../src/autograd/create.ts";
import { releaseGraph } from "../../src/autograd/engine.ts";
import { applyOp } from "../../src/autograd/op.ts";
import { equal, greater, greaterEqual, less, lessEqual, notEqual } from "../../src/autograd/ops/compare.ts";
import { add, cast, mul, pow } from "../../src/autograd/ops/elementwise.ts";
import { gather, scatterAdd } from "../../src/autograd/ops/gather.ts";
import { logsumexp } from "../../src/autograd/ops/reduce.ts";
import { Generator } from "../../src/autograd/random.ts";
import { scoped, valuesOf } from "../../src/autograd/scope.ts";
import { fromTypedArray, type Tensor } from "../../src/autograd/tensor.ts";
import { grad, jvp, valueAndGrad, vjp } from "../../src/autograd/transforms.ts";

/** Call `f` as JavaScript would, past the types. */
const js = <T>(f: T) => f as unknown as (...args: unknown[]) => Tensor;

describe("shapes and dtypes", () => {
  it("randn([1e6, 1e6]) and every maker names the shape it cannot hold (it used to be a bare 'Invalid typed array length')", () => {
    for (const [name, make] of [
      ["randn", () => randn([1e6, 1e6])],
      ["rand", () => rand([1e6, 1e6])],
      ["full", () => full([1e6, 1e6], 1)],
      ["full", () => zeros([1e6, 1e6])],
      ["full", () => ones([2 ** 16, 2 ** 16, 2])],
    ] as const) {
      expect(make, name).toThrow(
        new RegExp(
          `^${name}: shape \\[\\d+, \\d+(, 2)?\\] holds \\d+ numbers, more than the 4294967296 one tensor can hold$`,
        ),
      );
    }
    // An op whose output would be that large says which op, and why.
    expect(() => zeros([1]).broadcastTo([1e6, 1e6])).toThrow(
      "broadcastTo: a tensor of 1000000000000 numbers is more than the 4294967296 one array can hold",
    );
    expect(() => zeros([100_000, 1]).matmul(zeros([1, 100_000]))).toThrow(
      /^matmul: a tensor of 10000000000 numbers is more than/,
    );
  });

  it("an unknown dtype is refused, not made float32 silently", () => {
    expect(() => zeros([2], { dtype: "float16" as never })).toThrow(
      'full: dtype must be "float32" or "float64", got "float16"',
    );
    expect(() => randn([2], { dtype: "int8" as never })).toThrow(
      'randn: dtype must be "float32" or "float64"',
    );
    expect(() => tensor([1, 2], { dtype: "float16" as never })).toThrow(
      'tensor: dtype must be "float32" or "float64"',
    );
    expect(() => cast(zeros([1]), "float16" as never)).toThrow(
      'cast: dtype must be "float32" or "float64", got "float16"',
    );
    expect(() => fromTypedArray(new Int32Array([1, 2]) as never, [2])).toThrow(
      "tensor: the data must be a Float32Array or a Float64Array, got a Int32Array",
    );
    expect(() => js(full)([1], "x")).toThrow('full: the value must be a number, got a string ("x")');
  });
});

describe("operands", () => {
  it("x.pow(tensor) from JavaScript is refused (it gave NaN gradients and none for the exponent)", () => {
    const x = tensor([2], { requiresGrad: true });
    expect(() => js(x.pow.bind(x))(tensor([3]))).toThrow(
      "pow: the exponent must be a number, got a Tensor; for a tensor exponent write exp(log(x).mul(p))",
    );
    expect(() => js(pow)(x, "2")).toThrow('pow: the exponent must be a number, got a string ("2")');
    expect(x.pow(3).item()).toBe(8);
  });

  it("greater(t, 0) and every comparison's function form take a number, as their methods do", () => {
    const t = tensor([-1, 0, 2]);
    expect(greater(t, 0).toArray()).toEqual([0, 0, 1]);
    expect(less(t, 0).toArray()).toEqual([1, 0, 0]);
    expect(equal(t, 0).toArray()).toEqual([0, 1, 0]);
    expect(notEqual(t, 0).toArray()).toEqual([1, 0, 1]);
    expect(greaterEqual(t, 0).toArray()).toEqual([0, 1, 1]);
    expect(lessEqual(t, 0).toArray()).toEqual([1, 1, 0]);
    expect(greater(t, 0).toArray()).toEqual(t.greater(0).toArray());
    expect(() => js(greater)(t, "0")).toThrow('greater: the second operand is a string ("0"), not a Tensor');
    expect(() => js(greater)(0, t)).toThrow("greater: the first operand is a number (0), not a Tensor");
  });

  it("an elementwise op given something else than a tensor or a number names itself and the operand", () => {
    const t = tensor([1]);
    expect(() => js(t.add.bind(t))("2")).toThrow('add: the second operand is a string ("2"), not a Tensor');
    expect(() => js(t.mul.bind(t))([2])).toThrow("mul: the second operand is an array, not a Tensor");
    expect(() => js(add)(3, t)).toThrow("add: the first operand is a number (3), not a Tensor");
    expect(() => js(mul)(undefined, 2)).toThrow("mul: the first operand is undefined, not a Tensor");
    expect(() => js(t.backward.bind(t))(5)).toThrow(
      "backward: the gradient must be a Tensor shaped like the output, got a number (5)",
    );
    expect(() =>
      applyOp(
        "f",
        [js(tensor)([1]), 3 as never],
        () => tensor([1]),
        () => [null, null],
      ),
    ).toThrow("f: input 1 is a number (3), not a Tensor");
  });

  it("gather on a missing axis, or with indices that are not an Int32Array, names the axis or the indices", () => {
    const x = tensor([[1, 2]]);
    expect(() => gather(x, 5, Int32Array.of(0))).toThrow(
      "gather: axis 5 is out of range for a tensor of shape [1, 2] (axes run from -2 to 1)",
    );
    // A negative axis counts from the end, as every op's does (axes.test.ts).
    expect(gather(x, -1, Int32Array.of(1)).toArray()).toEqual([[2]]);
    expect(() => js(gather)(x, 1, tensor([0]))).toThrow(
      "gather: the indices must be an Int32Array, got a Tensor",
    );
    expect(() => js(gather)(x, 1, [0])).toThrow("gather: the indices must be an Int32Array, got an array");
    expect(() => gather(x, 1, Int32Array.of(2))).toThrow(
      "gather: index 2 is out of range for axis 1 of size 2",
    );
    expect(gather(x, 1, Int32Array.of(1, 0)).toArray()).toEqual([[2, 1]]);
    expect(() => scatterAdd(x, 1, Int32Array.of(0), 3)).toThrow(
      "scatterAdd: 1 indices for the 2 slabs of axis 1 of shape [1, 2]",
    );
    expect(() => scatterAdd(x, 1, Int32Array.of(0, 1), -1)).toThrow(
      "scatterAdd: size must be a whole number from 0, got -1",
    );
  });
});

describe("reductions of nothing", () => {
  it("logsumexp of an empty axis is −Infinity, log 0, as PyTorch's (it used to name max)", () => {
    expect(logsumexp(zeros([0]), 0).item()).toBe(Number.NEGATIVE_INFINITY);
    expect(logsumexp(zeros([2, 0]), 1).toArray()).toEqual([
      Number.NEGATIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
    ]);
    expect(logsumexp(zeros([0, 3]), 1).shape).toEqual([0]);
    expect(zeros([2, 0]).logsumexp(1, true).shape).toEqual([2, 1]);
    // Its gradient over no elements is an empty tensor; over the others, softmax as ever.
    const x = zeros([0], { requiresGrad: true });
    logsumexp(x, 0).backward();
    expect(x.grad?.shape).toEqual([0]);
  });
});

describe("freed tensors", () => {
  it("releaseGraph(s) then s.backward() says s was freed (it used to say 'not a scalar')", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const s = x.mul(2).sum();
    releaseGraph(s);
    expect(() => s.backward()).toThrow(
      "backward: the float32 [] tensor (made by sum) was used after dispose() or releaseGraph() freed it; compute it again",
    );
    expect(s.disposed).toBe(true);
    expect(x.disposed).toBe(false);
  });

  it("an op on a freed tensor, and reading or copying one, are refused by name", () => {
    const t = tensor([1, 2]);
    t.dispose();
    expect(() => t.add(1)).toThrow("add: the float32 [2] tensor (a leaf) was used after dispose()");
    expect(() => t.detach()).toThrow("detach: the float32 [2] tensor (a leaf) was used after dispose()");
    expect(() => t.dataSync()).toThrow("dataSync: ");
    expect(() => t.data()).toThrow("data: ");
    expect(() => zeros([2]).assign(t)).toThrow("assign: ");
    // A graph run through a released intermediate: backward names the op it could not run.
    const x = tensor([1, 2], { requiresGrad: true });
    const y = x.exp();
    const loss = y.sum();
    y.dispose();
    expect(() => loss.backward()).toThrow(
      /^backward of sum: .*was used after dispose\(\)|^backward of exp: /,
    );
  });
});

describe("functions handed to the library", () => {
  it("grad(f) where f returns a number (it used to be a TypeError about 'join'), and vjp, jvp, valueAndGrad", () => {
    const x = tensor([1], { dtype: "float64" });
    const three = () => 3 as unknown as Tensor;
    expect(() => grad(three)(x)).toThrow("grad: what f returned is a number (3), not a Tensor");
    expect(() => valueAndGrad(three)(x)).toThrow("grad: what f returned is a number (3), not a Tensor");
    expect(() => vjp(three)(x)).toThrow("vjp: what f returned is a number (3), not a Tensor");
    expect(() => jvp(three)([x], [x])).toThrow("jvp: what f returned is a number (3), not a Tensor");
    expect(() => js(grad((t: Tensor) => t.sum()))(2)).toThrow(
      "grad: an argument of f is a number (2), not a Tensor",
    );
  });

  it("valuesOf(() => 3) (it used to say 'keep is not a function'), and scoped without functions", async () => {
    await expect(valuesOf((() => 3) as never)).rejects.toThrow(
      "valuesOf: fn must return an array of tensors, got a number (3)",
    );
    await expect(valuesOf((() => [tensor([1]), 2]) as never)).rejects.toThrow(
      "valuesOf: fn must return an array of tensors, got an array",
    );
    expect(() => js(scoped)(() => tensor([1]), 3)).toThrow(
      "scoped: takes a function to run and a function naming the tensors of its result to keep",
    );
    expect(await valuesOf(() => [tensor([4])])).toEqual([new Float32Array([4])]);
  });
});

describe("the generator", () => {
  it("refuses a count it cannot draw from", () => {
    const g = new Generator(1);
    expect(() => g.permutation(-1)).toThrow(
      "Generator.permutation: n must be a whole number from 0 to 2³¹, got -1",
    );
    expect(() => g.permutation(1.5)).toThrow("Generator.permutation");
    expect(() => g.int(0)).toThrow("Generator.int: n must be a positive integer, got 0");
    expect(g.permutation(0)).toEqual(new Int32Array(0));
  });
});
