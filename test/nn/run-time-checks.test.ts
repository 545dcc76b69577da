/**
 * The nn pieces and the VAE check at run time what their types promise: `new Linear(0, 3)` used to
 * make a NaN bias, `new Adam(params, { lr: Infinity })` to turn the parameters to −Infinity at the
 * first step, `evaluateElbo` with a batch of 0 to loop for ever. Each option out of range is
 * refused by name, before anything is made or changed.
 */
import { describe, expect, it } from "vitest";
import { zeros } from "../../src/autograd/create.ts";
import { Generator } from "../../src/autograd/random.ts";
import type { Tensor } from "../../src/autograd/tensor.ts";
import { Linear } from "../../src/nn/linear.ts";
import { Adam } from "../../src/nn/optim/adam.ts";
import { SGD } from "../../src/nn/optim/sgd.ts";
import { evaluateElbo, evaluateIwae } from "../../src/vae/evaluate.ts";
import { BernoulliVAE } from "../../src/vae/model.ts";
import { tinyConfig, tinyDataset } from "../fixtures/tiny-run.ts";

const param = () => zeros([2], { requiresGrad: true });

describe("Linear", () => {
  it("refuses a size that is not a positive integer (Linear(0, 3) made a NaN bias)", () => {
    for (const [inputs, outputs, name, bad] of [
      [0, 3, "inFeatures", 0],
      [3, 0, "outFeatures", 0],
      [2.5, 3, "inFeatures", 2.5],
      [-1, 3, "inFeatures", -1],
      [Number.NaN, 3, "inFeatures", Number.NaN],
    ] as const) {
      expect(() => new Linear(inputs, outputs), `${inputs}, ${outputs}`).toThrow(
        `Linear(${inputs}, ${outputs}): ${name} must be a positive integer, got ${bad}`,
      );
    }
    const bias = new Linear(1, 3, { generator: new Generator(1) }).bias as Tensor;
    expect(Array.from(bias.dataSync()).every(Number.isFinite)).toBe(true);
  });
});

