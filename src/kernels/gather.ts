/**
 * Gather and scatter-add along one axis, on typed arrays: the one implementation that every backend
 * whose numbers are host-visible runs (cpu on its arrays, wasm on views of its memory, gpu through
 * its cpu fallback).
 *
 * Around `axis` a row-major shape reads as [outer, n, inner]: `outer` blocks, each of `n` slabs of
 * `inner` contiguous numbers. Gather copies slab indices[i] of every block to slab i; scatter-add
 * adds slab i back onto slab indices[i] (a slab taken twice gets both). Index selection, slicing
 * with a step, concatenation and im2col for convolution are all this one walk with other indices.
 */
import type { Shape, TypedArray } from "./backend.ts";
import { formatShape, sizeOf } from "./shape.ts";

/** `shape` with `n` slabs at `axis`: the shape a gather or scatter-add along it makes. */
export function withAxisSize(shape: Shape, axis: number, n: number): number[] {
  return shape.map((d, i) => (i === axis ? n : d));
}

/** The shape around `axis` as [outer, n, inner]. */
function around(shape: Shape, axis: number): [number, number, number] {
  return [sizeOf(shape.slice(0, axis)), shape[axis], sizeOf(shape.slice(axis + 1))];
}

/** Every index must name a slab of an axis of size `n`: a bad one would read or write past it. */
function checkIndices(op: string, indices: Int32Array, n: number, shape: Shape, axis: number): void {
  for (const i of indices) {
    if (!(i >= 0 && i < n)) {
      throw new Error(
        `${op}: index ${i} is out of range for axis ${axis} of size ${n} (shape ${formatShape(shape)})`,
      );
    }
  }
}

/** out (shape with indices.length at `axis`) ← x (of `shape`) at `indices` along `axis`. */
export function gatherInto(
  x: TypedArray,
  shape: Shape,
  axis: number,
  indices: Int32Array,
  out: TypedArray,
): void {
  const [outer, n, inner] = around(shape, axis);
  checkIndices("gather", indices, n, shape, axis);
  const m = indices.length;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < m; i++) {
      const from = (o * n + indices[i]) * inner;
      out.set(x.subarray(from, from + inner), (o * m + i) * inner);
    }
  }
}

/**
 * out (`shape` with `size` at `axis`) ← zeros, then each slab i of x (of `shape`, whose `axis` has
 * indices.length slabs) added at indices[i]: the adjoint of gather.
 */
export function scatterAddInto(
  x: TypedArray,
  shape: Shape,
  axis: number,
  indices: Int32Array,
  size: number,
  out: TypedArray,
): void {
  const [outer, m, inner] = around(shape, axis);
  checkIndices("scatterAdd", indices, size, withAxisSize(shape, axis, size), axis);
  if (indices.length !== m) {
    throw new Error(
      `scatterAdd: ${indices.length} indices for axis ${axis} of shape ${formatShape(shape)}, which has ${m} slabs`,
    );
  }
  out.fill(0);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < m; i++) {
      const to = (o * size + indices[i]) * inner;
      const from = (o * m + i) * inner;
      for (let j = 0; j < inner; j++) out[to + j] += x[from + j];
    }
  }
}
