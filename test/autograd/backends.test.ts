/**
 * The engine on every backend that runs here: relu lets NaN through (cpu, wasm SIMD, and the gpu
 * backend's shader path), and second derivatives, recorded with createGraph, agree with the cpu's.
 *
 * The gpu backend uses ELBO_GPU_MODE if set, else the shader mode found here (WebGPU through Dawn,
 * on llvmpipe without a GPU); where none works it runs gpu.js' cpu mode and says so in the title,
 * and ELBO_REQUIRE_SHADERS=1 turns that into a failure.
 */
import { afterEach, describe, expect, it } from "vitest";
import { tensor } from "../../src/autograd/create.ts";
import type { Tensor } from "../../src/autograd/tensor.ts";
import { grad, hessian } from "../../src/autograd/transforms.ts";
import type { Backend } from "../../src/kernels/backend.ts";
import { loadGpuBackend, modeFromEnvironment, probeGpu, probeMode } from "../../src/kernels/gpu/index.ts";
import { cpuBackend, getBackend, setBackend } from "../../src/kernels/registry.ts";
import { createWasmBackend } from "../../src/kernels/wasm/backend.ts";
import { Adam } from "../../src/nn/optim/adam.ts";
import { expectClose } from "../fixtures/assertions.ts";

const named = modeFromEnvironment();
const probe =
  named === undefined ? await probeGpu() : { mode: named, detail: (await probeMode(named)).detail };
const shaders = probe.mode !== null && probe.mode !== "cpu";
if (process.env.ELBO_REQUIRE_SHADERS === "1" && !shaders) throw new Error(`no shader mode: ${probe.detail}`);

const backends: [string, () => Promise<Backend>][] = [
  ["cpu", async () => cpuBackend()],
  ["wasm", () => createWasmBackend({ threads: 1 })],
  [
    shaders
      ? `gpu (${probe.mode} on ${probe.detail})`
      : `gpu (SHADER PATH DID NOT RUN: ${probe.detail}; gpu.js cpu mode)`,
    () => loadGpuBackend(probe.mode ?? "cpu"),
  ],
];

const previous = getBackend();
afterEach(() => setBackend(previous));

/** A float32 function whose Hessian has every entry non-zero. */
const f = (x: Tensor) => x.tanh().mul(x.sum()).add(x.mul(x).exp().sum()).sigmoid().sum();

for (const [title, load] of backends) {
  describe(title, () => {
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
