/** The graph the tutorial draws in chapter 6 (examples/06-vae.ts), for tests of how graphs are drawn. */
import { BernoulliVAE, Generator, type Tensor, tensor } from "../../src/index.ts";

/** The tiny VAE of examples/06-vae.ts (4 pixels, 2 latents, 3 hidden units, 2 images) after one backward. */
export function tinyVaeLoss(): Tensor {
  const model = new BernoulliVAE(
    { inputDim: 4, latentDim: 2, encUnits: 3, decUnits: 3 },
    { generator: new Generator(2) },
  );
  for (const [name, parameter] of model.namedParameters()) parameter.name = name;
  const out = model.forward(
    tensor([
      [0, 1, 1, 0],
      [1, 0.5, 0, 1],
    ]),
    { generator: new Generator(3) },
  );
  out.loss.backward();
  return out.loss;
}
