/**
 * The Backend primitives that indexing ops compose from (indexing-primitives.ts) on the cpu backend,
 * against plain-JavaScript references, and on wasm with one thread and two, against cpu; and
 * broadcastTo refusing a target shape that is not made of non-negative integers on each. The gpu
 * backend's are in gpu/backend.indexing.test.ts.
 */
import { afterAll, describe, expect, it } from "vitest";
import { tensor } from "../../src/autograd/create.ts";
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
