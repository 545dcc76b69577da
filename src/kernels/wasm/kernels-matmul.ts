/**
 * Matrix multiply, C = op(A)·op(B), on float32 with 128-bit SIMD — the plan of the plain
 * TypeScript kernel (cpu/matmul.ts: pack, then a register-blocked micro-kernel), at four times
 * the width:
 *
 * - The micro-kernel keeps a 4×8 block of C in eight v128 registers (4 rows × 2 vectors of 4
 *   columns) for the whole k loop. Each step loads 8 numbers of B (two vectors) and 4 of A (each
 *   copied to all lanes, a "splat"), and does 8 vector multiplies and 8 adds: 64 flops for 12
 *   numbers loaded. Eight accumulators is what the 16 SIMD registers of x86 allow: with more, or
 *   with the k loop unrolled, V8 runs out of registers and spills, and speed halves.
 * - Packing copies A into panels of 4 rows and B into panels of 8 columns, depth-major, so that the
 *   micro-kernel reads both strictly sequentially. Packing reads through strides, which is how the
 *   four transpose variants share one micro-kernel. Where a panel's numbers are contiguous in the
 *   source we copy whole vectors; where each row is contiguous along k we transpose 4×4 blocks
 *   with shuffles; anything else (the last, partial panel) goes one number at a time.
 * - `matmul_block` computes one rectangle of panels of C. A call over all panels is the whole
 *   product; the thread pool gives each thread its own rectangle (see backend.ts).
 */
import { type FunctionDef, ValType } from "./encoding.ts";
import {
  type Code,
  FunctionBuilder,
  type FunctionList,
  f32,
  f32x4,
  get,
  i32,
  type Local,
  type Stmts,
  select,
  set,
  v128,
} from "./instructions.ts";

/** Rows of A (and of C) per micro-kernel block. */
export const MR = 4;
/** Columns of B (and of C) per micro-kernel block. */
export const NR = 8;

const step = (p: Local, bytes: Code) => set(p, i32.add(get(p), bytes));
const inc = (p: Local, bytes: number) => step(p, i32.const(bytes));

/** Byte offsets of float lanes in a shuffle: the lanes of a are 0–3, of b 4–7. */
const lanes = (...floats: number[]) => floats.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]);

/** Transposes the 4×4 block in rows r0..r3 into out0..out3 (the columns), with 8 shuffles. */
function transpose4x4(r: readonly Local[], t: readonly Local[], out: readonly Local[]): Code[] {
  return [
    set(t[0], v128.shuffle(get(r[0]), get(r[1]), lanes(0, 4, 1, 5))), // a0 b0 a1 b1
    set(t[1], v128.shuffle(get(r[0]), get(r[1]), lanes(2, 6, 3, 7))), // a2 b2 a3 b3
    set(t[2], v128.shuffle(get(r[2]), get(r[3]), lanes(0, 4, 1, 5))), // c0 d0 c1 d1
    set(t[3], v128.shuffle(get(r[2]), get(r[3]), lanes(2, 6, 3, 7))), // c2 d2 c3 d3
    set(out[0], v128.shuffle(get(t[0]), get(t[2]), lanes(0, 1, 4, 5))), // a0 b0 c0 d0
    set(out[1], v128.shuffle(get(t[0]), get(t[2]), lanes(2, 3, 6, 7))), // a1 b1 c1 d1
    set(out[2], v128.shuffle(get(t[1]), get(t[3]), lanes(0, 1, 4, 5))), // a2 b2 c2 d2
    set(out[3], v128.shuffle(get(t[1]), get(t[3]), lanes(2, 3, 6, 7))), // a3 b3 c3 d3
  ];
}

/**
 * pack_W(src, rows, depth, rowStride, depthStride, q0, q1, dst): panels q0 ≤ q < q1 of `width`
 * rows each, where element (row, p) of the source is src[row·rowStride + p·depthStride] (in floats).
 * Panel q goes to dst as depth × width floats, (p, r) at p·width + r, zero past the last row.
 */
