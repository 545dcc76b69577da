/**
 * The Tensor's own promises, each pinned: storage that does not fit its shape is refused; assign
 * refuses values of another dtype, size or backend and frees what it replaces; typed arrays are
 * converted to the dtype asked for; comparisons take plain numbers; detach copies; gradients()
 * runs only the rules that lead to what was asked for; scopes hand kept tensors to the scope around.
 */
import { describe, expect, it } from "vitest";
import { ones, rand, randn, tensor, zeros } from "../../src/autograd/create.ts";
import { enableGrad, gradients, noGrad } from "../../src/autograd/engine.ts";
import { applyOp } from "../../src/autograd/op.ts";
import { scoped } from "../../src/autograd/scope.ts";
import { Tensor } from "../../src/autograd/tensor.ts";
import { CpuBackend } from "../../src/kernels/cpu/backend.ts";

describe("Tensor", () => {
  it("refuses storage that does not hold as many elements as its shape", () => {
    const backend = new CpuBackend();
    expect(() => new Tensor(backend.fill(3, 0, "float32"), [2, 2], backend)).toThrow(
      "Tensor: shape [2, 2] holds 4 elements but the data has 3",
    );
  });

  it("assign refuses another dtype, size or backend, naming both sides, and changes nothing then", () => {
    const t = tensor([1, 2, 3]);
    expect(() => t.assign(tensor([1, 2, 3], { dtype: "float64" }))).toThrow(
      "assign: cannot put float64 [3] values on cpu into a float32 [3] tensor on cpu",
    );
    expect(() => t.assign(tensor([1, 2]))).toThrow(
      "assign: cannot put float32 [2] values on cpu into a float32 [3] tensor on cpu",
    );
    class OtherBackend extends CpuBackend {
      override readonly name = "other";
    }
    const other = new OtherBackend();
    expect(() => t.assign(new Tensor(other.fill(3, 1, "float32"), [3], other))).toThrow(
      "assign: cannot put float32 [3] values on other into a float32 [3] tensor on cpu",
    );
    expect(t.toArray()).toEqual([1, 2, 3]);
    expect(t.version).toBe(0);
  });

  it("assign copies the values, bumps the version once per call and frees the storage it replaces", () => {
    const t = tensor([1, 2, 3]);
    const values = tensor([4, 5, 6]);
    const before = t.backend.memory().buffers;
    t.assign(values);
    t.assign(values);
    expect(t.version).toBe(2);
    expect(t.backend.memory().buffers).toBe(before);
    values.dispose();
    expect(t.toArray()).toEqual([4, 5, 6]);
  });

  it("detach gives the same values in storage of its own, with no history", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const y = x.mul(3);
    const d = y.detach();
    expect(d.toArray()).toEqual([3, 6]);
    expect(d.requiresGrad).toBe(false);
    expect(d.isLeaf).toBe(true);
    expect(d.op).toBe("leaf");
    d.dispose();
    expect(y.toArray()).toEqual([3, 6]);
  });

  it("comparison methods take plain numbers", () => {
    const x = tensor([0, 1, 2]);
    expect(x.greater(1).toArray()).toEqual([0, 0, 1]);
    expect(x.less(1).toArray()).toEqual([1, 0, 0]);
    expect(x.equal(1).toArray()).toEqual([0, 1, 0]);
    expect(x.greaterEqual(1).toArray()).toEqual([0, 1, 1]);
    expect(x.lessEqual(1).toArray()).toEqual([1, 1, 0]);
  });
});

describe("tensor() from typed arrays", () => {
  it("needs a shape, and converts to the dtype asked for", () => {
    expect(() => tensor(Float32Array.of(1, 2), {} as never)).toThrow(
      "tensor: a typed array needs a shape, e.g. tensor(data, [2, 3])",
    );
    const wide = tensor(Float32Array.of(0.1, 2), [2], { dtype: "float64" });
    expect(wide.dtype).toBe("float64");
    expect(Array.from(wide.dataSync())).toEqual([Math.fround(0.1), 2]);
    const narrow = tensor(Float64Array.of(0.1, 2), [2], { dtype: "float32" });
    expect(narrow.dtype).toBe("float32");
    expect(Array.from(narrow.dataSync())).toEqual([Math.fround(0.1), 2]);
    // The same array in its own dtype is taken as it is, and requiresGrad is passed on.
    const same = tensor(Float64Array.of(0.1), [1], { requiresGrad: true });
    expect(same.dtype).toBe("float64");
    expect(same.requiresGrad).toBe(true);
    expect(same.item()).toBe(0.1);
  });
});

