import fc from "fast-check";
import { type Tensor, tensor } from "../../src/index.ts";
import { f64, valuesArb } from "./arbitraries.ts";
import {
  expectClose,
  expectGradcheck,
  expectGradgradcheck,
  expectOp,
  expectTensor,
  exported,
  holds,
} from "./assertions.ts";
import type { Exercise } from "./verdict.ts";

type LogSigmoid = (x: Tensor) => Tensor;

/** log σ(v) in float64, exactly as far as float64 goes: −log1p(e^−v) or v − log1p(eᵛ). */
const exactLogSigmoid = (v: number) => (v >= 0 ? -Math.log1p(Math.exp(-v)) : v - Math.log1p(Math.exp(v)));
const exactSlope = (v: number) => 1 / (1 + Math.exp(v)); // σ(−v)

const extremes = [-100, -30, -1, 0, 1, 30, 100];

export const exercise: Exercise = {
  id: "04-log-sigmoid",
  chapter: 4,
  title: "A numerically stable log-sigmoid",
  teaches:
    "writing an op whose forward is stable in float32 and whose hand-written VJP is itself differentiable",
  checks: [
    {
      name: "one op named logSigmoid",
      hint: 'return applyOp("logSigmoid", [x], forward, vjp)',
      run: (student) => {
        const logSigmoid = exported<LogSigmoid>(student, "logSigmoid");
        const x = tensor([0.5], { requiresGrad: true });
        expectOp(expectTensor(logSigmoid(x), "logSigmoid(x)"), "logSigmoid");
      },
    },
    {
      name: "float32 values at ±30 and ±100 to float32's precision",
      hint: "log(sigmoid(x)) gives 0 at x = 30 in float32: compute −softplus(−x) instead",
      run: (student) => {
        const logSigmoid = exported<LogSigmoid>(student, "logSigmoid");
        const out = expectTensor(logSigmoid(tensor(extremes)), "logSigmoid(float32 x)");
        // atol 1e-40: e^−100 ≈ 3.7e-44 is a float32 subnormal, held to far fewer digits.
        expectClose(out.dataSync(), extremes.map(exactLogSigmoid), `logSigmoid(float32 [${extremes}])`, {
          atol: 1e-40,
          rtol: 1e-6,
        });
      },
    },
    {
      name: "float32 gradients at ±30 and ±100, finite and right",
      hint: "the derivative is σ(−x): compute it directly, never as 1 − σ(x), which rounds to 0 at x = 30",
      run: (student) => {
        const logSigmoid = exported<LogSigmoid>(student, "logSigmoid");
        const x = tensor(extremes, { requiresGrad: true });
        logSigmoid(x).sum().backward();
        expectClose(
          x.grad!.dataSync(),
          extremes.map(exactSlope),
          `d logSigmoid/dx at float32 [${extremes}]`,
          {
            atol: 1e-40,
            rtol: 1e-6,
          },
        );
      },
    },
    {
      name: "gradcheck at random points and at ±30",
      hint: "the VJP returns g times σ(−x), as a tensor op",
      run: (student) => {
        const logSigmoid = exported<LogSigmoid>(student, "logSigmoid");
        expectGradcheck(logSigmoid, [f64([-30, -2.5, 0, 1.5, 30], [5])], { name: "logSigmoid" });
        holds(
          fc.integer({ min: 1, max: 6 }).chain((n) => valuesArb(n, -8, 8)),
          (v) => expectGradcheck(logSigmoid, [f64(v, [v.length])], { name: "logSigmoid" }),
        );
      },
    },
    {
      name: "gradgradcheck at random points and at ±30",
      hint: "build the VJP from tensor ops (x.neg().sigmoid()), never from numbers read out of x",
      run: (student) => {
        const logSigmoid = exported<LogSigmoid>(student, "logSigmoid");
        expectGradgradcheck(logSigmoid, [f64([-30, -2.5, 0, 1.5, 30], [5])], { name: "logSigmoid" });
        holds(
          fc.integer({ min: 1, max: 5 }).chain((n) => valuesArb(n, -8, 8)),
          (v) => expectGradgradcheck(logSigmoid, [f64(v, [v.length])], { name: "logSigmoid" }),
          20,
        );
      },
    },
  ],
};