function pack(name: string, width: number): FunctionDef {
  const f = new FunctionBuilder(name);
  const src = f.param(ValType.i32);
  const rows = f.param(ValType.i32);
  const depth = f.param(ValType.i32);
  const rowStride = f.param(ValType.i32);
  const depthStride = f.param(ValType.i32);
  const q = f.param(ValType.i32);
  const q1 = f.param(ValType.i32);
  const dst = f.param(ValType.i32);
  const row0 = f.local(ValType.i32);
  const end = f.local(ValType.i32);
  const s = f.local(ValType.i32);
  const d = f.local(ValType.i32);
  const r = f.local(ValType.i32);
  const p = f.local(ValType.i32);
  const full = f.local(ValType.i32);
  const ptr = [0, 1, 2, 3].map(() => f.local(ValType.i32));
  const vin = [0, 1, 2, 3].map(() => f.local(ValType.v128));
  const tmp = [0, 1, 2, 3].map(() => f.local(ValType.v128));
  const vout = [0, 1, 2, 3].map(() => f.local(ValType.v128));
  const panelBytes = () => i32.mul(get(depth), i32.const(width * 4));
  const rowBytes = () => i32.shl(get(rowStride), i32.const(2));
  const depthBytes = () => i32.shl(get(depthStride), i32.const(2));

  // Rows side by side (rowStride 1): each depth step is `width` contiguous floats.
  const contiguousRows = () => [
    set(s, i32.add(get(src), i32.shl(get(row0), i32.const(2)))),
    set(end, i32.add(get(dst), panelBytes())),
    f.while(
      () => i32.ltU(get(dst), get(end)),
      () => [
        Array.from({ length: width / 4 }, (_, v) => v128.store(get(dst), v128.load(get(s), 16 * v), 16 * v)),
        inc(dst, width * 4),
        step(s, depthBytes()),
      ],
    ),
  ];

  // Each row contiguous along depth (depthStride 1): read 4 rows × 4 depths, write them transposed.
  const contiguousDepth = () => [
    Array.from({ length: width / 4 }, (_, g) => [
      ptr.map((pt, t) =>
        set(pt, i32.add(get(src), i32.mul(i32.add(get(row0), i32.const(4 * g + t)), rowBytes()))),
      ),
      set(d, i32.add(get(dst), i32.const(16 * g))),
      set(p, i32.const(4)),
      f.while(
        () => i32.leS(get(p), get(depth)),
        () => [
          ptr.map((pt, t) => set(vin[t], v128.load(get(pt)))),
          transpose4x4(vin, tmp, vout),
          vout.map((v, t) => v128.store(get(d), get(v), t * width * 4)),
          ptr.map((pt) => inc(pt, 16)),
          inc(d, 4 * width * 4),
          inc(p, 4),
        ],
      ),
      // The last depth mod 4 steps, one number per row.
      set(p, i32.sub(get(p), i32.const(4))),
      f.while(
        () => i32.ltS(get(p), get(depth)),
        () => [
          ptr.map((pt, t) => f32.store(get(d), f32.load(get(pt)), 4 * t)),
          ptr.map((pt) => inc(pt, 4)),
          inc(d, width * 4),
          inc(p, 1),
        ],
      ),
    ]),
    step(dst, panelBytes()),
  ];

  // Anything else: one row at a time through the strides, zeros past the last row.
  const general = () => [
    set(r, i32.const(0)),
    f.while(
      () => i32.ltS(get(r), i32.const(width)),
      () => [
        set(d, i32.add(get(dst), i32.shl(get(r), i32.const(2)))),
        set(end, i32.add(get(d), panelBytes())),
        f.if(
          i32.ltS(i32.add(get(row0), get(r)), get(rows)),
          () => [
            set(s, i32.add(get(src), i32.mul(i32.add(get(row0), get(r)), rowBytes()))),
            f.while(
              () => i32.ltU(get(d), get(end)),
              () => [f32.store(get(d), f32.load(get(s))), inc(d, width * 4), step(s, depthBytes())],
            ),
          ],
          () => [
            f.while(
              () => i32.ltU(get(d), get(end)),
              () => [f32.store(get(d), f32.const(0)), inc(d, width * 4)],
            ),
          ],
        ),
        inc(r, 1),
      ],
    ),
    step(dst, panelBytes()),
  ];

  return f.finish(
    f.while(
      () => i32.ltS(get(q), get(q1)),
      () => [
        set(row0, i32.mul(get(q), i32.const(width))),
        set(full, i32.leS(i32.add(get(row0), i32.const(width)), get(rows))),
        f.if(i32.and(get(full), i32.eq(get(rowStride), i32.const(1))), contiguousRows, () => [
          f.if(i32.and(get(full), i32.eq(get(depthStride), i32.const(1))), contiguousDepth, general),
        ]),
        inc(q, 1),
      ],
    ),
  );
}

