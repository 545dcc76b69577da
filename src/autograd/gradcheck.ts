/**
 * gradcheck: compare the gradients that backward() computes with centered finite differences,
 *   ∂f/∂x_j ≈ (f(x + h·e_j) − f(x − h·e_j)) / 2h,
 * in float64, where the truncation error is O(h²) and rounding does not swamp it.
 *
 * A function with a non-scalar output is checked through a fixed random projection, L = Σ v ⊙ f(x):
 * backward then checks exactly the vector-Jacobian product vᵀJ that an op's backward computes.
 *
 * gradgradcheck does the same one order up: it checks the derivative of the gradient (computed
 * with backward({ createGraph: true })) against finite differences of the gradient.
 */
import { formatShape, stridesOf } from "../kernels/shape.ts";
import { noGrad } from "./grad-mode.ts";
import { Generator } from "./random.ts";
import { fromTypedArray, type Tensor } from "./tensor.ts";
import { grad } from "./transforms.ts";

export interface GradcheckOptions {
  /** Finite-difference step. */
  eps?: number;
  /** An element passes when |analytic − numeric| ≤ atol + rtol·|numeric| (as numpy.allclose). */
  atol?: number;
  rtol?: number;
  /** Seed of the random projection of a non-scalar output (and of gradgradcheck's weights). */
  seed?: number;
  /** What the messages call the function; its own `.name` when not given. */
  name?: string;
}

export interface InputReport {
  input: number;
  shape: number[];
  /** Largest |analytic − numeric| over the elements of this input. */
  maxAbsError: number;
  /**
   * Largest relative error |analytic − numeric| / |numeric| over the elements: the relative error
   * that rtol bounds (Infinity where numeric is 0 and analytic is not; 0 where both are 0).
   */
  maxRelError: number;
  /** The element that fails the tolerance by the most (or comes closest to failing when all pass). */
  worstIndex: number[];
  analytic: number;
  numeric: number;
  /** That element's |analytic − numeric|, its relative error, and its bound atol + rtol·|numeric|. */
  absError: number;
  relError: number;
  bound: number;
  passed: boolean;
}

export interface GradcheckReport {
  passed: boolean;
  inputs: InputReport[];
  /**
   * One line per failing input: the worst element, both derivatives, and that element's own
   * errors against its bound; "" when all pass.
   */
  message: string;
}

/**
 * Check the gradient of `fn` with respect to each of `inputs`. The inputs are copied to float64
 * leaves that require grad; `fn` must build its result from them with ops only (any constants it
 * uses should be float64 too).
 */
export function gradcheck(
  fn: (...inputs: Tensor[]) => Tensor,
  inputs: readonly Tensor[],
  options: GradcheckOptions = {},
): GradcheckReport {
  return compare(fn, inputs, options, {
    check: labelled("gradcheck", fn, options),
    derivative: "",
    analytic: "backward gives",
    numeric: "finite differences give",
  });
}

/**
 * Check the second derivatives of `fn`: the gradient of a random projection of its first
 * derivatives, Σᵢ ⟨∂L/∂xᵢ, wᵢ⟩ with L = f (or Σ v ⊙ f), computed by differentiating the backward
 * pass, against centered finite differences of those first derivatives, in float64 (PyTorch's
 * gradgradcheck). A VJP built from raw backend values, or one whose own derivative is wrong,
 * fails here while passing gradcheck.
 */
export function gradgradcheck(
  fn: (...inputs: Tensor[]) => Tensor,
  inputs: readonly Tensor[],
  options: GradcheckOptions = {},
): GradcheckReport {
  const randomLike = normalsFrom(new Generator(options.seed));
  const weights = inputs.map((x) => randomLike(x.shape, x.size));
  const check = labelled("gradgradcheck", fn, options);
  const firstDerivatives = grad(
    projectedToScalar(check, fn, randomLike),
    inputs.map((_, i) => i),
  );
  const projected = (...xs: Tensor[]): Tensor =>
    firstDerivatives(...xs)
      .map((g, i) => g.mul(weights[i]).sum())
      .reduce((a, b) => a.add(b));
  return compare(projected, inputs, options, {
    check,
    derivative: "second derivative: ",
    analytic: "backward of the gradient gives",
    numeric: "finite differences of the gradient give",
  });
}

/** "gradcheck(square)", or plain "gradcheck" for an anonymous function. */
function labelled(check: string, fn: { name: string }, options: GradcheckOptions): string {
  const name = options.name ?? fn.name;
  return name ? `${check}(${name})` : check;
}

/** Standard-normal float64 tensors of the shape asked for, drawn from `generator`. */
function normalsFrom(generator: Generator): (shape: readonly number[], size: number) => Tensor {
  return (shape, size) =>
    fromTypedArray(
      Float64Array.from({ length: size }, () => generator.normal()),
      shape,
    );
}

