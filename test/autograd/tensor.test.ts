/**
 * The Tensor's own promises, each pinned: storage that does not fit its shape is refused; assign
 * refuses values of another dtype, size or backend and frees what it replaces; comparisons take
 * plain numbers; detach copies; methods give the functions' values; item() wants one element.
 */
import { describe, expect, it } from "vitest";
import { tensor, zeros } from "../../src/autograd/create.ts";
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
});

const m23 = () => zeros([2, 3], { requiresGrad: true });

describe("data and dtype errors", () => {
  it("item() on a tensor with more than one element", () => {
    expect(() => m23().item()).toThrow(/^item: tensor of shape \[2, 3\] has 6 elements/);
  });
});
