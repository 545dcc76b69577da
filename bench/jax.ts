/**
 * The VAE training step in jax-js (`@jax-js/jax`, a devDependency used only by the bench), the
 * strongest JavaScript peer: the same layers, loss and Adam as src/vae, on its wasm device, with
 * the whole step — forward, `valueAndGrad`, Adam — under one `jit`, so that jax-js fuses what it
 * can. Weights are stored in×out (no transposes); the noise ε comes in as an argument.
 */
import type { BenchData } from "./step.ts";
import { firstAndMedian, type StepTiming } from "./timing.ts";

type Jax = typeof import("@jax-js/jax");
type JaxArray = import("@jax-js/jax").Array;
type Params = { [name: string]: JaxArray };

export async function jaxStep(
  data: BenchData,
  quick: boolean,
  sizes: { batch: number; pixels: number; hidden: number; latent: number },
): Promise<StepTiming> {
  const jax: Jax = await import("@jax-js/jax");
  const { numpy: np, nn, jit, valueAndGrad, tree } = jax;
  await jax.init("wasm");
  jax.defaultDevice("wasm");
  const { batch, pixels, hidden, latent } = sizes;
  let seed = 1;
  const uniform = (n: number, bound: number) =>
    Float32Array.from({ length: n }, () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return (2 * (seed / 2 ** 32) - 1) * bound;
    });
  const layer = (inputs: number, outputs: number, name: string): Params => ({
    [`w${name}`]: np.array(uniform(inputs * outputs, 1 / Math.sqrt(inputs))).reshape([inputs, outputs]),
    [`b${name}`]: np.array(uniform(outputs, 1 / Math.sqrt(inputs))),
  });
  let params: Params = {
    ...layer(pixels, hidden, "1"),
    ...layer(hidden, latent, "m"),
    ...layer(hidden, latent, "l"),
    ...layer(latent, hidden, "3"),
    ...layer(hidden, pixels, "4"),
  };
  let m: Params = tree.map((p: JaxArray) => np.zerosLike(p.ref), params) as Params;
  let v: Params = tree.map((p: JaxArray) => np.zerosLike(p.ref), params) as Params;

  const loss = (p: Params, x: JaxArray, eps: JaxArray): JaxArray => {
    const h = nn.relu(np.matmul(x.ref, p.w1).add(p.b1));
    const mu = np.matmul(h.ref, p.wm).add(p.bm);
    const logvar = np.matmul(h, p.wl).add(p.bl);
    const z = mu.ref.add(np.exp(logvar.ref.mul(0.5)).mul(eps));
    const logits = np.matmul(nn.relu(np.matmul(z, p.w3).add(p.b3)), p.w4).add(p.b4);
    const bce = np.sum(nn.softplus(logits.ref).sub(x.mul(logits)));
    const kl = np.sum(logvar.ref.add(1).sub(mu.ref.mul(mu)).sub(np.exp(logvar))).mul(-0.5);
    return bce.add(kl);
  };
  const lr = 1e-3;
  const [beta1, beta2, eps0] = [0.9, 0.999, 1e-8];
  const step = jit(
    (p: Params, mState: Params, vState: Params, x: JaxArray, noise: JaxArray, c1: JaxArray, c2: JaxArray) => {
      const [value, grads] = valueAndGrad(loss)(tree.ref(p), x, noise) as [JaxArray, Params];
      const m2 = tree.map(
        (mi: JaxArray, g: JaxArray) => mi.mul(beta1).add(g.mul(1 - beta1)),
        mState,
        tree.ref(grads),
      ) as Params;
      const v2 = tree.map(
        (vi: JaxArray, g: JaxArray) => vi.mul(beta2).add(g.ref.mul(g).mul(1 - beta2)),
        vState,
        grads,
      ) as Params;
      const p2 = tree.map(
        (pi: JaxArray, mi: JaxArray, vi: JaxArray) =>
          pi.sub(
            mi
              .div(c1.ref)
              .div(np.sqrt(vi.div(c2.ref)).add(eps0))
              .mul(lr),
          ),
        p,
        tree.ref(m2),
        tree.ref(v2),
      ) as Params;
      c1.dispose();
      c2.dispose();
      return [value, p2, m2, v2];
    },
  );
  const xs = data.batches.map((d) => np.array(d).reshape([batch, pixels]));
  const noises = data.noise.map((d) => np.array(d).reshape([batch, latent]));
  let s = 0;
  const run = async () => {
    const t = s + 1;
    const [value, p2, m2, v2] = step(
      params,
      m,
      v,
      xs[s % xs.length].ref,
      noises[s % noises.length].ref,
      np.array([1 - beta1 ** t]),
      np.array([1 - beta2 ** t]),
    ) as [JaxArray, Params, Params, Params];
    s++;
    params = p2;
    m = m2;
    v = v2;
    const loss0 = (await value.data())[0];
    if (!Number.isFinite(loss0)) throw new Error(`bench step: jax-js loss ${loss0}`);
  };
  const timing = await firstAndMedian(run, {
    warmup: quick ? 2 : 10,
    minReps: quick ? 5 : 30,
    minTimeMs: quick ? 200 : 3000,
  });
  tree.dispose([params, m, v, xs, noises]);
  step.dispose();
  return timing;
}
