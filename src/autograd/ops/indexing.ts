/**
 * Indexing along one axis: selecting, slicing, concatenating and stacking. Every one is the
 * gather / scatter-add pair (gather.ts) with indices worked out here, so none needs a kernel or a
 * backward rule of its own, and each differentiates to any order.
 */
import { formatShape } from "../../kernels/shape.ts";
import { normalizeAxis } from "../axes.ts";
import type { Tensor } from "../tensor.ts";
import { add } from "./elementwise.ts";
import { gather, scatterAdd } from "./gather.ts";
import { reshape } from "./shape.ts";

/** The one axis an op works along, as a non-negative number, with an error naming the op. */
function oneAxis(op: string, x: Tensor, axis: number): number {
  if (x.ndim === 0) throw new Error(`${op}: needs a tensor with at least one dimension, got a scalar`);
  return normalizeAxis(op, x.shape, axis);
}

/** Slabs `indices` of x along `axis`, in that order, repeats allowed (torch.index_select). */
// d indexSelect/dx: each slab's gradient added back at the slab it came from
export function indexSelect(x: Tensor, axis: number, indices: ArrayLike<number>): Tensor {
  const ax = oneAxis("indexSelect", x, axis);
  const n = x.shape[ax];
  for (let i = 0; i < indices.length; i++) {
    const v = indices[i];
    if (!(Number.isInteger(v) && v >= 0 && v < n)) {
      throw new Error(
        `indexSelect: index ${v} is out of range for axis ${ax} of size ${n} (shape ${formatShape(x.shape)})`,
      );
    }
  }
  return gather(x, ax, Int32Array.from(indices));
}

/**
 * x[start:end:step] along `axis`, with Python's rules: negative positions count from the end,
 * positions past either end are clipped, and a negative step walks backwards (its defaults then
 * start at the last element and run past the first).
 */
// d slice/dx: the gradient put back at the positions that were taken, zeros elsewhere
export function slice(x: Tensor, axis: number, start?: number, end?: number, step = 1): Tensor {
  const ax = oneAxis("slice", x, axis);
  const n = x.shape[ax];
  for (const [name, v] of [
    ["start", start],
    ["end", end],
    ["step", step],
  ] as const) {
    if (v !== undefined && !Number.isInteger(v)) throw new Error(`slice: ${name} ${v} must be an integer`);
  }
  if (step === 0) throw new Error("slice: step must not be zero");
  // Python's slice.indices: resolve negatives, then clip to [0, n] (or [−1, n − 1] walking backwards).
  const [low, high] = step > 0 ? [0, n] : [-1, n - 1];
  const resolve = (v: number | undefined, fallback: number) => {
    if (v === undefined) return fallback;
    const p = v < 0 ? v + n : v;
    return Math.min(Math.max(p, low), high);
  };
  const from = resolve(start, step > 0 ? low : high);
  const to = resolve(end, step > 0 ? high : low);
  const count = Math.max(0, Math.ceil((to - from) / step));
  return gather(
    x,
    ax,
    Int32Array.from({ length: count }, (_, i) => from + i * step),
  );
}

/**
 * The tensors joined end to end along `axis`; all other dimensions must agree (torch.cat).
 * Two pieces are each scattered into their place in zeros of the joint size and added; more are
 * joined pairwise in a balanced tree, which moves every number log₂ k times: the price of having
 * no kernel of its own. Being a sum, it gives −0 as +0 (+0 + −0 = +0), which no comparison sees.
 */
// d cat/dxᵢ: the part of the gradient where xᵢ was put
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new Error("concat: needs at least one tensor");
  const first = xs[0];
  const ax = oneAxis("concat", first, axis);
  const shapes = xs.map((x) => formatShape(x.shape)).join(", ");
  for (const x of xs) {
    if (x.dtype !== first.dtype || x.backend !== first.backend) {
      throw new Error(
        `concat: tensors differ in dtype or backend (${xs.map((t) => `${t.dtype} on ${t.backend.name}`).join(", ")})`,
      );
    }
    const fits = x.ndim === first.ndim && x.shape.every((d, i) => i === ax || d === first.shape[i]);
    if (!fits) {
      throw new Error(`concat: shapes ${shapes} must match in every dimension but axis ${ax}`);
    }
  }
  return joined(xs, ax);
}

/** Halves joined recursively, so each of the log₂ k levels moves every number once. */
function joined(xs: readonly Tensor[], axis: number): Tensor {
  if (xs.length === 1) return xs[0];
  const half = Math.ceil(xs.length / 2);
  const a = joined(xs.slice(0, half), axis);
  const b = joined(xs.slice(half), axis);
  const [na, nb] = [a.shape[axis], b.shape[axis]];
  const positions = (from: number, count: number) => Int32Array.from({ length: count }, (_, i) => from + i);
  return add(scatterAdd(a, axis, positions(0, na), na + nb), scatterAdd(b, axis, positions(na, nb), na + nb));
}

/** The tensors, all of one shape, joined along a new axis `axis` (torch.stack). */
// d stack/dxᵢ: slab i of the gradient
export function stack(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new Error("stack: needs at least one tensor");
  const shape = xs[0].shape;
  if (!xs.every((x) => x.ndim === shape.length && x.shape.every((d, i) => d === shape[i]))) {
    throw new Error(
      `stack: all tensors must have one shape, got ${xs.map((x) => formatShape(x.shape)).join(", ")}`,
    );
  }
  // The new axis may go anywhere from before the first dimension to after the last.
  const ax = normalizeAxis(
    "stack",
    shape,
    axis,
    shape.length + 1,
    `stacking tensors of shape ${formatShape(shape)}`,
  );
  const withAxis = [...shape.slice(0, ax), 1, ...shape.slice(ax)];
  return concat(
    xs.map((x) => reshape(x, withAxis)),
    ax,
  );
}
