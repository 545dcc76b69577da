/**
 * The engine on a backend, as tests to run on each: relu lets NaN through (the scalar tail of a
 * vector kernel too), an optimizer step between forward and backward makes backward throw (the
 * fused update too), and second derivatives, recorded with createGraph, agree with the cpu's.
 * engine.backends.test.ts runs them on cpu and wasm, test/kernels/gpu/backend.engine.test.ts on
 * the gpu backend.
 */
import { afterEach, describe, expect, it } from "vitest";
import { tensor } from "../../src/autograd/create.ts";
import type { Tensor } from "../../src/autograd/tensor.ts";
import { grad, hessian } from "../../src/autograd/transforms.ts";
import type { Backend } from "../../src/kernels/backend.ts";
import { getBackend, setBackend } from "../../src/kernels/registry.ts";
import { Adam } from "../../src/nn/optim/adam.ts";
import { expectClose } from "../fixtures/assertions.ts";

/** A float32 function whose Hessian has every entry non-zero. */
const f = (x: Tensor) => x.tanh().mul(x.sum()).add(x.mul(x).exp().sum()).sigmoid().sum();

export function describeEngineOn(title: string, load: () => Promise<Backend>): void {
  describe(title, () => {
    const previous = getBackend();
    afterEach(() => setBackend(previous));

    it("relu(NaN) is NaN (and relu(-0) is 0, relu(±Infinity) is Infinity and 0)", async () => {
      setBackend(await load());
      const x = tensor([
        Number.NaN,
        -0,
        Number.POSITIVE_INFINITY,
        Number.NEGATIVE_INFINITY,
        -1,
        0.5,
        Number.NaN,
      ]);
      const values = Array.from(await x.relu().data());
      expect(values.slice(0, 6)).toEqual([Number.NaN, 0, Number.POSITIVE_INFINITY, 0, 0, 0.5]);
      expect(Object.is(values[1], 0)).toBe(true);
      expect(values[6]).toBeNaN(); // the scalar tail of a vector kernel too
    });

    it("an Adam step between forward and backward makes backward throw (the fused update too)", async () => {
      setBackend(await load());
      const w = tensor([1, -2], { requiresGrad: true });
      const optimizer = new Adam([w], { lr: 0.1 });
      w.mul(w).sum().backward();
      const loss = w.mul(w).sum();
      optimizer.step();
      expect(() => loss.backward()).toThrow(
        /^backward of mul: .*input 0, the float32 \[2\] tensor \(a leaf\), was changed/,
      );
    });

    it("second derivatives (hessian, grad of grad) in float32 agree with the cpu's", async () => {
      const x = [0.3, -0.8, 0.5];
      const reference = Array.from(hessian(f)(tensor(x)).dataSync());
      const g2 = (t: Tensor) => grad((u: Tensor) => grad(f)(u).mul(u).sum())(t);
      const reference2 = Array.from(g2(tensor(x)).dataSync());
      setBackend(await load());
      const tolerance = { atol: 1e-5, rtol: 1e-4 }; // float32 rounding of a few dozen ops
      expectClose(Array.from(await hessian(f)(tensor(x)).data()), reference, tolerance);
      expectClose(Array.from(await g2(tensor(x)).data()), reference2, tolerance);
    });
  });
}
