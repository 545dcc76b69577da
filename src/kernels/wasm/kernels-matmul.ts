/**
 * Matrix multiply, C = op(A)·op(B), on float32 with 128-bit SIMD — the plan of the plain
 * TypeScript kernel (cpu/matmul.ts: pack, then a register-blocked micro-kernel), at four times
 * the width:
 *
 * - The micro-kernel keeps a 4×8 block of C in eight v128 registers (4 rows × 2 vectors of 4
 *   columns) for the whole k loop. Each step loads 8 numbers of B (two vectors) and 4 of A (each
 *   copied to all lanes, a "splat"), and does 8 vector multiplies and 8 adds: 64 flops for 12
 *   numbers loaded. Four rows, because packing A transposes 4×4 blocks. Four rows of three
 *   vectors would need 16 of x86's 16 SIMD registers, and V8 then keeps some in memory: slower
 *   (`npm run bench -- --only microkernel` times each shape). A 3×12 block measured 7–25% faster
 *   than 4×8 with fused multiply-adds here, in three runs (9 accumulators hide more of each
 *   multiply-add's latency than 8). Tried with A packed 3 rows to a 4-float step: dense products
 *   took 0.8× the time on one thread, but the two-thread training step was no faster (each row of
 *   A is then packed 4/3 times, by every job), so 4×8 stays.
 * - Packing copies A into panels of 4 rows and B into panels of 8 columns, depth-major, so that the
 *   micro-kernel reads both strictly sequentially. Packing reads through strides, which is how the
 *   four transpose variants share one micro-kernel. Where a panel's numbers are contiguous in the
 *   source we copy whole vectors; where each row is contiguous along k we transpose 4×4 blocks
 *   with shuffles; anything else (the last, partial panel) goes one number at a time.
 * - Where the engine has relaxed SIMD, each multiply-add is one fused instruction (x86 FMA,
 *   rounded once): about 1.2× the GFLOP/s here. Feature-detected; the plain path stays for
 *   engines without it, and both are tested against the reference.
 * - Zero skipping: when one operand is mostly zeros (an MNIST batch: 81%), it is
 *   packed without the depth steps whose panel numbers are all zero, with the list of the p's it
 *   kept, and the micro-kernel walks that list, reading the other operand's step p where it needs
 *   it. The sum then has the same terms in the same order less some 0·x = ±0, which add nothing:
 *   the result is bit for bit the dense one, provided the other operand holds no ±∞ or NaN (0·∞
 *   is NaN); packing checks that and falls back to dense. When to try it: sparsity.ts.
 * - `matmul_block` computes one rectangle of panels of C. A call over all panels is the whole
 *   product; the thread pool gives each thread its own rectangle (see backend.ts).
 */
import { type FunctionDef, ValType } from "./encoding.ts";
import {
  type Code,
  drop,
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
import type { ModuleFeatures } from "./module.ts";
import { advance } from "./vector-loop.ts";

/** Rows of A (and of C) per micro-kernel block. */
export const MR = 4;
/** Columns of B (and of C) per micro-kernel block. */
export const NR = 8;

/** p += bytes, a run-time count of them. */
const step1 = (p: Local, bytes: Code) => set(p, i32.add(get(p), bytes));

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
 * pack_W(src, rows, depth, rowStride, depthStride, q, q1, dst) → finite: panels q ≤ q < q1 of
 * `width` rows each, where element (row, p) of the source is src[row·rowStride + p·depthStride]
 * (in floats). Panel q goes to dst as depth × width floats, (p, r) at p·width + r, zero past the
 * last row. Returns 1 when every number packed is finite (no ±∞, no NaN), else 0.
 *
 * pack_W_sparse(…, dst, indices, counts) packs the same panels but leaves out each depth step p
 * whose `width` numbers are all zero: the steps kept are stored one after another, their p's go to
 * the panel's list (indices + depth·4 bytes per panel) and how many were kept to counts (4 bytes
 * per panel). The multiply then skips the left-out steps (0·x adds nothing when x is finite). A
 * panel read by the general path (strided, or the last partial one) is stored whole, with count =
 * depth, and is multiplied densely.
 */
