import { Generator, randn, type Tensor } from "../../src/index.ts";
import { exported } from "./assertions.ts";
import { type Exercise, Failure, type StudentModule } from "./verdict.ts";

type Activation = "relu" | "tanh" | "linear";
type InitStd = (fanIn: number, activation: Activation) => number;

const apply: Record<Activation, (t: Tensor) => Tensor> = {
  relu: (t) => t.relu(),
  tanh: (t) => t.tanh(),
  linear: (t) => t,
};

/** The root mean square of a batch of 64 unit-variance inputs after 30 layers of width `width`. */
function rmsAfter30(std: number, activation: Activation, width = 128): number {
  const g = new Generator(7);
  let h = randn([64, width], { dtype: "float64", generator: g });
  for (let layer = 0; layer < 30; layer++) {
    h = apply[activation](h.matmul(randn([width, width], { dtype: "float64", std, generator: g })));
  }
  return Math.sqrt(h.mul(h).mean().item());
}

function checkSignal(student: StudentModule, activation: Activation, low: number, high: number): string {
  const initStd = exported<InitStd>(student, "initStd");
  const std = initStd(128, activation);
  if (!(std > 0 && Number.isFinite(std)))
    throw new Failure(`initStd(128, "${activation}") is ${std}, not a positive number`);
  const rms = rmsAfter30(std, activation);
  if (!(rms > low && rms < high)) {
    throw new Failure(
      `with std ${std.toPrecision(3)} the signal's rms after 30 ${activation} layers is ${rms.toExponential(2)}, expected between ${low} and ${high}`,
    );
  }
  return `std ${std.toPrecision(3)} for fan-in 128: rms ${rms.toPrecision(3)} after 30 layers`;
}

export const exercise: Exercise = {
  id: "07-init-scale",
  chapter: 7,
  title: "An initialization that keeps the signal",
  teaches:
    "why the weight scale must match the fan-in and the activation, or signals vanish or explode with depth",
  checks: [
    {
      name: "linear layers: the signal keeps its size through 30 layers",
      hint: "fanIn·std² = 1: std = 1/√fanIn",
      run: (student) => checkSignal(student, "linear", 0.5, 2),
    },
    {
      name: "relu layers: the signal keeps its size through 30 layers",
      hint: "relu keeps half the variance: fanIn·std²·½ = 1, std = √(2/fanIn) (He)",
      run: (student) => checkSignal(student, "relu", 0.5, 2),
    },
    {
      name: "tanh layers: the signal survives 30 layers",
      hint: "near 0 tanh is the identity: std = 1/√fanIn (Glorot); a third of that variance halves the signal every layer",
      run: (student) => checkSignal(student, "tanh", 0.05, 1),
    },
    {
      name: "the scale follows the fan-in",
      hint: "std must fall like 1/√fanIn: four times the inputs, half the std",
      run: (student) => {
        const initStd = exported<InitStd>(student, "initStd");
        for (const activation of ["relu", "tanh", "linear"] as const) {
          const ratio = initStd(64, activation) / initStd(256, activation);
          if (Math.abs(ratio - 2) > 1e-9)
            throw new Failure(
              `initStd(64, "${activation}") / initStd(256, "${activation}") is ${ratio}, expected 2`,
            );
        }
      },
    },
  ],
};
