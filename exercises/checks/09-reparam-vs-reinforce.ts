import { Generator, noGrad, randn, type Tensor } from "../../src/index.ts";
import { f64 } from "./arbitraries.ts";
import { expectClose, expectShape, expectTensor, exported } from "./assertions.ts";
import { type Exercise, Failure, type StudentModule } from "./verdict.ts";

type Reparameterized = (f: (z: Tensor) => Tensor, mu: Tensor, logvar: Tensor, eps: Tensor) => Tensor;
type Score = (fValues: Tensor, eps: Tensor, logvar: Tensor) => Tensor;

// The problem: f(z) = −Σ_d (z − c)², whose expectation under N(μ, σ²) has gradient −2(μ − c).
const c = f64([1, 1], [2]);
const f = (z: Tensor) => z.sub(c).pow(2).sum(1).neg();
const mu = f64([0.5, -1], [2]);
const logvar = f64([1, -1], [2]);
const exact = [-2 * (0.5 - 1), -2 * (-1 - 1)];
const S = 20_000;

/** Both estimators' per-sample gradients on S shared draws of ε. */
function estimates(student: StudentModule): { reparam: number[]; score: number[] } {
  const reparameterized = exported<Reparameterized>(student, "reparameterizedGradients");
  const score = exported<Score>(student, "scoreFunctionGradients");
  const eps = randn([S, 2], { dtype: "float64", generator: new Generator(2) });
  const r = expectTensor(reparameterized(f, mu, logvar, eps), "reparameterizedGradients");
  const fValues = noGrad(() => f(mu.add(logvar.mul(0.5).exp().mul(eps))));
  const s = expectTensor(score(fValues, eps, logvar), "scoreFunctionGradients");
  expectShape(r, [S, 2], "reparameterizedGradients");
  expectShape(s, [S, 2], "scoreFunctionGradients");
  return { reparam: Array.from(r.dataSync()), score: Array.from(s.dataSync()) };
}

/** Per coordinate: the mean, its standard error and the per-sample variance. */
function stats(g: number[]): { mean: number; se: number; variance: number }[] {
  return [0, 1].map((j) => {
    const column = g.filter((_, i) => i % 2 === j);
    const mean = column.reduce((a, b) => a + b, 0) / S;
    const variance = column.reduce((a, b) => a + (b - mean) ** 2, 0) / (S - 1);
    return { mean, se: Math.sqrt(variance / S), variance };
  });
}

function unbiased(name: string, g: number[]): string {
  const columns = stats(g);
  columns.forEach(({ mean, se }, j) => {
    if (Math.abs(mean - exact[j]) > 4 * se) {
      throw new Failure(
        `${name}: the mean of coordinate ${j} is ${mean.toFixed(3)} ± ${se.toFixed(3)}, but the exact gradient is ${exact[j]}`,
      );
    }
  });
  return `${name}: ${columns.map((s) => `${s.mean.toFixed(3)} ± ${s.se.toFixed(3)}`).join(", ")} (exact ${exact.join(", ")})`;
}

export const exercise: Exercise = {
  id: "09-reparam-vs-reinforce",
  chapter: 9,
  title: "The reparameterization gradient against REINFORCE",
  teaches:
    "two unbiased gradient estimators of an expectation, and why the one that differentiates f has far less variance",
  checks: [
    {
      name: "two samples worked by hand: f(z) = z², μ = 0, σ = 1, ε = ±1",
      hint: "reparameterized: ∂f/∂μ at z = μ + σε, here 2z; score function: f(z)·ε/σ",
      run: (student) => {
        const reparameterized = exported<Reparameterized>(student, "reparameterizedGradients");
        const score = exported<Score>(student, "scoreFunctionGradients");
        const [m, l, eps] = [f64([0], [1]), f64([0], [1]), f64([1, -1], [2, 1])];
        const square = (z: Tensor) => z.pow(2).sum(1);
        expectClose(
          expectTensor(reparameterized(square, m, l, eps), "reparameterizedGradients").dataSync(),
          [2, -2],
          "the reparameterized rows",
        );
        expectClose(
          expectTensor(score(f64([1, 1], [2]), eps, l), "scoreFunctionGradients").dataSync(),
          [1, -1],
          "the score-function rows",
        );
      },
    },
    {
      name: "the reparameterized estimate is unbiased",
      hint: "copies of μ per sample as one leaf of shape [S, d]; z = copies + σ ⊙ ε; backward of Σ f(z); read the copies' .grad",
      run: (student) => unbiased("reparameterized", estimates(student).reparam),
    },
    {
      name: "the score-function estimate is unbiased",
      hint: "∇μ log q(z) = (z − μ)/σ² = ε/σ: multiply each f(z_s) by its ε_s / σ",
      run: (student) => unbiased("score function", estimates(student).score),
    },
    {
      name: "the reparameterized estimate has less variance",
      hint: "both must be right first; then the variance is what it is",
      run: (student) => {
        const { reparam, score } = estimates(student);
        const total = (g: number[]) => stats(g).reduce((a, s) => a + s.variance, 0);
        const [vr, vs] = [total(reparam), total(score)];
        if (!(vr < vs))
          throw new Failure(
            `per-sample variance: reparameterized ${vr.toFixed(1)}, score function ${vs.toFixed(1)}`,
          );
        return `per-sample variance (sum over 2 coordinates): reparameterized ${vr.toFixed(1)}, score function ${vs.toFixed(1)}, ${(vs / vr).toFixed(1)}× more`;
      },
    },
  ],
};
