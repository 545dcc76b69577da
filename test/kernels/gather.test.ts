/**
 * The Backend primitives that indexing ops compose from (indexing-primitives.ts) on the cpu backend,
 * against plain-JavaScript references, and on wasm with one thread and two, against cpu; and
 * broadcastTo refusing a target shape that is not made of non-negative integers on each. The gpu
 * backend's are in gpu/backend.indexing.test.ts.
 */
import { afterAll, describe, expect, it } from "vitest";
import { tensor } from "../../src/autograd/create.ts";
import { scatterAddInto } from "../../src/kernels/gather.ts";
import { getBackend, setBackend } from "../../src/kernels/registry.ts";
import { cpuAndWasmBackends } from "../fixtures/backends.ts";
import { describeIndexingPrimitives } from "./indexing-primitives.ts";

const backends = cpuAndWasmBackends();
for (const { title, load } of backends) describeIndexingPrimitives(title, load);

describe("broadcastTo refuses a target shape that is not made of non-negative integers", () => {
  const previous = getBackend();
  afterAll(() => setBackend(previous));
  for (const { title, load } of backends) {
    it(`on ${title}`, async () => {
      setBackend(await load());
      const x = tensor([1]);
      expect(() => x.broadcastTo([-1])).toThrow(
        "broadcastTo: target shape [-1] must hold non-negative integers (broadcasting [1])",
      );
      expect(() => x.broadcastTo([2.5])).toThrow(
        "broadcastTo: target shape [2.5] must hold non-negative integers (broadcasting [1])",
      );
      expect(x.broadcastTo([0]).shape).toEqual([0]);
    });
  }
});

describe("scatterAddInto", () => {
  it("refuses indices that do not match the axis's slabs, naming the counts and the shape", () => {
    const x = Float32Array.of(1, 2, 3, 4, 5, 6);
    const out = new Float32Array(12);
    expect(() => scatterAddInto(x, [2, 3], 0, Int32Array.of(0), 4, out)).toThrow(
      /^scatterAdd: 1 indices for axis 0 of shape \[2, 3\], which has 2 slabs$/,
    );
    scatterAddInto(x, [2, 3], 0, Int32Array.of(3, 3), 4, out);
    expect(Array.from(out)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 7, 9]);
  });
});
