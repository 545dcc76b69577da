/**
 * Reductions on float32. Any reduction over a set of axes, once adjacent axes of the same kind
 * are merged (`reductionRuns` in kernels/shape.ts), is made of two moves:
 *
 * - rows: fold each contiguous row into one number (reducing the last axis), e.g. a sum per image;
 * - cols: fold whole rows into one row (reducing an outer axis), e.g. a bias gradient, Σ over the batch.
 *
 * Both add into `out` rather than overwrite it, so the caller can fold several blocks into the
 * same result. Sums of a row are accumulated in float64, like the reference's JavaScript numbers;
 * sums of rows add float32 to float32 in the reference's order, so they agree bit for bit. Max keeps
 * the reference's rule `x > acc || isNaN(x) ? x : acc`, so a NaN anywhere gives NaN.
 */
import { type FunctionDef, ValType } from "./encoding.ts";
import {
  type Code,
  FunctionBuilder,
  type FunctionList,
  f32,
  f32x4,
  f64,
  f64x2,
  get,
  i32,
  type Local,
  select,
  set,
  v128,
} from "./instructions.ts";
import { advance, vectorLoop } from "./vector-loop.ts";

/** The reference's max rule on four lanes: take x where x > acc or x is NaN. */
const maxRule = (x: Local, acc: Local) =>
  v128.bitselect(get(x), get(acc), v128.or(f32x4.gt(get(x), get(acc)), f32x4.ne(get(x), get(x))));

/** reduce_rows_sum(x, out, rows, cols): out[r] += Σⱼ x[r·cols + j], in float64. */
function rowsSum(): FunctionDef {
  const f = new FunctionBuilder("reduce_rows_sum");
  const x = f.param(ValType.i32);
  const out = f.param(ValType.i32);
  const rows = f.param(ValType.i32);
  const cols = f.param(ValType.i32);
  const v = f.local(ValType.v128);
  const lo = f.local(ValType.v128);
  const hi = f.local(ValType.v128);
  const s = f.local(ValType.f64);
  // Lanes 2 and 3 moved down to 0 and 1, so that promote_low widens them.
  const high = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];
  return f.finish(
    f.while(
      () => i32.gtS(get(rows), i32.const(0)),
      () => [
        set(lo, v128.f32x4(0)),
        set(hi, v128.f32x4(0)),
        vectorLoop(
          f,
          [x],
          cols,
          (tail) =>
            tail
              ? set(s, f64.add(get(s), f64.promote(f32.load(get(x)))))
              : [
                  set(v, v128.load(get(x))),
                  set(lo, f64x2.add(get(lo), f64x2.promoteLowF32x4(get(v)))),
                  set(hi, f64x2.add(get(hi), f64x2.promoteLowF32x4(v128.shuffle(get(v), get(v), high)))),
                ],
          // After the whole vectors, before the tail: out[r] plus the four lanes' sums.
          [
            set(lo, f64x2.add(get(lo), get(hi))),
            set(
              s,
              f64.add(
                f64.promote(f32.load(get(out))),
                f64.add(f64x2.extractLane(get(lo), 0), f64x2.extractLane(get(lo), 1)),
              ),
            ),
          ],
        ),
        f32.store(get(out), f32.demote(get(s))),
        advance(out, 4),
        set(rows, i32.sub(get(rows), i32.const(1))),
      ],
    ),
  );
}

/** reduce_rows_max(x, out, rows, cols): out[r] = max(out[r], maxⱼ x[r·cols + j]). */
function rowsMax(): FunctionDef {
  const f = new FunctionBuilder("reduce_rows_max");
  const x = f.param(ValType.i32);
  const out = f.param(ValType.i32);
  const rows = f.param(ValType.i32);
  const cols = f.param(ValType.i32);
  const v = f.local(ValType.v128);
  const acc = f.local(ValType.v128);
  const m = f.local(ValType.f32);
  const l = f.local(ValType.f32);
  const fold = (value: Code) => [
    set(l, value),
    set(m, select(get(l), get(m), i32.or(f32.gt(get(l), get(m)), f32.ne(get(l), get(l))))),
  ];
  return f.finish(
    f.while(
      () => i32.gtS(get(rows), i32.const(0)),
      () => [
        set(acc, v128.f32x4(Number.NEGATIVE_INFINITY)),
        vectorLoop(
          f,
          [x],
          cols,
          (tail) => (tail ? fold(f32.load(get(x))) : [set(v, v128.load(get(x))), set(acc, maxRule(v, acc))]),
          // After the whole vectors, before the tail: out[r] against the four lanes' maxima.
          [set(m, f32.load(get(out))), [0, 1, 2, 3].map((lane) => fold(f32x4.extractLane(get(acc), lane)))],
        ),
        f32.store(get(out), get(m)),
        advance(out, 4),
        set(rows, i32.sub(get(rows), i32.const(1))),
      ],
    ),
  );
}

/**
 * reduce_cols_OP(x, out, rows, cols, xRowBytes): for each of `rows` rows of x (each xRowBytes
 * after the last), out[j] = out[j] OP x[r][j] for j < cols.
 */
function colsKernel(
  name: string,
  combine: (x: Local, o: Local) => Code,
  combine1: (x: Local, o: Local) => Code,
): FunctionDef {
  const f = new FunctionBuilder(name);
  const x = f.param(ValType.i32);
  const out = f.param(ValType.i32);
  const rows = f.param(ValType.i32);
  const cols = f.param(ValType.i32);
  const xRow = f.param(ValType.i32);
  const px = f.local(ValType.i32);
  const po = f.local(ValType.i32);
  const v = f.local(ValType.v128);
  const o = f.local(ValType.v128);
  const s = f.local(ValType.f32);
  const t = f.local(ValType.f32);
  return f.finish(
    f.while(
      () => i32.gtS(get(rows), i32.const(0)),
      () => [
        set(px, get(x)),
        set(po, get(out)),
        vectorLoop(f, [po, px], cols, (tail) =>
          tail
            ? [set(s, f32.load(get(px))), set(t, f32.load(get(po))), f32.store(get(po), combine1(s, t))]
            : [set(v, v128.load(get(px))), set(o, v128.load(get(po))), v128.store(get(po), combine(v, o))],
        ),
        set(x, i32.add(get(x), get(xRow))),
        set(rows, i32.sub(get(rows), i32.const(1))),
      ],
    ),
  );
}

export function addReduceKernels(fns: FunctionList): void {
  fns.add(rowsSum());
  fns.add(rowsMax());
  fns.add(
    colsKernel(
      "reduce_cols_sum",
      (v, o) => f32x4.add(get(o), get(v)),
      (s, t) => f32.add(get(t), get(s)),
    ),
  );
  fns.add(
    colsKernel(
      "reduce_cols_max",
      (v, o) => maxRule(v, o),
      (s, t) => select(get(s), get(t), i32.or(f32.gt(get(s), get(t)), f32.ne(get(s), get(s)))),
    ),
  );
}
