/**
 * TensorFlow.js in the same page setting, for the figures only (not a test): one VAE training step
 * (784–200–10, batch 64, Adam, the loss of bench/step.ts) on tfjs' wasm or webgl backend, timed like
 * the elbo page (median of the steps after the first, loss read back).  ?backend=wasm | webgl
 */
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";

const [BATCH, PIXELS, HIDDEN, LATENT] = [64, 784, 200, 10];

async function main(): Promise<{ backend: string; msPerStep: number; losses: number[] }> {
  const backend =
    new URLSearchParams((globalThis as unknown as { location: { search: string } }).location.search).get(
      "backend",
    ) ?? "wasm";
  setWasmPaths("/tfjs/");
  await tf.setBackend(backend);
  await tf.ready();
  const init = (shape: [number, number] | [number], fanIn: number) =>
    tf.variable(tf.randomUniform(shape, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn), "float32", 1));
  const layer = (inputs: number, outputs: number) => ({
    w: init([outputs, inputs], inputs),
    b: init([outputs], inputs),
  });
  const [fc1, fcMu, fcLogvar, fc3, fc4] = [
    layer(PIXELS, HIDDEN),
    layer(HIDDEN, LATENT),
    layer(HIDDEN, LATENT),
    layer(LATENT, HIDDEN),
    layer(HIDDEN, PIXELS),
  ];
  const linear = (x: tf.Tensor2D, l: { w: tf.Variable; b: tf.Variable }) =>
    tf.add(tf.matMul(x, l.w as tf.Tensor2D, false, true), l.b) as tf.Tensor2D;
  const optimizer = tf.train.adam(1e-3);
  const x = tf.randomUniform([BATCH, PIXELS], 0, 1, "float32", 2) as tf.Tensor2D;
  const losses: number[] = [];
  const ms: number[] = [];
  for (let s = 0; s < 8; s++) {
    const start = performance.now();
    const cost = optimizer.minimize(() => {
      const h = tf.relu(linear(x, fc1));
      const mu = linear(h, fcMu);
      const logvar = linear(h, fcLogvar);
      const z = tf.add(
        mu,
        tf.mul(tf.exp(tf.mul(logvar, 0.5)), tf.randomNormal([BATCH, LATENT])),
      ) as tf.Tensor2D;
      const logits = linear(tf.relu(linear(z, fc3)), fc4);
      const bce = tf.sum(tf.sub(tf.softplus(logits), tf.mul(x, logits)));
      const kl = tf.mul(tf.sum(tf.sub(tf.sub(tf.add(logvar, 1), tf.square(mu)), tf.exp(logvar))), -0.5);
      return tf.add(bce, kl) as tf.Scalar;
    }, true);
    losses.push((await cost!.data())[0] / BATCH);
    cost!.dispose();
    ms.push(performance.now() - start);
  }
  const rest = ms.slice(1).sort((a, b) => a - b);
  return { backend: tf.getBackend(), msPerStep: rest[Math.floor(rest.length / 2)], losses };
}

const page = globalThis as { tfjsResults?: unknown };
main().then(
  (r) => {
    page.tfjsResults = r;
  },
  (e: unknown) => {
    page.tfjsResults = { error: String(e) };
  },
);