/**
 * The scalar being differentiated: `fn` itself when it has one element, else L = Σ v ⊙ fn with v
 * drawn once (by `draw`) and fixed for the whole check. fn's output is refused unless float64:
 * checked in float32, a derivative would drown in rounding.
 */
function projectedToScalar(
  check: string,
  fn: (...inputs: Tensor[]) => Tensor,
  draw: (shape: readonly number[], size: number) => Tensor,
): (...inputs: Tensor[]) => Tensor {
  let projection: Tensor | null = null;
  return (...xs) => {
    const out = fn(...xs);
    if (out.dtype !== "float64")
      throw new Error(`${check}: fn returned ${out.dtype}; build it from the float64 inputs it is given`);
    if (out.size === 1) return out.sum();
    projection ??= draw(out.shape, out.size);
    return out.mul(projection).sum();
  };
}

interface Wording {
  check: string;
  derivative: string;
  analytic: string;
  numeric: string;
}

function compare(
  fn: (...inputs: Tensor[]) => Tensor,
  inputs: readonly Tensor[],
  options: GradcheckOptions,
  words: Wording,
): GradcheckReport {
  const eps = options.eps ?? 1e-6;
  const atol = options.atol ?? 1e-5;
  const rtol = options.rtol ?? 1e-3;
  const values = inputs.map((x) => Float64Array.from(noGrad(() => x.to("float64")).dataSync()));
  // Leaves that require grad; the perturbed evaluations run under noGrad, which records nothing.
  const leaves = (arrays: Float64Array[]) =>
    arrays.map((a, i) => fromTypedArray(a, inputs[i].shape, { requiresGrad: true }));
  const objective = projectedToScalar(words.check, fn, normalsFrom(new Generator(options.seed)));

  const x = leaves(values);
  const value = objective(...x);
  if (value.requiresGrad) value.backward(); // else it does not depend on x: every derivative is 0
  const analytic = x.map((t) =>
    t.grad === null ? new Float64Array(t.size) : Float64Array.from(t.grad.dataSync()),
  );

  const reports = values.map((v, i): InputReport => {
    let worst = { score: Number.NEGATIVE_INFINITY, j: 0, a: 0, n: 0, abs: 0, rel: 0, bound: 0 };
    let maxAbs = 0;
    let maxRel = 0;
    for (let j = 0; j < v.length; j++) {
      const original = v[j];
      const at = (delta: number): number => {
        v[j] = original + delta;
        const f = noGrad(() => objective(...leaves(values)).item());
        v[j] = original;
        return f;
      };
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      const a = analytic[i][j];
      // The one rule: an element passes when |a − n| ≤ atol + rtol·|n|; rel is what rtol bounds.
      const abs = Math.abs(a - numeric);
      const bound = atol + rtol * Math.abs(numeric);
      const rel = abs === 0 ? 0 : abs / Math.abs(numeric);
      maxAbs = Math.max(maxAbs, abs);
      maxRel = Math.max(maxRel, rel);
      // How far past its bound this element is (≤ 0 means it passes); NaN counts as the worst.
      const score = Number.isNaN(abs) ? Number.POSITIVE_INFINITY : abs - bound;
      if (score > worst.score) worst = { score, j, a, n: numeric, abs, rel, bound };
    }
    return {
      input: i,
      shape: [...inputs[i].shape],
      maxAbsError: maxAbs,
      maxRelError: maxRel,
      worstIndex: unravel(worst.j, inputs[i].shape),
      analytic: worst.a,
      numeric: worst.n,
      absError: worst.abs,
      relError: worst.rel,
      bound: worst.bound,
      passed: worst.score <= 0, // an empty input keeps −∞: nothing to fail
    };
  });

  const failures = reports.filter((r) => !r.passed);
  const message = failures
    .map(
      (r) =>
        `${words.check}: ${words.derivative}input ${r.input} (shape ${formatShape(r.shape)}) at index [${r.worstIndex.join(", ")}]: ` +
        `${words.analytic} ${r.analytic} but ${words.numeric} ${r.numeric}: ` +
        `abs error ${r.absError.toExponential(2)} > atol + rtol·|numeric| = ${r.bound.toExponential(2)} ` +
        `(rel error ${r.relError.toExponential(2)}; atol ${atol}, rtol ${rtol})`,
    )
    .join("\n");
  return { passed: failures.length === 0, inputs: reports, message };
}

function unravel(flat: number, shape: readonly number[]): number[] {
  const strides = stridesOf(shape);
  return strides.map((s, d) => Math.floor(flat / s) % shape[d]);
}