function pack(name: string, width: number, compact: boolean): FunctionDef {
  const f = new FunctionBuilder(name, [ValType.i32]);
  const src = f.param(ValType.i32);
  const rows = f.param(ValType.i32);
  const depth = f.param(ValType.i32);
  const rowStride = f.param(ValType.i32);
  const depthStride = f.param(ValType.i32);
  const q = f.param(ValType.i32);
  const q1 = f.param(ValType.i32);
  const dst = f.param(ValType.i32);
  const indices = compact ? f.param(ValType.i32) : null;
  const counts = compact ? f.param(ValType.i32) : null;
  const row0 = f.local(ValType.i32);
  const end = f.local(ValType.i32);
  const s = f.local(ValType.i32);
  const d = f.local(ValType.i32);
  const r = f.local(ValType.i32);
  const p = f.local(ValType.i32);
  const full = f.local(ValType.i32);
  const kept = f.local(ValType.i32);
  const list = f.local(ValType.i32);
  const x = f.local(ValType.f32);
  const nonFinite = f.local(ValType.v128);
  const ptr = Array.from({ length: width }, () => f.local(ValType.i32));
  const vin = Array.from({ length: width }, () => f.local(ValType.v128));
  const tmp = [0, 1, 2, 3].map(() => f.local(ValType.v128));
  const vout = Array.from({ length: width }, () => f.local(ValType.v128));
  const groups = width / 4;
  const panelBytes = () => i32.mul(get(depth), i32.const(width * 4));
  const rowBytes = () => i32.shl(get(rowStride), i32.const(2));
  const depthBytes = () => i32.shl(get(depthStride), i32.const(2));
  // x − x is +0 for a finite x and NaN otherwise: OR-ing its bits into nonFinite flags ±∞ and NaN.
  const flag = (v: Local) => set(nonFinite, v128.or(get(nonFinite), f32x4.sub(get(v), get(v))));

  /**
   * Store depth step `step` of the panel (its `width` numbers in `vs`, one vector per 4 rows) at d.
   * Dense: always, d moves on. Compacting: always stored, but d and the list move on only when a
   * number is non-zero (NaN counts as non-zero), so an all-zero step is overwritten by the next.
   */
  const emit = (vs: readonly Local[], step: Code): Stmts => {
    const stores = [vs.map((v, h) => v128.store(get(d), get(v), 16 * h)), vs.map(flag)];
    if (!compact) return [stores, advance(d, width * 4)];
    const nonZero = v128.anyTrue(
      vs.map((v) => f32x4.ne(get(v), v128.f32x4(0))).reduce((acc, ne) => v128.or(acc, ne)),
    );
    return [
      stores,
      set(kept, nonZero),
      i32.store(get(list), step),
      step1(list, i32.shl(get(kept), i32.const(2))),
      step1(d, i32.mul(get(kept), i32.const(width * 4))),
    ];
  };

  // Rows side by side (rowStride 1): each depth step is `width` contiguous floats.
  const contiguousRows = () => [
    set(s, i32.add(get(src), i32.shl(get(row0), i32.const(2)))),
    set(p, i32.const(0)),
    f.while(
      () => i32.ltS(get(p), get(depth)),
      () => [
        vin.slice(0, groups).map((v, h) => set(v, v128.load(get(s), 16 * h))),
        emit(vin.slice(0, groups), get(p)),
        step1(s, depthBytes()),
        advance(p, 1),
      ],
    ),
  ];

  // Each row contiguous along depth (depthStride 1): read `width` rows × 4 depths, transpose each
  // 4×4 block, and emit the 4 depth steps; the last depth mod 4 steps are gathered lane by lane.
  const contiguousDepth = () => [
    ptr.map((pt, t) => set(pt, i32.add(get(src), i32.mul(i32.add(get(row0), i32.const(t)), rowBytes())))),
    set(p, i32.const(4)),
    f.while(
      () => i32.leS(get(p), get(depth)),
      () => [
        ptr.map((pt, t) => set(vin[t], v128.load(get(pt)))),
        Array.from({ length: groups }, (_, g) =>
          transpose4x4(vin.slice(4 * g, 4 * g + 4), tmp, vout.slice(4 * g, 4 * g + 4)),
        ),
        // vout[4g + j] holds depth step p − 4 + j of rows 4g … 4g + 3.
        [0, 1, 2, 3].map((j) =>
          emit(
            Array.from({ length: groups }, (_, g) => vout[4 * g + j]),
            i32.add(get(p), i32.const(j - 4)),
          ),
        ),
        ptr.map((pt) => advance(pt, 16)),
        advance(p, 4),
      ],
    ),
    set(p, i32.sub(get(p), i32.const(4))),
    f.while(
      () => i32.ltS(get(p), get(depth)),
      () => [
        Array.from({ length: groups }, (_, g) =>
          [0, 1, 2, 3].map((t) =>
            set(vout[g], f32x4.replaceLane(get(vout[g]), t, f32.load(get(ptr[4 * g + t])))),
          ),
        ),
        emit(vout.slice(0, groups), get(p)),
        ptr.map((pt) => advance(pt, 4)),
        advance(p, 1),
      ],
    ),
  ];

  // Anything else: one row at a time through the strides, zeros past the last row; never compacted.
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
              () => [
                set(x, f32.load(get(s))),
                f32.store(get(d), get(x)),
                set(nonFinite, v128.or(get(nonFinite), f32x4.splat(f32.sub(get(x), get(x))))),
                advance(d, width * 4),
                step1(s, depthBytes()),
              ],
            ),
          ],
          () => [
            f.while(
              () => i32.ltU(get(d), get(end)),
              () => [f32.store(get(d), f32.const(0)), advance(d, width * 4)],
            ),
          ],
        ),
        advance(r, 1),
      ],
    ),
  ];

  return f.finish(
    set(nonFinite, v128.f32x4(0)),
    f.while(
      () => i32.ltS(get(q), get(q1)),
      () => [
        set(row0, i32.mul(get(q), i32.const(width))),
        set(full, i32.leS(i32.add(get(row0), i32.const(width)), get(rows))),
        set(d, get(dst)),
        indices ? set(list, get(indices)) : [],
        f.if(i32.and(get(full), i32.eq(get(rowStride), i32.const(1))), contiguousRows, () => [
          f.if(i32.and(get(full), i32.eq(get(depthStride), i32.const(1))), contiguousDepth, () => [
            general(),
            // The general path keeps every step: count = depth (the list is not read).
            indices ? set(list, i32.add(get(indices), i32.shl(get(depth), i32.const(2)))) : [],
          ]),
        ]),
        indices && counts
          ? [
              i32.store(get(counts), i32.shrS(i32.sub(get(list), get(indices)), i32.const(2))),
              advance(counts, 4),
              step1(indices, i32.shl(get(depth), i32.const(2))),
            ]
          : [],
        step1(dst, panelBytes()),
        advance(q, 1),
      ],
    ),
    i32.eqz(v128.anyTrue(get(nonFinite))),
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
  pi: Local;
  end: Local;
  r: Local;
  j: Local;
  src: Local;
  dst: Local;
}

