/**
 * Functional transforms: derivatives as functions of the same inputs, as in JAX.
 *
 *   grad(f)(x)                 ∇f(x) for a scalar f          grad(grad(f)) for f'' and so on
 *   valueAndGrad(f)(x)         f(x) and ∇f(x) from one pass
 *   vjp(f)(...xs)              f(xs) and the pullback u ↦ uᵀJ (reverse mode)
 *   jvp(f)(xs, vs)             f(xs) and J·v (forward mode, see jvp)
 *   hvp(f)(x, v)               the Hessian times v, without forming the Hessian
 *   hessian(f)(x)              the whole Hessian, shape [...x.shape, ...x.shape], for small x
 *   jacrev(f)(x) = jacobian    the Jacobian, shape [...out.shape, ...x.shape], one VJP per output element
 *   jacfwd(f)(x)               the same Jacobian, one JVP per input element
 *
 * Each is built on `gradients` (engine.ts). When a graph is being recorded (outside noGrad) the
 * derivatives they return are recorded too, so they compose to any order and can be backpropagated
 * like any other tensor; under noGrad they are plain values.
 */
import { formatShape, sameShape } from "../kernels/shape.ts";
import { zerosLike } from "./create.ts";
import { gradients } from "./engine.ts";
import { enableGrad, isGradEnabled } from "./grad-mode.ts";
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

/** Refuse an argument number that f was not given, naming the transform. */
function checkArgnums(caller: string, wrt: readonly number[], args: readonly Tensor[]): void {
  for (const i of wrt) {
    if (!(Number.isInteger(i) && i >= 0 && i < args.length)) {
      throw new Error(
        `${caller}: argument ${i} to differentiate does not exist (f got ${args.length} arguments)`,
      );
    }
  }
}

