/**
 * Functional transforms: derivatives as functions of the same inputs, as in JAX.
 *
 *   grad(f)(x)                 ∇f(x) for a scalar f          grad(grad(f)) for f'' and so on
 *   valueAndGrad(f)(x)         f(x) and ∇f(x) from one pass
 *   vjp(f)(...xs)              f(xs) and the pullback u ↦ uᵀJ (reverse mode)
 *   jvp(f)(xs, vs)             f(xs) and J·v (forward mode, see jvp)
 *   hvp(f)(x, v)               the Hessian times v, without forming the Hessian
 *   hessian(f)(x)              the whole Hessian, shape [...x.shape, ...x.shape], for small x
 *
 * Each is built on `gradients` (engine.ts). When a graph is being recorded (outside noGrad) the
 * derivatives they return are recorded too, so they compose to any order and can be backpropagated
 * like any other tensor; under noGrad they are plain values.
 */
import { formatShape, sameShape } from "../kernels/shape.ts";
import { enableGrad, gradients, isGradEnabled } from "./engine.ts";
import { zerosLike } from "./ops/constants.ts";
import { cast } from "./ops/elementwise.ts";
import { stack } from "./ops/indexing.ts";
import { expectTensor, Tensor } from "./tensor.ts";

type Fn = (...args: Tensor[]) => Tensor;

/**
 * A tensor to differentiate with respect to, with x's values. When the derivatives are recorded
 * and x has a graph of its own, it is an identity op of x, so that outer derivatives reach x too.
 */
function variable(x: Tensor, recorded: boolean): Tensor {
  expectTensor("grad", "an argument of f", x);
  if (recorded && x.requiresGrad) return cast(x, x.dtype);
  const v = x.detach();
  v.requiresGrad = true;
  return v;
}

/** d(root)/d(each of wrt), zeros where root does not depend on one. */
function gradientsOrZeros(
  root: Tensor,
  wrt: readonly Tensor[],
  seed: Tensor | undefined,
  createGraph: boolean,
) {
  return gradients(root, wrt, seed, { createGraph }).map((g, i) => g ?? zerosLike(wrt[i]));
}

/** f(...args) and its gradients with respect to the arguments numbered `wrt`. */
function evaluateWithGradients(f: Fn, wrt: readonly number[], args: readonly Tensor[]) {
  for (const i of wrt) {
    if (!(Number.isInteger(i) && i >= 0 && i < args.length)) {
      throw new Error(`grad: argument ${i} to differentiate does not exist (f got ${args.length} arguments)`);
    }
  }
  const recorded = isGradEnabled();
  return enableGrad(() => {
    const xs = args.map((a, i) => (wrt.includes(i) ? variable(a, recorded) : a));
    const value = f(...xs);
    expectTensor("grad", "what f returned", value);
    if (value.size !== 1) {
      throw new Error(
        `grad: f must return a one-element tensor (a scalar), got shape ${formatShape(value.shape)}; for other outputs use vjp or jvp`,
      );
    }
    const grads = gradientsOrZeros(
      value,
      wrt.map((i) => xs[i]),
      undefined,
      recorded,
    );
    return { value, grads };
  });
}

/** f(...args) and its gradient with respect to argument `argnums` (or to each of a list of them). */
export function valueAndGrad(f: Fn, argnums?: number): (...args: Tensor[]) => { value: Tensor; grad: Tensor };
export function valueAndGrad(
  f: Fn,
  argnums: readonly number[],
): (...args: Tensor[]) => { value: Tensor; grad: Tensor[] };
export function valueAndGrad(f: Fn, argnums: number | readonly number[] = 0) {
  return (...args: Tensor[]) => {
    const { value, grads } = evaluateWithGradients(
      f,
      typeof argnums === "number" ? [argnums] : argnums,
      args,
    );
    return { value, grad: typeof argnums === "number" ? grads[0] : grads };
  };
}

/** The gradient of a scalar function with respect to argument `argnums` (default the first), or a list of them. */
export function grad(f: Fn, argnums?: number): (...args: Tensor[]) => Tensor;
export function grad(f: Fn, argnums: readonly number[]): (...args: Tensor[]) => Tensor[];
export function grad(f: Fn, argnums: number | readonly number[] = 0) {
  return (...args: Tensor[]) => {
    const { grads } = evaluateWithGradients(f, typeof argnums === "number" ? [argnums] : argnums, args);
    return typeof argnums === "number" ? grads[0] : grads;
  };
}