/** The locals a block of C is computed with. */
interface TileLocals {
  /** acc[row] = [columns 0–3, columns 4–7] of that row of the block. */
  acc: Local[][];
  b0: Local;
  b1: Local;
  a: Local;
  pa: Local;
  pb: Local;
  end: Local;
  r: Local;
  j: Local;
  src: Local;
  dst: Local;
}

/**
 * The block of C at `c` (rows `ldc` bytes apart) = A panel at `aPanel` · B panel at `bPanel`, over
 * k, for a block `width` = 8 or 4 columns wide (4 when no more than 4 columns of C are left: the
 * 4×4 kernel then skips the padding that an 8-wide one would multiply). Only `rows` × `cols` of
 * the block lie inside C: a partial block goes to 128 bytes of scratch first and is copied from there.
 */
function tile(
  f: FunctionBuilder,
  t: TileLocals,
  width: 4 | 8,
  operands: {
    aPanel: Code;
    bPanel: Code;
    k: Code;
    c: Code;
    ldc: Code;
    rows: Code;
    cols: Code;
    scratch: Code;
  },
): Stmts {
  const vectors = width / 4;
  const acc = t.acc.map((row) => row.slice(0, vectors));
  const b = [t.b0, t.b1].slice(0, vectors);
  const storeBlock = (base: Code, rowBytes: Code) =>
    acc.map((row, r) =>
      row.map((v, h) => v128.store(i32.add(base, i32.mul(i32.const(r), rowBytes)), get(v), 16 * h)),
    );
  return [
    acc.flat().map((v) => set(v, v128.f32x4(0))),
    set(t.pa, operands.aPanel),
    set(t.pb, operands.bPanel),
    set(t.end, i32.add(get(t.pb), i32.shl(operands.k, i32.const(5)))),
    f.while(
      () => i32.ltU(get(t.pb), get(t.end)),
      () => [
        b.map((v, h) => set(v, v128.load(get(t.pb), 16 * h))),
        acc.map((row, r) => [
          set(t.a, v128.load32Splat(get(t.pa), 4 * r)),
          row.map((v, h) => set(v, f32x4.add(get(v), f32x4.mul(get(t.a), get(b[h]))))),
        ]),
        inc(t.pa, MR * 4),
        inc(t.pb, NR * 4),
      ],
    ),
    f.if(
      i32.and(i32.eq(operands.rows, i32.const(MR)), i32.eq(operands.cols, i32.const(width))),
      () => storeBlock(operands.c, operands.ldc),
      () => [
        storeBlock(operands.scratch, i32.const(NR * 4)),
        set(t.r, i32.const(0)),
        f.while(
          () => i32.ltS(get(t.r), operands.rows),
          () => [
            set(t.src, i32.add(operands.scratch, i32.mul(get(t.r), i32.const(NR * 4)))),
            set(t.dst, i32.add(operands.c, i32.mul(get(t.r), operands.ldc))),
            set(t.j, i32.const(0)),
            f.while(
              () => i32.ltS(get(t.j), operands.cols),
              () => [f32.store(get(t.dst), f32.load(get(t.src))), inc(t.src, 4), inc(t.dst, 4), inc(t.j, 1)],
            ),
            inc(t.r, 1),
          ],
        ),
      ],
    ),
  ];
}