/** f(...args) and its gradients with respect to the arguments numbered `wrt`. */
function evaluateWithGradients(f: Fn, wrt: readonly number[], args: readonly Tensor[]) {
  checkArgnums("grad", wrt, args);
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

/** A function of tensors returning one tensor or several (JAX's tuple of outputs). */
type MultiFn = (...args: Tensor[]) => Tensor | readonly Tensor[];

/** The basis vector e_i of a tensor shaped like `like`: 1 at flat index i, 0 elsewhere. */
function basisLike(like: Tensor, i: number): Tensor {
  const e = like.dtype === "float64" ? new Float64Array(like.size) : new Float32Array(like.size);
  e[i] = 1;
  return new Tensor(like.backend.fromArray(e), like.shape, like.backend);
}

/** A Jacobian block of shape [...out.shape, ...x.shape] stacked from its rows or columns (zeros if none). */
function block(pieces: Tensor[], axis: number, out: Tensor, x: Tensor, like: Tensor): Tensor {
  const shape = [...out.shape, ...x.shape];
  if (pieces.length === 0) return new Tensor(like.backend.fill(0, 0, like.dtype), shape, like.backend);
  return stack(pieces, axis).reshape(shape);
}

/**
 * Evaluate f with the arguments numbered `argnums` as variables and hand its outputs to `build`,
 * which returns J[output][argument]. The answer is shaped as JAX's: a tensor for one output and
 * one argument number, a list where one of them is a list, a list (per output) of lists otherwise.
 */
function jacobianWith(
  caller: string,
  f: MultiFn,
  argnums: number | readonly number[],
  build: (outs: Tensor[], xs: Tensor[], recorded: boolean) => Tensor[][],
) {
  return (...args: Tensor[]) => {
    const wrt = typeof argnums === "number" ? [argnums] : [...argnums];
    checkArgnums(caller, wrt, args);
    const recorded = isGradEnabled();
    return enableGrad(() => {
      const all = args.map((a, i) => (wrt.includes(i) ? variable(a, recorded) : a));
      const result = f(...all);
      const outs = result instanceof Tensor ? [result] : [...result];
      for (const [k, o] of outs.entries()) {
        if (!(o instanceof Tensor))
          throw new Error(
            `${caller}: f must return a tensor or a list of tensors; output ${k} is not a tensor`,
          );
      }
      const blocks = build(
        outs,
        wrt.map((i) => all[i]),
        recorded,
      );
      const perOutput = blocks.map((row) => (typeof argnums === "number" ? row[0] : row));
      return result instanceof Tensor ? perOutput[0] : perOutput;
    });
  };
}

/**
 * jacrev and jacfwd, typed as JAX's: one output and one argument number give a tensor; a list of
 * argument numbers, or a function returning a list of tensors, gives a list; both, a list of lists
 * (per output, then per argument).
 */
export interface JacobianTransform {
  (f: (...args: Tensor[]) => Tensor, argnums?: number): (...args: Tensor[]) => Tensor;
  (f: (...args: Tensor[]) => Tensor, argnums: readonly number[]): (...args: Tensor[]) => Tensor[];
  (f: (...args: Tensor[]) => readonly Tensor[], argnums?: number): (...args: Tensor[]) => Tensor[];
  (
    f: (...args: Tensor[]) => readonly Tensor[],
    argnums: readonly number[],
  ): (...args: Tensor[]) => Tensor[][];
}

/**
 * The Jacobian by reverse mode, as JAX's jacrev: one VJP per element of each output, each giving a
 * row e_iᵀJ = ∂out_i/∂x. J has shape [...out.shape, ...x.shape]; with a list of argnums there is
 * one per argument, and when f returns a list of tensors, one (or one list) per output. It costs
 * one backward pass per output element: the cheap direction when outputs are few.
 */
export const jacrev = ((f: MultiFn, argnums: number | readonly number[] = 0) =>
  jacobianWith("jacrev", f, argnums, (outs, xs, recorded) =>
    outs.map((out) => {
      const rows = xs.map((): Tensor[] => []);
      for (let i = 0; i < out.size; i++) {
        const pulled = gradientsOrZeros(out, xs, basisLike(out, i), recorded);
        for (const [a, row] of pulled.entries()) rows[a].push(row);
      }
      return xs.map((x, a) => block(rows[a], 0, out, x, x));
    }),
  )) as JacobianTransform;

/** JAX's `jax.jacobian`: the Jacobian by reverse mode (jacrev). */
export const jacobian = jacrev;

/**
 * The Jacobian by forward mode, as JAX's jacfwd: one JVP per element of each argument, each giving
 * a column J·e_j = ∂out/∂x_j, with jacrev's shapes. elbo's JVP is jvp's double VJP: one recorded
 * backward pass makes Jᵀu, linear in a dummy cotangent u, and column j is the gradient of
 * ⟨Jᵀu, e_j⟩ with respect to u. It costs one pass per input element: the cheap direction when
 * inputs are few and outputs many.
 */
export const jacfwd = ((f: MultiFn, argnums: number | readonly number[] = 0) =>
  jacobianWith("jacfwd", f, argnums, (outs, xs, recorded) => {
    if (outs.length === 0) return [];
    const us = outs.map((o) => {
      const u = zerosLike(o);
      u.requiresGrad = true;
      return u;
    });
    // Σ_o ⟨out_o, u_o⟩: its gradient in each x is Σ_o J_oᵀu_o, linear in the u's.
    const paired = outs.map((o, k) => o.mul(us[k]).sum()).reduce((a, b) => a.add(b));
    const pulled = gradients(paired, xs, undefined, { createGraph: true });
    const columns = outs.map(() => xs.map((): Tensor[] => []));
    for (const [a, x] of xs.entries()) {
      const g = pulled[a];
      for (let j = 0; j < x.size; j++) {
        // d⟨Jᵀu, e_j⟩/du_o = J_o·e_j; zeros where no output depends on x.
        const column =
          g === null || !g.requiresGrad
            ? us.map((u) => zerosLike(u))
            : gradientsOrZeros(g, us, basisLike(g, j), recorded);
        for (const [o, c] of column.entries()) columns[o][a].push(c);
      }
    }
    return outs.map((out, o) => xs.map((x, a) => block(columns[o][a], out.ndim, out, x, out)));
  })) as JacobianTransform;