describe("optimizers' options", () => {
  it("Adam refuses an lr of Infinity (the parameter became −Infinity), and every option out of range", () => {
    const refused: [object, string][] = [
      [{ lr: Number.POSITIVE_INFINITY }, "Adam: lr must be a finite number ≥ 0, got a number (Infinity)"],
      [{ lr: Number.NaN }, "Adam: lr must be a finite number ≥ 0, got a number (NaN)"],
      [{ lr: "0.1" }, 'Adam: lr must be a finite number ≥ 0, got a string ("0.1")'],
      [{ eps: -1e-8 }, "Adam: eps must be a finite number ≥ 0, got a number (-1e-8)"],
      [{ eps: Number.POSITIVE_INFINITY }, "Adam: eps must be a finite number ≥ 0"],
      [{ weightDecay: Number.NaN }, "Adam: weightDecay must be a finite number ≥ 0, got a number (NaN)"],
      [{ weightDecay: -0.1 }, "Adam: weightDecay must be a finite number ≥ 0"],
      [{ betas: 0.9 }, "Adam: betas must be two numbers in [0, 1), got 0.9"],
      [{ betas: [0.9] }, "Adam: betas must be two numbers in [0, 1), got [0.9]"],
      [{ betas: [0.9, Number.NaN] }, "Adam: betas must be two numbers in [0, 1), got [0.9,null]"],
    ];
    for (const [options, message] of refused) {
      expect(() => new Adam([param()], options as never), JSON.stringify(options)).toThrow(message);
    }
    expect(() => new Adam([param()], { lr: 0, eps: 0, weightDecay: 0, betas: [0, 0.999] })).not.toThrow();
  });

  it("SGD refuses missing options, and an lr, momentum or weight decay out of range", () => {
    expect(() => new (SGD as unknown as new (p: Tensor[]) => SGD)([param()])).toThrow(
      "SGD: options with a learning rate are needed, e.g. new SGD(params, { lr: 0.1 })",
    );
    for (const [options, message] of [
      [{}, "SGD: lr must be a finite number ≥ 0, got undefined"],
      [{ lr: Number.POSITIVE_INFINITY }, "SGD: lr must be a finite number ≥ 0, got a number (Infinity)"],
      [{ lr: 0.1, momentum: Number.NaN }, "SGD: momentum must be a finite number ≥ 0, got a number (NaN)"],
      [{ lr: 0.1, momentum: -0.5 }, "SGD: momentum must be a finite number ≥ 0"],
      [{ lr: 0.1, weightDecay: Number.POSITIVE_INFINITY }, "SGD: weightDecay must be a finite number ≥ 0"],
    ] as const) {
      expect(() => new SGD([param()], options as never), JSON.stringify(options)).toThrow(message);
    }
  });

  it("refuse parameters that are not a list of tensors: a model passed for its parameters, numbers", () => {
    const model = new Linear(2, 2);
    expect(() => new Adam(model as never)).toThrow(
      "Adam: params must be a list of tensors (model.parameters()), got a Linear",
    );
    expect(() => new SGD([1, 2] as never, { lr: 0.1 })).toThrow(
      "SGD: parameter 0 is a number (1), not a Tensor",
    );
    expect(() => new Adam(model.parameters())).not.toThrow();
  });

  it("loadStateDict refuses a step that is not a whole number, a non-tensor, and float64 narrowed into float32", () => {
    const opt = new Adam([param()]);
    const { buffers } = opt.stateDict();
    expect(() => opt.loadStateDict({ step: Number.NaN, buffers })).toThrow(
      "Adam.loadStateDict: step must be a whole number from 0, got NaN",
    );
    expect(() => opt.loadStateDict({ step: 1, buffers: { ...buffers, m: [3 as never] } })).toThrow(
      "Adam.loadStateDict: m[0] is a number in the state, not a Tensor",
    );
    expect(() =>
      opt.loadStateDict({ step: 1, buffers: { ...buffers, v: [zeros([2], { dtype: "float64" })] } }),
    ).toThrow(
      'Adam.loadStateDict: v[0] is float64 in the state but float32 here, and converting may round or overflow; convert it first with .to("float32") if that is meant',
    );
    // Nothing was changed by the refused loads.
    expect(opt.stateDict().step).toBe(0);

    const layer = new Linear(2, 2);
    const state = layer.stateDict();
    expect(() => layer.loadStateDict({ ...state, bias: state.bias.to("float64") })).toThrow(
      "loadStateDict: bias is float64 in the state but float32 here",
    );
    // Widening loses nothing: float32 into a float64 model is taken.
    const wide = new Linear(2, 2, { dtype: "float64" });
    expect(() => wide.loadStateDict(state)).not.toThrow();
  });
});

describe("the VAE and its evaluation", () => {
  it("BernoulliVAE names the size in its config that is not a positive integer", () => {
    expect(() => new BernoulliVAE({ ...tinyConfig, latentDim: 0 })).toThrow(
      "BernoulliVAE: config.latentDim must be a positive integer, got 0",
    );
    expect(() => new BernoulliVAE({ ...tinyConfig, encUnits: 2.5 })).toThrow(
      "config.encUnits must be a positive integer",
    );
    expect(() => new BernoulliVAE(undefined as never)).toThrow(
      "config.inputDim must be a positive integer, got undefined",
    );
  });

  it("evaluateElbo refuses a batch of 0 (it looped for ever); evaluateIwae a k, images or rows of 0", async () => {
    const vae = new BernoulliVAE(tinyConfig, { generator: new Generator(1) });
    const data = tinyDataset(4);
    const generator = new Generator(2);
    await expect(evaluateElbo(vae, data, { batchSize: 0, generator })).rejects.toThrow(
      "evaluateElbo: batchSize must be a positive integer, got 0",
    );
    for (const [options, name] of [
      [{ k: 0, images: 2 }, "k"],
      [{ k: 2, images: 0 }, "images"],
      [{ k: 2.5, images: 2 }, "k"],
      [{ k: 2, images: 2, rowsPerBatch: 0 }, "rowsPerBatch"],
    ] as const) {
      await expect(evaluateIwae(vae, data, { ...options, generator }), name).rejects.toThrow(
        `evaluateIwae: ${name} must be a positive integer`,
      );
    }
    expect((await evaluateElbo(vae, data, { batchSize: 3, generator })).images).toBe(4);
  });
});
