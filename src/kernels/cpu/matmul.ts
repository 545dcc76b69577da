/**
 * Matrix multiply on typed arrays, C = op(A)·op(B), the way BLAS libraries do it (Goto/BLIS),
 * in plain TypeScript:
 *
 * 1. Pack: copy A into panels of MR rows and B into panels of NR columns, each laid out so the
 *    inner loop reads both sequentially. Packing reads through strides, which is how all four
 *    transpose variants share one kernel without ever materialising a transpose.
 * 2. Micro-kernel: an MR×NR block of C lives in 16 local variables (registers) for the whole
 *    k loop; each step loads 4 + 4 numbers and does 16 multiply-adds.
 *
 * A naive i-j-p triple loop reads B with stride n and reloads C every step; this order keeps the
 * working set (one A panel + one B panel, a few KiB) in L1 cache.
 */
import type { MatmulShape, TypedArray } from "../backend.ts";

const MR = 4;
const NR = 4;

// Packing buffers, grown on demand and reused so that a training step allocates nothing here.
let packedA: Float64Array = new Float64Array(0);
let packedB: Float64Array = new Float64Array(0);

function grow(buffer: Float64Array, size: number): Float64Array {
  return buffer.length >= size ? buffer : new Float64Array(size);
}

/**
 * Copy `rows`×`depth` of a matrix read through (rowStride, depthStride) into panels of `width` rows:
 * panel q holds rows q·width … q·width+width-1, stored depth-major, zero-padded past `rows`.
 */
function pack(
  src: TypedArray,
  rows: number,
  depth: number,
  rowStride: number,
  depthStride: number,
  width: number,
  dst: Float64Array,
): void {
  const panels = Math.ceil(rows / width);
  for (let q = 0; q < panels; q++) {
    const base = q * depth * width;
    for (let r = 0; r < width; r++) {
      const row = q * width + r;
      if (row >= rows) {
        for (let p = 0; p < depth; p++) dst[base + p * width + r] = 0;
        continue;
      }
      let s = row * rowStride;
      for (let p = 0; p < depth; p++, s += depthStride) dst[base + p * width + r] = src[s];
    }
  }
}

/** `batch` products, each on its own slice of a, b and out (matrices stored one after another). */
export function matmulInto(a: TypedArray, b: TypedArray, shape: MatmulShape, out: TypedArray): void {
  const { batch, m, k, n } = shape;
  for (let i = 0; i < batch; i++) {
    const at = (x: TypedArray, size: number) => x.subarray(i * size, (i + 1) * size);
    productInto(at(a, m * k), at(b, k * n), shape, at(out, m * n));
  }
}

/** out[m×n] = op(a)·op(b). a is stored m×k (k×m when transA); b is stored k×n (n×k when transB). */
function productInto(a: TypedArray, b: TypedArray, shape: MatmulShape, out: TypedArray): void {
  const { m, k, n, transA, transB } = shape;
  const mPanels = Math.ceil(m / MR);
  const nPanels = Math.ceil(n / NR);
  packedA = grow(packedA, mPanels * MR * k);
  packedB = grow(packedB, nPanels * NR * k);
  const ap = packedA;
  const bp = packedB;
  // A(i, p) sits at a[i·rowStride + p·depthStride]; B(p, j) is read as row j of Bᵀ the same way.
  pack(a, m, k, transA ? 1 : k, transA ? m : 1, MR, ap);
  pack(b, n, k, transB ? k : 1, transB ? 1 : n, NR, bp);

  for (let jp = 0; jp < nPanels; jp++) {
    const j0 = jp * NR;
    const bBase = jp * k * NR;
    for (let ip = 0; ip < mPanels; ip++) {
      const i0 = ip * MR;
      // biome-ignore format: the 4×4 block of C reads best as a grid
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0,
        c10 = 0, c11 = 0, c12 = 0, c13 = 0,
        c20 = 0, c21 = 0, c22 = 0, c23 = 0,
        c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      let ao = ip * k * MR;
      let bo = bBase;
      // biome-ignore format: one line per row of the 4×4 block
      for (let p = 0; p < k; p++, ao += MR, bo += NR) {
        const a0 = ap[ao], a1 = ap[ao + 1], a2 = ap[ao + 2], a3 = ap[ao + 3];
        const b0 = bp[bo], b1 = bp[bo + 1], b2 = bp[bo + 2], b3 = bp[bo + 3];
        c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
        c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
        c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
        c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
      }
      // biome-ignore format: one line per row of the 4×4 block
      if (i0 + MR <= m && j0 + NR <= n) {
        let o = i0 * n + j0;
        out[o] = c00; out[o + 1] = c01; out[o + 2] = c02; out[o + 3] = c03;
        o += n;
        out[o] = c10; out[o + 1] = c11; out[o + 2] = c12; out[o + 3] = c13;
        o += n;
        out[o] = c20; out[o + 1] = c21; out[o + 2] = c22; out[o + 3] = c23;
        o += n;
        out[o] = c30; out[o + 1] = c31; out[o + 2] = c32; out[o + 3] = c33;
      } else {
        // Edge block: write only the part of the 4×4 tile that lies inside C.
        const tile = [c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33];
        for (let r = 0; r < MR && i0 + r < m; r++) {
          for (let c = 0; c < NR && j0 + c < n; c++) out[(i0 + r) * n + j0 + c] = tile[r * NR + c];
        }
      }
    }
  }
}