/**
 * Reverse mode: f(...xs) and its pullback, which maps a cotangent u (shaped like the output) to
 * uᵀ·∂f/∂x for every argument. The pullback may be called many times.
 */
export function vjp(f: Fn): (...args: Tensor[]) => { value: Tensor; pullback: (u: Tensor) => Tensor[] } {
  return (...args) => {
    const recorded = isGradEnabled();
    return enableGrad(() => {
      const xs = args.map((a) => variable(a, recorded));
      const value = f(...xs);
      expectTensor("vjp", "what f returned", value);
      return { value, pullback: (u: Tensor) => gradientsOrZeros(value, xs, u, recorded) };
    });
  };
}

/**
 * Forward mode: f(...xs) and J·v, the derivative of f along the tangents v (one per argument).
 *
 * elbo's ops have VJPs only, so J·v comes from two reverse passes (the "double-vjp trick"): with a
 * dummy cotangent u, the pullback g(u) = Jᵀu is linear in u, so the gradient of ⟨g(u), v⟩ with
 * respect to u is (Jᵀ)ᵀv = J·v, exactly. It costs about three times a forward pass instead of
 * one, and needs nothing per op, because every VJP is itself made of differentiable ops. Where
 * the outputs are many and the inputs few, it is still the cheaper direction.
 */
export function jvp(
  f: Fn,
): (primals: readonly Tensor[], tangents: readonly Tensor[]) => { value: Tensor; tangent: Tensor } {
  return (primals, tangents) => {
    if (tangents.length !== primals.length) {
      throw new Error(`jvp: got ${tangents.length} tangents for ${primals.length} primals (one each)`);
    }
    primals.forEach((p, i) => {
      const t = tangents[i];
      if (t.dtype !== p.dtype || !sameShape(t.shape, p.shape)) {
        throw new Error(
          `jvp: tangent ${i} is ${t.dtype} ${formatShape(t.shape)} but its primal is ${p.dtype} ${formatShape(p.shape)}`,
        );
      }
    });
    const recorded = isGradEnabled();
    return enableGrad(() => {
      const xs = primals.map((p) => variable(p, recorded));
      const value = f(...xs);
      expectTensor("jvp", "what f returned", value);
      const u = zerosLike(value);
      u.requiresGrad = true;
      const pulled = gradients(value, xs, u, { createGraph: true });
      let along: Tensor | null = null; // ⟨Jᵀu, v⟩
      for (const [i, g] of pulled.entries()) {
        if (g === null) continue;
        const term = g.mul(tangents[i]).sum();
        along = along === null ? term : along.add(term);
      }
      const tangent =
        along === null ? zerosLike(value) : gradientsOrZeros(along, [u], undefined, recorded)[0];
      return { value, tangent };
    });
  };
}

/** H·v for a scalar f of one tensor: the gradient of ⟨∇f(x), v⟩ (reverse over reverse). */
export function hvp(f: (x: Tensor) => Tensor): (x: Tensor, v: Tensor) => Tensor {
  const gradient = grad(f);
  return (x, v) => grad((y: Tensor) => gradient(y).mul(v).sum())(x);
}

/**
 * The Hessian of a scalar f of one tensor, of shape [...x.shape, ...x.shape]: row i is the
 * gradient of ∂f/∂x_i, one reverse pass per element of x, so keep x small.
 */
export function hessian(f: (x: Tensor) => Tensor): (x: Tensor) => Tensor {
  return (x) => {
    const recorded = isGradEnabled();
    return enableGrad(() => {
      const xv = variable(x, recorded);
      const g = grad(f)(xv).reshape([x.size]);
      const n = x.size;
      const rows: Tensor[] = [];
      for (let i = 0; i < n; i++) {
        const basis = x.dtype === "float64" ? new Float64Array(n) : new Float32Array(n);
        basis[i] = 1;
        const e = new Tensor(x.backend.fromArray(basis), [n], x.backend);
        rows.push(gradientsOrZeros(g, [xv], e, recorded)[0].reshape([n]));
      }
      const h = n === 0 ? zerosLike(x).reshape([0, 0]) : stack(rows, 0);
      return h.reshape([...x.shape, ...x.shape]);
    });
  };
}