describe("gradients()", () => {
  it("gives null for a root that needs no gradient and for inputs it does not depend on", () => {
    const a = tensor([1, 2], { requiresGrad: true });
    const b = tensor([3, 4], { requiresGrad: true });
    expect(gradients(zeros([1]).sum(), [a, b])).toEqual([null, null]);
    const [ga, gb] = gradients(a.mul(a).sum(), [a, b]);
    expect(ga?.toArray()).toEqual([2, 4]);
    // Without createGraph the gradient is a plain value, with no graph of its own.
    expect(ga?.requiresGrad).toBe(false);
    expect(gb).toBeNull();
    expect(a.grad).toBeNull();
  });

  it("runs only the gradient rules on a path to the tensors asked for", () => {
    const a = tensor([1, 2], { requiresGrad: true });
    const b = tensor([3, 4], { requiresGrad: true });
    const ran: string[] = [];
    const product = applyOp(
      "product",
      [a, b],
      () => a.mul(b),
      (g) => [
        () => {
          ran.push("a");
          return g.mul(b);
        },
        () => {
          ran.push("b");
          return g.mul(a);
        },
      ],
    );
    const [gb] = gradients(product.sum(), [b]);
    expect(gb?.toArray()).toEqual([1, 2]);
    expect(ran).toEqual(["b"]);
  });

  it("enableGrad records a graph even inside noGrad, and noGrad comes back after it", () => {
    const x = tensor([2], { requiresGrad: true });
    noGrad(() => {
      const y = enableGrad(() => x.mul(x));
      expect(y.requiresGrad).toBe(true);
      expect(y.op).toBe("mul");
      expect(x.mul(x).requiresGrad).toBe(false);
    });
  });
});

describe("scoped", () => {
  it("hands the tensors it keeps to the scope around it, which frees them unless it keeps them too", () => {
    const x = tensor([1, 2]);
    const backend = x.backend;
    const before = backend.memory().buffers;
    let inner: Tensor | undefined;
    const outer = scoped(
      () => {
        inner = scoped(
          () => x.mul(2).add(1),
          (t) => [t],
        );
        return inner.mul(10);
      },
      (t) => [t],
    );
    expect(outer.toArray()).toEqual([30, 50]);
    // Only the outer result is left: the inner one was kept by its scope but not by the outer one.
    expect(backend.memory().buffers - before).toBe(1);
    expect(() => inner?.dataSync()).toThrow(/used after dispose/);
  });

  it("lets keep name null and undefined (a gradient not computed, say), handing on only tensors", () => {
    const x = tensor([1, 2]);
    const before = x.backend.memory().buffers;
    const outer = scoped(
      () =>
        scoped(
          () => ({ y: x.mul(2), none: null, missing: undefined }),
          (r) => [r.y, r.none, r.missing],
        ).y.add(1),
      (t) => [t],
    );
    expect(outer.toArray()).toEqual([3, 5]);
    expect(x.backend.memory().buffers - before).toBe(1);
  });
});

describe("the methods and creators a model is written with", () => {
  it("indexSelect, logSoftmax and batchedMatmul as methods give the functions' values", () => {
    const x = tensor([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect(x.indexSelect(0, [2, 0]).toArray()).toEqual([
      [5, 6],
      [1, 2],
    ]);
    const ls = x.to("float64").logSoftmax(1).dataSync();
    // log softmax of (a, a + 1): −log(1 + e) and 1 − log(1 + e).
    expect(ls[0]).toBeCloseTo(-Math.log(1 + Math.E), 12);
    expect(ls[5]).toBeCloseTo(1 - Math.log(1 + Math.E), 12);
    const a = tensor([[[1, 2]], [[3, 4]]]); // [2, 1, 2]
    const b = tensor([
      [[1], [1]],
      [[2], [0]],
    ]); // [2, 2, 1]
    expect(a.batchedMatmul(b).toArray()).toEqual([[[3]], [[6]]]);
  });

  it("ones fills with 1; rand and randn refuse a bad shape under their own names", () => {
    expect(ones([2, 2], { dtype: "float64" }).toArray()).toEqual([
      [1, 1],
      [1, 1],
    ]);
    expect(ones([1], { requiresGrad: true }).requiresGrad).toBe(true);
    expect(() => rand([2, -1])).toThrow("rand: shape [2, -1] must hold non-negative integers");
    expect(() => randn([1.5])).toThrow("randn: shape [1.5] must hold non-negative integers");
  });

  it("backward({ createGraph: true }) records the gradient, so it can be differentiated again", () => {
    const x = tensor([3], { requiresGrad: true });
    x.mul(x).mul(x).sum().backward({ createGraph: true });
    expect(x.grad?.item()).toBe(27); // 3x²
    expect(x.grad?.requiresGrad).toBe(true);
    const g = x.grad as Tensor;
    x.zeroGrad();
    g.sum().backward();
    expect(x.grad?.item()).toBe(18); // 6x
  });

  it("applyOp refuses a forward that does not return a tensor, naming the op", () => {
    const x = tensor([1]);
    expect(() =>
      applyOp(
        "notATensor",
        [x],
        () => 5 as unknown as Tensor,
        (g) => [() => g],
      ),
    ).toThrow("notATensor: forward must return a Tensor");
  });
});
