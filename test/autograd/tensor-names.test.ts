/**
 * A tensor's name is shown wherever it is described: in the graph (toDot) and in the errors that
 * name an operand (shape mismatches of the elementwise ops, matmul, batchedMatmul and
 * reparameterize; a failing backward, named by its node). The VAE names its own tensors.
 */
import { describe, expect, it } from "vitest";
import {
  applyOp,
  BernoulliVAE,
  Generator,
  noGrad,
  randn,
  reparameterize,
  type Tensor,
  tensor,
  toDot,
} from "../../src/index.ts";

const named = (t: Tensor, name: string) => {
  t.name = name;
  return t;
};

describe("names in errors", () => {
  it("a binary op's shape and dtype errors name its named operands", () => {
    const mu = named(randn([4, 10]), "μ");
    const eps = named(randn([4, 3]), "ε");
    expect(() => mu.add(eps)).toThrow(
      /^add: shapes 'μ' \[4, 10\] and 'ε' \[4, 3\] cannot be broadcast together/,
    );
    expect(() => mu.mul(randn([4, 3]))).toThrow(
      /^mul: shapes 'μ' \[4, 10\] and \[4, 3\] cannot be broadcast/,
    );
    expect(() => mu.sub(named(randn([4, 10], { dtype: "float64" }), "x"))).toThrow(
      /^sub: dtypes differ: float32 'μ' \[4, 10\] and float64 'x' \[4, 10\]/,
    );
  });

  it("matmul and batchedMatmul name their operands", () => {
    const x = named(randn([2, 784]), "x");
    const w = named(randn([200, 784]), "fc1.weight");
    expect(() => x.matmul(w)).toThrow(
      /^matmul\('x' \[2, 784\], 'fc1.weight' \[200, 784\]\): inner dimensions differ/,
    );
    expect(() => named(randn([2, 3, 4]), "a").batchedMatmul(randn([2, 5, 6]))).toThrow(
      /^batchedMatmul\('a' \[2, 3, 4\], \[2, 5, 6\]\)/,
    );
  });

  it("reparameterize names μ, logvar and ε by their names", () => {
    expect(() => reparameterize(named(randn([2, 3]), "μ"), randn([2, 3]), named(randn([2, 4]), "ε"))).toThrow(
      /^reparameterize: mu 'μ' \[2, 3\], logvar \[2, 3\] and eps 'ε' \[2, 4\] must have one shape/,
    );
  });

  it("a failing backward names the node's op and name, once", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const wrongShape = applyOp(
      "broken",
      [x],
      () => x.mul(2),
      (g) => [() => g.sum()],
    );
    wrongShape.name = "h";
    expect(() => wrongShape.sum().backward()).toThrow(
      /^backward of broken \('h'\): gradient for input 0 has shape \[\]/,
    );
    const unnamed = applyOp(
      "broken",
      [x],
      () => x.mul(2),
      (g) => [() => g.sum()],
    );
    expect(() => unnamed.sum().backward()).toThrow(/^backward of broken: gradient for input 0/);
  });

  it("an in-place change is reported once, under the node's name", () => {
    const a = named(tensor([1, 2, 3], { requiresGrad: true }), "a");
    const h = named(a.mul(a), "h");
    const y = named(h.exp(), "e").sum();
    noGrad(() => h.assign(tensor([0, 0, 0])));
    expect(() => y.backward()).toThrow(
      /^backward of exp \('e'\): one of the tensors needed for gradient computation has been modified by an in-place operation: input 0, the float32 \[3\] tensor 'h' \(made by mul\)/,
    );
  });
});

describe("the VAE names its tensors", () => {
  it("μ, logvar, σ, z, logits, BCE, KL and −ELBO appear in its graph", () => {
    const vae = new BernoulliVAE(
      { inputDim: 4, latentDim: 2, encUnits: 3, decUnits: 3 },
      { generator: new Generator(2) },
    );
    const out = vae.forward(tensor([[0, 1, 1, 0]]), { generator: new Generator(3) });
    expect([
      out.mu.name,
      out.logvar.name,
      out.z.name,
      out.logits.name,
      out.bce.name,
      out.kl.name,
      out.loss.name,
    ]).toEqual(["μ", "logvar", "z", "logits", "BCE", "KL", "−ELBO"]);
    const dot = toDot(out.loss);
    for (const name of ["μ", "logvar", "σ", "z", "logits", "BCE", "KL", "−ELBO"])
      expect(dot).toContain(`${name} · `);
  });
});