/**
 * Which operand's zeros a block skips: "none" multiplies every depth step; "a" walks the steps
 * the compacted A panel kept (its list of p's says where to read B), "b" those of the B panel.
 */
type Skip = "none" | "a" | "b";

/**
 * One depth step of the micro-kernel: the block of C in `acc` (rows of vectors) += A's column
 * (one number per row, at pa, each splat into `a`) times B's row (one vector per column of
 * vectors, at pb, into `b`). Exported for bench/microkernel.ts, which times other block shapes.
 */
export function multiplyAddStep(
  acc: readonly (readonly Local[])[],
  b: readonly Local[],
  a: Local,
  pa: Local,
  pb: Local,
  fma: boolean,
): Stmts {
  return [
    b.map((v, h) => set(v, v128.load(get(pb), 16 * h))),
    acc.map((row, r) => [
      set(a, v128.load32Splat(get(pa), 4 * r)),
      row.map((v, h) =>
        set(
          v,
          fma
            ? f32x4.relaxedMadd(get(a), get(b[h]), get(v))
            : f32x4.add(get(v), f32x4.mul(get(a), get(b[h]))),
        ),
      ),
    ]),
  ];
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
  skip: Skip,
  fma: boolean,
  operands: {
    aPanel: Code;
    bPanel: Code;
    k: Code;
    /** The compacted panel's list of kept p's, and how many it holds (skip "a" or "b"). */
    list: Code;
    kept: Code;
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
  const multiplyAdd = multiplyAddStep(acc, b, t.a, t.pa, t.pb, fma);
  const depthLoop = {
    // Every step: both panels read in order.
    none: () => [
      set(t.pa, operands.aPanel),
      set(t.pb, operands.bPanel),
      set(t.end, i32.add(get(t.pb), i32.shl(operands.k, i32.const(5)))),
      f.while(
        () => i32.ltU(get(t.pb), get(t.end)),
        () => [multiplyAdd, advance(t.pa, MR * 4), advance(t.pb, NR * 4)],
      ),
    ],
    // A's kept steps in order; B's step p at bPanel + p·NR·4.
    a: () => [
      set(t.pa, operands.aPanel),
      set(t.pi, operands.list),
      set(t.end, i32.add(get(t.pa), i32.shl(operands.kept, i32.const(4)))),
      f.while(
        () => i32.ltU(get(t.pa), get(t.end)),
        () => [
          set(t.pb, i32.add(operands.bPanel, i32.shl(i32.load(get(t.pi)), i32.const(5)))),
          multiplyAdd,
          advance(t.pa, MR * 4),
          advance(t.pi, 4),
        ],
      ),
    ],
    // B's kept steps in order; A's step p at aPanel + p·MR·4.
    b: () => [
      set(t.pb, operands.bPanel),
      set(t.pi, operands.list),
      set(t.end, i32.add(get(t.pb), i32.shl(operands.kept, i32.const(5)))),
      f.while(
        () => i32.ltU(get(t.pb), get(t.end)),
        () => [
          set(t.pa, i32.add(operands.aPanel, i32.shl(i32.load(get(t.pi)), i32.const(4)))),
          multiplyAdd,
          advance(t.pb, NR * 4),
          advance(t.pi, 4),
        ],
      ),
    ],
  }[skip];
  return [
    acc.flat().map((v) => set(v, v128.f32x4(0))),
    depthLoop(),
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
              () => [
                f32.store(get(t.dst), f32.load(get(t.src))),
                advance(t.src, 4),
                advance(t.dst, 4),
                advance(t.j, 1),
              ],
            ),
            advance(t.r, 1),
          ],
        ),
      ],
    ),
  ];
}

