/**
 * exp, log and the functions built on them, four float32 lanes at a time. WebAssembly has no
 * transcendental instructions, so we compute them the way C math libraries do (these are the
 * Cephes single-precision algorithms, accurate to a couple of units in the last place):
 *
 * - exp(x): write x = n·ln2 + r with n an integer and |r| ≤ ln2/2; then eˣ = 2ⁿ·eʳ, where eʳ is a
 *   short polynomial and 2ⁿ is built directly from its exponent bits.
 * - log(x): write x = 2ᵉ·m with m in [√½, √2); then ln x = e·ln2 + ln m, with ln m a polynomial.
 *
 * Each function here emits statements that read a v128 local holding x and leave the result in
 * another; special values (±∞, NaN, 0, subnormals) get the same answers as JavaScript's Math.
 */
import { ValType } from "./encoding.ts";
import {
  type Code,
  type FunctionBuilder,
  f32x4,
  get,
  i32,
  i32x4,
  type Local,
  type Stmts,
  set,
  v128,
} from "./instructions.ts";

/** Emits code computing `out` = f(`x`) lane by lane. `x` is read, never written. */
export type VectorFunction = (f: FunctionBuilder, x: Local, out: Local) => Stmts;

const splat = (c: number) => v128.f32x4(c);
const add = f32x4.add;
const sub = f32x4.sub;
const mul = f32x4.mul;

/** c0 + x·(c1 + x·(c2 + …)), by Horner's rule; coefficients from the highest power down. */
function horner(x: Code, coefficients: readonly number[]): number[] {
  let acc: number[] = splat(coefficients[0]);
  for (const c of coefficients.slice(1)) acc = add(mul(acc, x), splat(c));
  return acc;
}

// ln 2 split in two so that n·LN2_HI is exact for the n we meet and the rest is carried by LN2_LO.
const LN2_HI = 0.693359375;
const LN2_LO = -2.1219444e-4;

/** 1.5·2²³: adding it to |y| < 2²² rounds y to an integer held in the low bits of the mantissa. */
const ROUNDER = 12582912;

export const exp: VectorFunction = (f, x, out) => {
  const t = f.local(ValType.v128);
  const k = f.local(ValType.v128);
  const n = f.local(ValType.v128);
  const r = f.local(ValType.v128);
  const ni = f.local(ValType.v128);
  const half = f.local(ValType.v128);
  // 2^j for integer lanes j: the float whose exponent field is j + 127.
  const pow2 = (j: Code) => i32x4.shl(i32x4.add(j, v128.i32x4(127)), i32.const(23));
  return [
    // Beyond these, eˣ is ∞ or 0 in float32; clamping keeps 2ⁿ representable. pmax/pmin are one
    // instruction each (f32x4.max/min cost several, for NaN and ±0 rules we do not need here),
    // and with x on the left a NaN passes through.
    set(t, f32x4.pmin(f32x4.pmax(get(x), splat(-104)), splat(88.8))),
    // n = round(t·log₂e): as a float (k − ROUNDER) and as an integer (k's bits − ROUNDER's bits).
    set(k, add(mul(get(t), splat(Math.LOG2E)), splat(ROUNDER))),
    set(n, sub(get(k), splat(ROUNDER))),
    set(ni, i32x4.sub(get(k), v128.f32x4(ROUNDER))),
    set(r, sub(sub(get(t), mul(get(n), splat(LN2_HI))), mul(get(n), splat(LN2_LO)))),
    // eʳ ≈ 1 + r + r²·P(r)
    set(
      out,
      add(
        add(
          mul(
            mul(get(r), get(r)),
            horner(
              get(r),
              [
                1.98756915e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1,
                5.0000001201e-1,
              ],
            ),
          ),
          get(r),
        ),
        splat(1),
      ),
    ),
    // Multiply by 2ⁿ in two halves, so that n down to -150 (subnormal results) stays in range.
    set(half, i32x4.shrS(get(ni), i32.const(1))),
    set(out, mul(mul(get(out), pow2(get(half))), pow2(i32x4.sub(get(ni), get(half))))),
  ];
};

