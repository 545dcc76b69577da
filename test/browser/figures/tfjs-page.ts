/**
 * TensorFlow.js in the same page setting, for the figures only (not a test): one VAE training step
 * (784–200–10, batch 64, Adam, the loss of bench/step.ts) on tfjs' wasm or webgl backend, timed like
 * the elbo page (median of the steps after the first, loss read back).  ?backend=wasm | webgl
 */
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { tfjsVae } from "../../../bench/tfjs-vae.ts";

const [BATCH, PIXELS, HIDDEN, LATENT] = [64, 784, 200, 10];

async function main(): Promise<{ backend: string; msPerStep: number; losses: number[] }> {
  const backend =
    new URLSearchParams((globalThis as unknown as { location: { search: string } }).location.search).get(
      "backend",
    ) ?? "wasm";
  setWasmPaths("/tfjs/");
  await tf.setBackend(backend);
  await tf.ready();
  const vae = tfjsVae(tf, { batch: BATCH, pixels: PIXELS, hidden: HIDDEN, latent: LATENT });
  const x = tf.randomUniform([BATCH, PIXELS], 0, 1, "float32", 2) as tf.Tensor2D;
  const losses: number[] = [];
  const ms: number[] = [];
  for (let s = 0; s < 8; s++) {
    const start = performance.now();
    const cost = vae.step(x);
    losses.push((await cost.data())[0] / BATCH);
    cost.dispose();
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