/**
 * matmul_block's parameters, in order: one thread's job, named once here and in backend.ts.
 * A(i, p) = a[i·aRowStride + p·aDepthStride] and B(p, j) = b[j·bColStride + p·bDepthStride]
 * (strides in floats), which covers all four transpose variants. The job is the blocks of C in
 * A panels [ip0, ip1) × B panels [jp0, jp1); packA, packB and scratch are its buffers (see
 * `matmulJobLayout`); `skip` is SKIP_NONE, SKIP_A or SKIP_B: the operand whose all-zero depth
 * steps to leave out (the other must then be finite, which the kernel checks, else it runs dense).
 */
export const matmulBlockParams = [
  "a",
  "b",
  "c",
  "m",
  "k",
  "n",
  "aRowStride",
  "aDepthStride",
  "bColStride",
  "bDepthStride",
  "packA",
  "packB",
  "scratch",
  "ip0",
  "ip1",
  "jp0",
  "jp1",
  "skip",
] as const;
export type MatmulBlockJob = Record<(typeof matmulBlockParams)[number], number>;
/** The job as the argument list of matmul_block. */
export const matmulBlockArgs = (job: MatmulBlockJob): number[] => matmulBlockParams.map((p) => job[p]);
export const SKIP_NONE = 0;
export const SKIP_A = 1;
export const SKIP_B = 2;