export const log: VectorFunction = (f, x, out) => {
  const m = f.local(ValType.v128);
  const e = f.local(ValType.v128);
  const small = f.local(ValType.v128);
  const lt = f.local(ValType.v128);
  const z = f.local(ValType.v128);
  const fe = f.local(ValType.v128);
  return [
    // Subnormal inputs have no implicit leading 1: scale them by 2²³ first and remember it.
    set(small, f32x4.lt(get(x), splat(1.17549435e-38))),
    set(m, v128.bitselect(mul(get(x), splat(8388608)), get(x), get(small))),
    // The exponent field, unbiased so that the mantissa below lies in [0.5, 1).
    set(
      e,
      i32x4.sub(
        i32x4.sub(i32x4.shrU(get(m), i32.const(23)), v128.i32x4(126)),
        v128.and(get(small), v128.i32x4(23)),
      ),
    ),
    set(m, v128.or(v128.and(get(m), v128.i32x4(0x007fffff)), v128.i32x4(0x3f000000))),
    // Move m into [√½, √2): below √½ double it and take one from the exponent (lt is -1 there).
    set(lt, f32x4.lt(get(m), splat(Math.SQRT1_2))),
    set(e, i32x4.add(get(e), get(lt))),
    set(m, add(sub(get(m), splat(1)), v128.and(get(m), get(lt)))),
    set(z, mul(get(m), get(m))),
    set(fe, f32x4.convertI32x4S(get(e))),
    // ln(1 + m) ≈ m − m²/2 + m³·P(m), plus e·ln2 in two parts.
    set(
      out,
      mul(
        mul(
          horner(
            get(m),
            [
              7.0376836292e-2, -1.151461031e-1, 1.167699874e-1, -1.2420140846e-1, 1.4249322787e-1,
              -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1,
            ],
          ),
          get(m),
        ),
        get(z),
      ),
    ),
    set(out, add(get(out), mul(get(fe), splat(LN2_LO)))),
    set(out, sub(get(out), mul(get(z), splat(0.5)))),
    set(out, add(add(get(m), get(out)), mul(get(fe), splat(LN2_HI)))),
    // Special values: log(±0) = -∞, log(∞) = ∞, log(x < 0) = log(NaN) = NaN.
    set(out, v128.bitselect(splat(Number.NEGATIVE_INFINITY), get(out), f32x4.eq(get(x), splat(0)))),
    set(out, v128.bitselect(get(x), get(out), f32x4.eq(get(x), splat(Number.POSITIVE_INFINITY)))),
    set(out, v128.bitselect(splat(Number.NaN), get(out), v128.not(f32x4.ge(get(x), splat(0))))),
  ];
};

/**
 * log(1 + u) for 0 ≤ u ≤ 1, as 2·atanh(s) with s = u/(2 + u) ≤ 1/3:
 *   log(1 + u) = 2s·(1 + s²/3 + s⁴/5 + … + s¹²/13)
 * The series needs no log and no special cases, and keeps full relative precision for tiny u
 * (where log(1 + u) computed directly would round 1 + u to 1).
 */
export const log1pUnit: VectorFunction = (f, u, out) => {
  const s = f.local(ValType.v128);
  const s2 = f.local(ValType.v128);
  return [
    set(s, f32x4.div(get(u), add(get(u), splat(2)))),
    set(s2, mul(get(s), get(s))),
    set(out, mul(mul(get(s), splat(2)), horner(get(s2), [1 / 13, 1 / 11, 1 / 9, 1 / 7, 1 / 5, 1 / 3, 1]))),
  ];
};

/** 1/(1 + e⁻ˣ), as (x ≥ 0 ? 1 : e)/(1 + e) with e = e^-|x| ≤ 1, so nothing overflows. */
export const sigmoid: VectorFunction = (f, x, out) => {
  const a = f.local(ValType.v128);
  const e = f.local(ValType.v128);
  return [
    set(a, f32x4.neg(f32x4.abs(get(x)))),
    exp(f, a, e),
    set(out, f32x4.div(v128.bitselect(splat(1), get(e), f32x4.ge(get(x), splat(0))), add(splat(1), get(e)))),
  ];
};

/** log(1 + eˣ) = max(x, 0) + log1p(e^-|x|): finite for every finite x. */
export const softplus: VectorFunction = (f, x, out) => {
  const a = f.local(ValType.v128);
  const e = f.local(ValType.v128);
  return [
    set(a, f32x4.neg(f32x4.abs(get(x)))),
    exp(f, a, e),
    log1pUnit(f, e, out),
    set(out, add(f32x4.pmax(get(x), splat(0)), get(out))),
  ];
};

/** tanh: an odd polynomial near 0 (where 1 − 2/(e²ˣ + 1) would cancel), that formula beyond 0.625. */
export const tanh: VectorFunction = (f, x, out) => {
  const s = f.local(ValType.v128);
  const e = f.local(ValType.v128);
  const big = f.local(ValType.v128);
  return [
    set(s, mul(f32x4.abs(get(x)), splat(2))),
    exp(f, s, e),
    set(big, sub(splat(1), f32x4.div(splat(2), add(get(e), splat(1))))),
    // Put back the sign of x (big ≥ 0).
    set(big, v128.or(get(big), v128.and(get(x), v128.i32x4(-0x80000000)))),
    set(s, mul(get(x), get(x))),
    set(
      out,
      add(
        mul(
          mul(
            horner(
              get(s),
              [-5.70498872745e-3, 2.06390887954e-2, -5.37397155531e-2, 1.33314422036e-1, -3.33332819422e-1],
            ),
            get(s),
          ),
          get(x),
        ),
        get(x),
      ),
    ),
    set(out, v128.bitselect(get(big), get(out), f32x4.gt(f32x4.abs(get(x)), splat(0.625)))),
  ];
};
