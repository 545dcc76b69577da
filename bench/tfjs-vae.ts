/**
 * The reference VAE in TensorFlow.js, the peer that `npm run bench` (Node) and the browser figures
 * page time against elbo: the same layers (784–200–10–200–784, ReLU, PyTorch's uniform init), the
 * same loss (BCE from logits + the Gaussian KL, summed over the batch) and Adam. Takes the `tf`
 * namespace, so that Node's tfjs and a page's bundled tfjs both use it.
 */
import type * as tfTypes from "@tensorflow/tfjs-core";

export interface TfjsVaeShape {
  batch: number;
  pixels: number;
  hidden: number;
  latent: number;
}

export interface TfjsVae {
  /** One Adam step on a batch of `shape.batch` images; returns the batch's summed loss (the caller disposes it). */
  step(x: tfTypes.Tensor2D): tfTypes.Scalar;
  /** Free the weights and the optimizer's state. */
  dispose(): void;
}

export function tfjsVae(tf: typeof tfTypes, { batch, pixels, hidden, latent }: TfjsVaeShape): TfjsVae {
  const init = (shape: [number, number] | [number], fanIn: number) =>
    tf.variable(tf.randomUniform(shape, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn), "float32", 1));
  const layer = (inputs: number, outputs: number) => ({
    w: init([outputs, inputs], inputs),
    b: init([outputs], inputs),
  });
  const fc1 = layer(pixels, hidden);
  const fcMu = layer(hidden, latent);
  const fcLogvar = layer(hidden, latent);
  const fc3 = layer(latent, hidden);
  const fc4 = layer(hidden, pixels);
  const linear = (x: tfTypes.Tensor2D, l: { w: tfTypes.Variable; b: tfTypes.Variable }) =>
    tf.add(tf.matMul(x, l.w as tfTypes.Tensor2D, false, true), l.b) as tfTypes.Tensor2D;
  const optimizer = tf.train.adam(1e-3);
  const step = (x: tfTypes.Tensor2D) => {
    const cost = optimizer.minimize(() => {
      const h = tf.relu(linear(x, fc1));
      const mu = linear(h, fcMu);
      const logvar = linear(h, fcLogvar);
      const z = tf.add(
        mu,
        tf.mul(tf.exp(tf.mul(logvar, 0.5)), tf.randomNormal([batch, latent])),
      ) as tfTypes.Tensor2D;
      const logits = linear(tf.relu(linear(z, fc3)), fc4);
      const bce = tf.sum(tf.sub(tf.softplus(logits), tf.mul(x, logits)));
      const kl = tf.mul(tf.sum(tf.sub(tf.sub(tf.add(logvar, 1), tf.square(mu)), tf.exp(logvar))), -0.5);
      return tf.add(bce, kl) as tfTypes.Scalar;
    }, true);
    if (cost === null) throw new Error("tfjs VAE step: minimize returned no cost");
    return cost;
  };
  const dispose = () => {
    optimizer.dispose();
    tf.dispose([fc1, fcMu, fcLogvar, fc3, fc4].flatMap((l) => [l.w, l.b]));
  };
  return { step, dispose };
}
