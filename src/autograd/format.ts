/**
 * How a tensor prints (String(t), console.log(t)): its values, nested like the array they are,
 * with the middle of a long axis elided as NumPy and PyTorch do, then shape, dtype and backend.
 *
 *   tensor([[0.1, 0.2, 0.3],
 *           [0.4, 0.5, 0.6]], shape=[2, 3], dtype=float32, backend=cpu)
 */
import type { TypedArray } from "../kernels/backend.ts";
import { formatShape, stridesOf } from "../kernels/shape.ts";
import type { Tensor } from "./tensor.ts";

/** Above this many elements, each axis shows only its first and last `EDGE_ITEMS` entries. */
const THRESHOLD = 1000;
const EDGE_ITEMS = 3;

export function formatTensor(t: Tensor): string {
  const graph = t.isLeaf ? (t.requiresGrad ? ", requiresGrad=true" : "") : `, op=${t.op}`;
  const meta = `shape=${formatShape(t.shape)}, dtype=${t.dtype}, backend=${t.backend.name}${graph}`;
  let data: TypedArray;
  try {
    data = t.dataSync();
  } catch (e) {
    const why = t.backend.asyncRead
      ? `values on the ${t.backend.name} device, not read yet: await t.data()`
      : `values not readable: ${e instanceof Error ? e.message : String(e)}`;
    return `tensor(<${why}>, ${meta})`;
  }
  const elide = data.length > THRESHOLD;
  const strides = stridesOf(t.shape);
  const indent = " ".repeat("tensor(".length);
  const nested = (dim: number, offset: number): string => {
    if (dim === t.ndim) return formatNumber(data[offset]);
    const n = t.shape[dim];
    const shown =
      elide && n > 2 * EDGE_ITEMS ? [...range(0, EDGE_ITEMS), -1, ...range(n - EDGE_ITEMS, n)] : range(0, n);
    const items = shown.map((i) => (i < 0 ? "..." : nested(dim + 1, offset + i * strides[dim])));
    const separator = dim === t.ndim - 1 ? ", " : `,\n${indent}${" ".repeat(dim + 1)}`;
    return `[${items.join(separator)}]`;
  };
  return `tensor(${nested(0, 0)}, ${meta})`;
}

function range(start: number, end: number): number[] {
  return Array.from({ length: end - start }, (_, i) => start + i);
}

/** Integers as they are, others to 4 significant digits: 3, -0.5, 0.3333, 1.235e+5, NaN, -Infinity. */
function formatNumber(v: number): string {
  if (Number.isInteger(v) || !Number.isFinite(v)) return Object.is(v, -0) ? "-0" : String(v);
  return String(Number(v.toPrecision(4)));
}