/**
 * Bytes of scratch a job needs: a 4×8 tile for partial blocks (128 bytes), then per panel of the
 * skipped operand its list of kept p's (k·4 bytes) and its count (4 bytes).
 */
function matmulScratchBytes(k: number, skippedPanels: number): number {
  return 128 + skippedPanels * (k + 1) * 4;
}

/**
 * Where a job's buffers lie in its one block of memory, as byte offsets, and the block's size: its
 * scratch (matmulScratchBytes) at 0, then its `aPanels` packed panels of A, then its `bPanels` of B.
 * `skippedPanels`: the panels of the operand whose zeros it skips (0 for none).
 */
export function matmulJobLayout(
  k: number,
  aPanels: number,
  bPanels: number,
  skippedPanels: number,
): { packA: number; packB: number; bytes: number } {
  const packA = matmulScratchBytes(k, skippedPanels);
  const packB = packA + aPanels * k * MR * 4;
  return { packA, packB, bytes: packB + bPanels * k * NR * 4 };
}

/**
 * matmul_block(job): the product over the job's panels. The micro-kernel is written out inside the
 * loops (not called), because for a short k a call per block costs as much as the block.
 */
function block(fns: FunctionList, fma: boolean): FunctionDef {
  const f = new FunctionBuilder("matmul_block");
  const p = Object.fromEntries(matmulBlockParams.map((name) => [name, f.param(ValType.i32)])) as Record<
    (typeof matmulBlockParams)[number],
    Local
  >;
  const ip = f.local(ValType.i32);
  const jp = f.local(ValType.i32);
  const aPanel = f.local(ValType.i32);
  const bPanel = f.local(ValType.i32);
  const rows = f.local(ValType.i32);
  const cols = f.local(ValType.i32);
  const cBlock = f.local(ValType.i32);
  const lists = f.local(ValType.i32);
  const counts = f.local(ValType.i32);
  const list = f.local(ValType.i32);
  const kept = f.local(ValType.i32);
  const vector = () => f.local(ValType.v128);
  const int = () => f.local(ValType.i32);
  const t: TileLocals = {
    acc: Array.from({ length: MR }, () => [vector(), vector()]),
    b0: vector(),
    b1: vector(),
    a: vector(),
    pa: int(),
    pb: int(),
    pi: int(),
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
    k: get(p.k),
    list: get(list),
    kept: get(kept),
    c: get(cBlock),
    ldc: i32.shl(get(p.n), i32.const(2)),
    rows: get(rows),
    cols: get(cols),
    scratch: get(p.scratch),
  };
  const packA = (sparse: boolean) =>
    fns.call(
      sparse ? "pack_a_sparse" : "pack_a",
      get(p.a),
      get(p.m),
      get(p.k),
      get(p.aRowStride),
      get(p.aDepthStride),
      get(p.ip0),
      get(p.ip1),
      get(p.packA),
      ...(sparse ? [get(lists), get(counts)] : []),
    );
  const packB = (sparse: boolean) =>
    fns.call(
      sparse ? "pack_b_sparse" : "pack_b",
      get(p.b),
      get(p.n),
      get(p.k),
      get(p.bColStride),
      get(p.bDepthStride),
      get(p.jp0),
      get(p.jp1),
      get(p.packB),
      ...(sparse ? [get(lists), get(counts)] : []),
    );
  // The skipped operand's panel `q` (counted from the job's first): its list and count.
  const selectPanel = (q: Code) => [
    set(list, i32.add(get(lists), i32.mul(q, i32.shl(get(p.k), i32.const(2))))),
    set(kept, i32.load(i32.add(get(counts), i32.shl(q, i32.const(2))))),
  ];
  const blockOf = (skip: Skip) =>
    f.if(
      i32.gtS(get(cols), i32.const(4)),
      () => tile(f, t, 8, skip, fma, operands),
      () => tile(f, t, 4, skip, fma, operands),
    );
  return f.finish(
    // Lists after the partial-block tile; counts after the lists of every panel of the skipped side.
    set(lists, i32.add(get(p.scratch), i32.const(128))),
    set(
      counts,
      i32.add(
        get(lists),
        i32.mul(
          i32.shl(get(p.k), i32.const(2)),
          select(
            i32.sub(get(p.ip1), get(p.ip0)),
            i32.sub(get(p.jp1), get(p.jp0)),
            i32.eq(get(p.skip), i32.const(SKIP_A)),
          ),
        ),
      ),
    ),
    // The dense operand first: its zeros may be skipped only when the other is finite (0·∞ = NaN).
    f.if(
      i32.eq(get(p.skip), i32.const(SKIP_A)),
      () =>
        f.if(
          packB(false),
          () => drop(packA(true)),
          () => [drop(packA(false)), set(p.skip, i32.const(SKIP_NONE))],
        ),
      () =>
        f.if(
          i32.eq(get(p.skip), i32.const(SKIP_B)),
          () =>
            f.if(
              packA(false),
              () => drop(packB(true)),
              () => [drop(packB(false)), set(p.skip, i32.const(SKIP_NONE))],
            ),
          () => [drop(packA(false)), drop(packB(false))],
        ),
    ),
    set(jp, get(p.jp0)),
    set(bPanel, get(p.packB)),
    f.while(
      () => i32.ltS(get(jp), get(p.jp1)),
      () => [
        set(cols, min(i32.sub(get(p.n), i32.mul(get(jp), i32.const(NR))), i32.const(NR))),
        f.if(i32.eq(get(p.skip), i32.const(SKIP_B)), () => selectPanel(i32.sub(get(jp), get(p.jp0)))),
        set(ip, get(p.ip0)),
        set(aPanel, get(p.packA)),
        f.while(
          () => i32.ltS(get(ip), get(p.ip1)),
          () => [
            set(rows, min(i32.sub(get(p.m), i32.mul(get(ip), i32.const(MR))), i32.const(MR))),
            // c + (ip·MR·n + jp·NR)·4
            set(
              cBlock,
              i32.add(
                get(p.c),
                i32.shl(
                  i32.add(
                    i32.mul(i32.mul(get(ip), i32.const(MR)), get(p.n)),
                    i32.mul(get(jp), i32.const(NR)),
                  ),
                  i32.const(2),
                ),
              ),
            ),
            f.if(
              i32.eq(get(p.skip), i32.const(SKIP_A)),
              () => [
                selectPanel(i32.sub(get(ip), get(p.ip0))),
                f.if(
                  i32.ltS(get(kept), get(p.k)),
                  () => blockOf("a"),
                  () => blockOf("none"),
                ),
              ],
              () =>
                f.if(
                  i32.and(i32.eq(get(p.skip), i32.const(SKIP_B)), i32.ltS(get(kept), get(p.k))),
                  () => blockOf("b"),
                  () => blockOf("none"),
                ),
            ),
            step1(aPanel, i32.mul(get(p.k), i32.const(MR * 4))),
            advance(ip, 1),
          ],
        ),
        step1(bPanel, i32.mul(get(p.k), i32.const(NR * 4))),
        advance(jp, 1),
      ],
    ),
  );
}

/** The matmul kernels; with `relaxedSimd`, the micro-kernel's multiply-adds are fused (one rounding). */
export function addMatmulKernels(fns: FunctionList, features: ModuleFeatures): void {
  fns.add(pack("pack_a", MR, false));
  fns.add(pack("pack_b", NR, false));
  fns.add(pack("pack_a_sparse", MR, true));
  fns.add(pack("pack_b_sparse", NR, true));
  fns.add(block(fns, features.relaxedSimd));
}
