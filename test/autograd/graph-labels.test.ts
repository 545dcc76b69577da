/**
 * What toDot writes into a label must stay a valid DOT string, whatever a tensor is named, and a
 * tensor whose values cannot be read now (a device backend) is drawn without them rather than
 * stopping the drawing. (The layout itself is tested in test/docs/graph.test.ts.)
 */
import { describe, expect, it } from "vitest";
import { tensor } from "../../src/autograd/create.ts";
import { summarize, toDot } from "../../src/autograd/graph.ts";
import { Tensor } from "../../src/autograd/tensor.ts";
import type { Storage, TypedArray } from "../../src/kernels/backend.ts";
import { CpuBackend } from "../../src/kernels/cpu/backend.ts";

describe("toDot labels", () => {
  it("escape quotes and backslashes in a tensor's name", () => {
    const w = tensor([1, 2], { requiresGrad: true });
    w.name = 'say "hi" \\ bye';
    const dot = toDot(w.mul(w).sum());
    expect(dot).toContain('label="say \\"hi\\" \\\\ bye · leaf\\l');
    // Every label is one DOT string: its quotes all escaped, so each label line has exactly two bare ones.
    for (const line of dot.split("\n").filter((l) => l.includes("[label="))) {
      expect(line.replace(/\\\\/g, "").replace(/\\"/g, "").match(/"/g)?.length).toBeGreaterThanOrEqual(2);
    }
  });

  it("draw a tensor whose values are not on the host, saying so", () => {
    class DeviceLike extends CpuBackend {
      override readonly name = "device";
      override readSync(_x: Storage): TypedArray {
        throw new Error("device: values are still on the device");
      }
    }
    const backend = new DeviceLike();
    const t = new Tensor(backend.fill(4, 1, "float32"), [2, 2], backend);
    expect(summarize(t)).toBe("(on device, not read)");
    expect(toDot(t)).toContain("value (on device, not read)\\l");
    expect(summarize(null)).toBe("—");
  });
});
