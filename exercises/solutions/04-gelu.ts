/** Reference solution of exercises/04-gelu.ts. */
import { applyOp, type Tensor } from "../../src/index.ts";

const c = Math.sqrt(2 / Math.PI);
const k = 0.044715;

export function gelu(x: Tensor): Tensor {
  const tanhU = () => x.pow(3).mul(k).add(x).mul(c).tanh();
  return applyOp(
    "gelu",
    [x],
    () => x.mul(tanhU().add(1)).mul(0.5),
    (g) => [
      () => {
        // d gelu/dx = ½(1 + tanh u) + ½·x·(1 − tanh² u)·c·(1 + 3k·x²)
        const t = tanhU();
        const du = x
          .pow(2)
          .mul(3 * k)
          .add(1)
          .mul(c);
        const slope = t
          .add(1)
          .mul(0.5)
          .add(x.mul(t.mul(t).neg().add(1)).mul(du).mul(0.5));
        return g.mul(slope);
      },
    ],
  );
}
