/**
 * The Backend primitives that indexing ops compose from (indexing-primitives.ts) on the gpu backend
 * in the shader mode found here, against the cpu backend; where as a shader; an indexing op between
 * two device kernels; broadcastTo's refusals. Skipped where no shader mode runs (a failure with
 * ELBO_REQUIRE_SHADERS=1).
 */
import { afterAll, describe, expect, it } from "vitest";
import { tensor } from "../../../src/autograd/create.ts";
import type { GpuBackend } from "../../../src/kernels/gpu/index.ts";
import { getBackend, setBackend } from "../../../src/kernels/registry.ts";
import { gpuBackends, itRunsOnAShaderMode } from "../../fixtures/backends.ts";
import { describeIndexingPrimitives, referenceGather } from "../indexing-primitives.ts";

const { probe, shader } = await gpuBackends();
itRunsOnAShaderMode(probe);

describe.skipIf(shader.skip !== undefined)(shader.title, () => {
  const load = async () => (await shader.load()) as GpuBackend;
  describeIndexingPrimitives("gpu", load);

  it("where runs as a shader on float32 (no cpu fallback), Infinity and NaN on the side not taken kept out", async () => {
    const gpu = await load();
    const before = gpu.fallbacks.get("where") ?? 0;
    const inf = Number.POSITIVE_INFINITY;
    const cond = gpu.fromArray(Float32Array.from([1, 0, 1, 0, 1, 0]));
    const a = gpu.unary("neg", gpu.fromArray(Float32Array.from([1, inf, Number.NaN]))); // on the device
    const b = gpu.fromArray(Float32Array.from([-inf, 5]));
    const out = gpu.where(cond, [3, 2], a, [3, 1], b, [2], [3, 2]);
    expect(Array.from(await gpu.read(out))).toEqual([-1, 5, -inf, 5, Number.NaN, 5]);
    expect(gpu.fallbacks.get("where") ?? 0).toBe(before);
  });

  it("an indexing op between device kernels: values come from the device and go back to it", async () => {
    const gpu = await load();
    const x = Float32Array.from({ length: 12 }, (_, i) => i - 5);
    const onDevice = gpu.unary("neg", gpu.fromArray(x)); // made by a shader, so gather must fetch it
    const taken = gpu.gather(onDevice, [3, 4], 1, Int32Array.from([3, 0]));
    const doubled = gpu.binary("add", taken, [3, 2], taken, [3, 2], [3, 2]); // a shader on gather's result
    const expected = referenceGather(
      Array.from(x, (v) => -2 * v),
      [3, 4],
      1,
      Int32Array.from([3, 0]),
    );
    expect(Array.from(await gpu.read(doubled))).toEqual(expected);
  });

  describe("broadcastTo refuses a target shape that is not made of non-negative integers", () => {
    const previous = getBackend();
    afterAll(() => setBackend(previous));
    it("on gpu", async () => {
      setBackend(await load());
      expect(() => tensor([1]).broadcastTo([-1])).toThrow("broadcastTo: target shape [-1] must hold");
      expect(() => tensor([1]).broadcastTo([2.5])).toThrow("broadcastTo: target shape [2.5] must hold");
    });
  });
});