/**
 * matmul_block(a, b, c, m, k, n, aRowStride, aDepthStride, bColStride, bDepthStride,
 * packA, packB, scratch, ip0, ip1, jp0, jp1): the blocks of C in A panels [ip0, ip1) × B panels
 * [jp0, jp1). A(i, p) = a[i·aRowStride + p·aDepthStride] and B(p, j) = b[j·bColStride +
 * p·bDepthStride] (strides in floats), which covers all four transpose variants. The micro-kernel
 * is written out inside the loops (not called), because for a short k a call per block costs as
 * much as the block.
 */
function block(fns: FunctionList): FunctionDef {
  const f = new FunctionBuilder("matmul_block");
  const [
    a,
    b,
    c,
    m,
    k,
    n,
    aRowStride,
    aDepthStride,
    bColStride,
    bDepthStride,
    packA,
    packB,
    scratch,
    ip0,
    ip1,
    jp0,
    jp1,
  ] = Array.from({ length: 17 }, () => f.param(ValType.i32));
  const ip = f.local(ValType.i32);
  const jp = f.local(ValType.i32);
  const aPanel = f.local(ValType.i32);
  const bPanel = f.local(ValType.i32);
  const rows = f.local(ValType.i32);
  const cols = f.local(ValType.i32);
  const cBlock = f.local(ValType.i32);
  const vector = () => f.local(ValType.v128);
  const int = () => f.local(ValType.i32);
  const t: TileLocals = {
    acc: Array.from({ length: MR }, () => [vector(), vector()]),
    b0: vector(),
    b1: vector(),
    a: vector(),
    pa: int(),
    pb: int(),
    end: int(),
    r: int(),
    j: int(),
    src: int(),
    dst: int(),
  };
  const min = (x: Code, y: Code) => select(x, y, i32.ltS(x, y));
  const operands = {
    aPanel: get(aPanel),
    bPanel: get(bPanel),
    k: get(k),
    c: get(cBlock),
    ldc: i32.shl(get(n), i32.const(2)),
    rows: get(rows),
    cols: get(cols),
    scratch: get(scratch),
  };
  return f.finish(
    fns.call(
      "pack_a",
      get(a),
      get(m),
      get(k),
      get(aRowStride),
      get(aDepthStride),
      get(ip0),
      get(ip1),
      get(packA),
    ),
    fns.call(
      "pack_b",
      get(b),
      get(n),
      get(k),
      get(bColStride),
      get(bDepthStride),
      get(jp0),
      get(jp1),
      get(packB),
    ),
    set(jp, get(jp0)),
    set(bPanel, get(packB)),
    f.while(
      () => i32.ltS(get(jp), get(jp1)),
      () => [
        set(cols, min(i32.sub(get(n), i32.mul(get(jp), i32.const(NR))), i32.const(NR))),
        set(ip, get(ip0)),
        set(aPanel, get(packA)),
        f.while(
          () => i32.ltS(get(ip), get(ip1)),
          () => [
            set(rows, min(i32.sub(get(m), i32.mul(get(ip), i32.const(MR))), i32.const(MR))),
            // c + (ip·MR·n + jp·NR)·4
            set(
              cBlock,
              i32.add(
                get(c),
                i32.shl(
                  i32.add(i32.mul(i32.mul(get(ip), i32.const(MR)), get(n)), i32.mul(get(jp), i32.const(NR))),
                  i32.const(2),
                ),
              ),
            ),
            f.if(
              i32.gtS(get(cols), i32.const(4)),
              () => tile(f, t, 8, operands),
              () => tile(f, t, 4, operands),
            ),
            step(aPanel, i32.mul(get(k), i32.const(MR * 4))),
            inc(ip, 1),
          ],
        ),
        step(bPanel, i32.mul(get(k), i32.const(NR * 4))),
        inc(jp, 1),
      ],
    ),
  );
}

export function addMatmulKernels(fns: FunctionList): void {
  fns.add(pack("pack_a", MR));
  fns.add(pack("pack_b", NR));
  fns.add(block(fns));
}
