/**
 * What toDot writes into a label must stay a valid DOT string, whatever a tensor is named, and a
 * tensor whose values cannot be read now (a device backend) is drawn without them rather than
 * stopping the drawing. (The layout itself is tested in test/docs/graph.test.ts.)
 */
import { describe, expect, it } from "vitest";
import { tensor } from "../../src/autograd/create.ts";
import { summarize, toDot } from "../../src/autograd/graph.ts";
import { Tensor } from "../../src/autograd/tensor.ts";
import { OnDeviceBackend } from "../fixtures/on-device-backend.ts";

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
    const backend = new OnDeviceBackend();
    const t = new Tensor(backend.fill(4, 1, "float32"), [2, 2], backend);
    expect(summarize(t)).toBe("(on device, not read)");
    expect(toDot(t)).toContain("value (on device, not read)\\l");
    expect(summarize(null)).toBe("—");
  });
});

describe("toDot colours and outlines", () => {
  it("fills parameters blue, constants grey and ops white, outlines only the root, and says whose gradient is kept", () => {
    const w = tensor([1, 2], { requiresGrad: true });
    w.name = "w";
    const c = tensor([3, 4]);
    c.name = "c";
    const h = w.mul(c);
    h.name = "h";
    const kept = h.exp().retainGrad();
    kept.name = "kept";
    const loss = kept.sum();
    loss.backward();
    const lines = toDot(loss).split("\n");
    const node = (label: string) => {
      const found = lines.find((l) => l.includes(`[label="${label} · `));
      expect(found, label).toBeDefined();
      return found as string;
    };
    expect(node("w")).toContain('fillcolor="#dbeafe"]');
    expect(node("c")).toContain('fillcolor="#f3f4f6"]');
    expect(node("h")).toContain('fillcolor="#ffffff"]');
    expect(node("h")).toContain("grad not kept\\l");
    expect(node("kept")).toMatch(/grad \[\d/);
    expect(node("c")).not.toContain("grad");
    expect(lines.filter((l) => l.includes("penwidth=2"))).toHaveLength(1);
    expect(lines.find((l) => l.includes("penwidth=2"))).toContain('label="sum []\\l');
    expect(lines).toContain('  edge [arrowsize=0.6, color="#6b7280"];');
    // Each tensor once, each edge once, even when a tensor feeds two ops.
    const sq = w.mul(w).sum();
    const dot = toDot(sq).split("\n");
    expect(dot.filter((l) => l.includes("[label="))).toHaveLength(3);
    expect(dot.filter((l) => l.includes("->"))).toHaveLength(3);
  });

  it("shows a leaf's gradient once backward has run, and before it a dash, not 'not kept'", () => {
    const w = tensor([1, 2], { requiresGrad: true });
    w.name = "w";
    const loss = w.mul(w).sum();
    const leafLine = () =>
      toDot(loss)
        .split("\n")
        .find((l) => l.includes('[label="w · leaf'));
    expect(leafLine()).toContain("grad —\\l");
    loss.backward();
    expect(leafLine()).toContain("grad [2, 4]\\l");
  });

  it("shows a gradient an intermediate holds though it did not retain one (set by hand)", () => {
    const w = tensor([1, 2], { requiresGrad: true });
    const h = w.mul(w);
    h.name = "h";
    h.grad = tensor([7, 8]);
    const line = toDot(h.sum())
      .split("\n")
      .find((l) => l.includes('[label="h · mul'));
    expect(line).toContain("grad [7, 8]\\l");
  });

  it("draws as a bare number only an unnamed one-element constant, not a parameter or a named one", () => {
    const w = tensor([1, 2], { requiresGrad: true });
    const bias = tensor([0.25], { requiresGrad: true }); // one element, unnamed, but a parameter
    const lr = tensor([0.5]);
    lr.name = "lr";
    const six = tensor([2]).mul(tensor([3])); // made under no gradient: a constant leaf
    const dot = toDot(w.mul(lr).mul(six).mul(7).add(bias).sum()).split("\n");
    const bare = dot.filter((l) => l.includes("shape=plaintext"));
    expect(bare.map((l) => l.match(/label="([^"]*)\\l"/)?.[1]).sort()).toEqual(["6", "7"]);
    expect(dot.some((l) => l.includes('[label="lr · const [1]\\lvalue [0.5000]\\l"'))).toBe(true);
    expect(dot.some((l) => l.includes('[label="leaf [1]\\lvalue [0.2500]\\lgrad —\\l"'))).toBe(true);
  });

  it("gives every tensor its own id, however often and in whatever order the walk meets it", () => {
    // x reaches the root through exp (met first) and through mul, whose next input z is new.
    const x = tensor([1, 2], { requiresGrad: true });
    const z = tensor([3, 4], { requiresGrad: true });
    const dot = toDot(x.mul(z).add(x.exp())).split("\n");
    const ids = dot.filter((l) => l.includes("[label=")).map((l) => l.trim().split(" ")[0]);
    expect(ids).toHaveLength(5); // add, mul, exp, x, z
    expect(new Set(ids).size).toBe(5);
    const edges = dot.filter((l) => l.includes("->")).map((l) => l.trim().replace(";", ""));
    expect(new Set(edges).size).toBe(5);
    for (const edge of edges) for (const id of edge.split(" -> ")) expect(ids).toContain(id);
  });
});
