/**
 * How a tensor prints: String(t) and console.log(t) (util.inspect) show the values, elided when
 * large, with shape, dtype and backend; a backend whose values are not on the host says so.
 * Elision starts above 1,000 elements (not at), and then only along axes longer than twice the 3
 * edge items shown at each end, as NumPy's threshold and edgeitems do.
 */
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { tensor, zeros } from "../../src/autograd/create.ts";
import { Tensor } from "../../src/autograd/tensor.ts";
import { OnDeviceBackend } from "../fixtures/on-device-backend.ts";

describe("printing tensors", () => {
  it("shows nested values, special values, shape, dtype and backend; console.log shows the same", () => {
    const t = tensor([
      [1, 2.5, Number.NaN],
      [Number.NEGATIVE_INFINITY, 1 / 3, -0],
    ]);
    const expected =
      "tensor([[1, 2.5, NaN],\n" +
      "        [-Infinity, 0.3333, -0]], shape=[2, 3], dtype=float32, backend=cpu)";
    expect(String(t)).toBe(expected);
    expect(inspect(t)).toBe(expected);
    expect(inspect({ t })).toContain("tensor([[1, 2.5, NaN]");
  });

  it("a scalar, a leaf that requires grad, and an op's output", () => {
    const x = tensor(Float64Array.of(3), [], { requiresGrad: true });
    expect(String(x)).toBe("tensor(3, shape=[], dtype=float64, backend=cpu, requiresGrad=true)");
    expect(String(x.mul(2))).toBe("tensor(6, shape=[], dtype=float64, backend=cpu, op=mul)");
    expect(String(zeros([0, 2]))).toBe("tensor([], shape=[0, 2], dtype=float32, backend=cpu)");
  });

  it("elides the middle of every long axis once a tensor has more than 1,000 elements", () => {
    const v = tensor(
      Float32Array.from({ length: 2000 }, (_, i) => i),
      [2000],
    );
    expect(String(v)).toBe(
      "tensor([0, 1, 2, ..., 1997, 1998, 1999], shape=[2000], dtype=float32, backend=cpu)",
    );
    const m = String(
      tensor(
        Float32Array.from({ length: 1600 }, (_, i) => i),
        [40, 40],
      ),
    );
    expect(m.split("\n")).toEqual([
      "tensor([[0, 1, 2, ..., 37, 38, 39],",
      "        [40, 41, 42, ..., 77, 78, 79],",
      "        [80, 81, 82, ..., 117, 118, 119],",
      "        ...,",
      "        [1480, 1481, 1482, ..., 1517, 1518, 1519],",
      "        [1520, 1521, 1522, ..., 1557, 1558, 1559],",
      "        [1560, 1561, 1562, ..., 1597, 1598, 1599]], shape=[40, 40], dtype=float32, backend=cpu)",
    ]);
    // Small tensors are never elided.
    expect(
      String(
        tensor(
          Float32Array.from({ length: 12 }, (_, i) => i),
          [12],
        ),
      ),
    ).not.toContain("...");
  });

  it("says where the values are when they are not on the host, instead of throwing", () => {
    const backend = new OnDeviceBackend();
    // A backend whose results arrive later, like WebGPU's (CpuBackend declares itself synchronous).
    Object.assign(backend, { asyncRead: true });
    const t = new Tensor(backend.fill(4, 1, "float32"), [2, 2], backend);
    expect(String(t)).toBe(
      "tensor(<values on the device device, not read yet: await t.data()>, shape=[2, 2], dtype=float32, backend=device)",
    );
    const disposed = tensor([1, 2]);
    disposed.dispose();
    expect(String(disposed)).toMatch(
      /^tensor\(<values not readable: dataSync: the float32 \[2\] tensor \(a leaf\) was used after dispose\(\) or releaseGraph\(\) freed it; compute it again>, shape=\[2\]/,
    );
  });
});

const counting = (shape: number[]) =>
  tensor(
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i),
    shape,
  );

describe("printing elides", () => {
  it("a tensor of exactly 1,000 elements in full, one of 1,001 with its middle left out", () => {
    const full = String(counting([1000]));
    expect(full).not.toContain("...");
    expect(full).toContain(", 500, ");
    expect(String(counting([1001]))).toMatch(/^tensor\(\[0, 1, 2, \.\.\., 998, 999, 1000\], shape=\[1001\]/);
  });

  it("in a large tensor, an axis of 6 shows all its entries and an axis of 7 is cut", () => {
    const six = String(counting([6, 200])).split("\n");
    expect(six).toHaveLength(6);
    expect(six.some((line) => line.trim() === "...,")).toBe(false);
    expect(six[5]).toMatch(/^ {8}\[1000, 1001, 1002, \.\.\., 1197, 1198, 1199\]\]/);
    const seven = String(counting([7, 200])).split("\n");
    expect(seven).toHaveLength(7);
    expect(seven[3].trim()).toBe("...,");
    // Three rows each side of the cut: rows 0..2 and 4..6.
    expect(seven[4]).toMatch(/^ {8}\[800, 801, 802, \.\.\./);
  });
});
