/** Planted wrong answer: du/dx taken as c, forgetting the derivative of the cubic term. */
import { applyOp, type Tensor } from "../../../src/index.ts";

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
        const t = tanhU();
        return g.mul(
          t
            .add(1)
            .mul(0.5)
            .add(x.mul(t.mul(t).neg().add(1)).mul(c).mul(0.5)),
        );
      },
    ],
  );
}
