/**
 * The functional transforms agree with each other, with closed forms and with finite differences:
 * ⟨u, J·v⟩ by jvp equals ⟨Jᵀu, v⟩ by vjp; the Hessian is symmetric and matches finite differences
 * of the gradient; grad(grad(f)) of tanh, sigmoid, softplus and log-sum-exp is their known f''.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { tensor } from "../../src/autograd/create.ts";
import { noGrad } from "../../src/autograd/grad-mode.ts";
import type { Tensor } from "../../src/autograd/tensor.ts";
import { grad, hessian, hvp, jvp, valueAndGrad, vjp } from "../../src/autograd/transforms.ts";
import { RUNS, randomTensorArb, shapeArb, tensorArb } from "../fixtures/arbitraries.ts";
import { expectClose } from "../fixtures/assertions.ts";
import { f64 } from "../fixtures/tensors.ts";

const read = (t: Tensor) => Array.from(t.dataSync());
const dot = (a: Tensor, b: Tensor) => a.mul(b).sum().item();

/** A smooth vector function mixing elementwise ops, a reduction and broadcasting. */
const smooth = (x: Tensor, y: Tensor): Tensor => x.tanh().mul(y.exp()).add(x.mul(x).sum().sigmoid());

describe("grad of grad against closed forms (scalar functions, float64)", () => {
  const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
  const cases: [string, (x: Tensor) => Tensor, (v: number) => number, (v: number) => number][] = [
    [
      "tanh",
      (x) => x.tanh(),
      (v) => 1 - Math.tanh(v) ** 2,
      (v) => -2 * Math.tanh(v) * (1 - Math.tanh(v) ** 2),
    ],
    [
      "sigmoid",
      (x) => x.sigmoid(),
      (v) => sigmoid(v) * (1 - sigmoid(v)),
      (v) => sigmoid(v) * (1 - sigmoid(v)) * (1 - 2 * sigmoid(v)),
    ],
    ["softplus", (x) => x.softplus(), sigmoid, (v) => sigmoid(v) * (1 - sigmoid(v))],
  ];
  for (const [name, f, d1, d2] of cases) {
    it(`${name}: f' and f'' at random points`, () => {
      fc.assert(
        fc.property(fc.double({ min: -6, max: 6, noNaN: true }), (v) => {
          const x = f64([v], []);
          const first = grad(f)(x);
          const second = grad(grad(f))(x);
          const third = grad(grad(grad(f)))(x);
          expectClose(read(first), [d1(v)], { atol: 1e-12, rtol: 1e-10 });
          expectClose(read(second), [d2(v)], { atol: 1e-12, rtol: 1e-9 });
          // The third derivative, by finite differences of the closed-form second.
          const h = 1e-5;
          expectClose(read(third), [(d2(v + h) - d2(v - h)) / (2 * h)], { atol: 1e-6, rtol: 1e-5 });
        }),
        RUNS,
      );
    });
  }

  it("log-sum-exp: the gradient is softmax and the Hessian diag(p) − p·pᵀ", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: 1, maxLength: 5 }),
        (v) => {
          const x = f64(v, [v.length]);
          const lse = (t: Tensor) => t.logsumexp(0);
          const m = Math.max(...v);
          const z = v.reduce((s, a) => s + Math.exp(a - m), 0);
          const p = v.map((a) => Math.exp(a - m) / z);
          expectClose(read(grad(lse)(x)), p, { atol: 1e-12, rtol: 1e-10 });
          const h = p.flatMap((pi, i) => p.map((pj, j) => (i === j ? pi : 0) - pi * pj));
          expectClose(read(hessian(lse)(x)), h, { atol: 1e-12, rtol: 1e-9 });
        },
      ),
      RUNS,
    );
  });

  it("valueAndGrad gives f and ∇f from one pass; several arguments at once; a constant function has zero gradient", () => {
    const x = f64([1, 2], [2]);
    const y = f64([3], []);
    const { value, grad: g } = valueAndGrad((a: Tensor, b: Tensor) => a.mul(b).sum(), [0, 1])(x, y);
    expect(value.item()).toBe(9);
    expect(g.map(read)).toEqual([[3, 3], [3]]);
    expect(read(grad((_a: Tensor) => y.mul(2))(x))).toEqual([0, 0]);
    expect(() => grad((a: Tensor) => a)(x)).toThrow(/^grad: f must return a one-element tensor.*shape \[2\]/);
    expect(() => grad((a: Tensor) => a.sum(), 1)(x)).toThrow(
      /^grad: argument 1 to differentiate does not exist/,
    );
  });

  it("under noGrad the results are plain values; outside it they can be differentiated again", () => {
    const x = f64([0.3, -0.7], [2]);
    const f = (t: Tensor) => t.pow(3).sum();
    expect(noGrad(() => grad(f)(x)).requiresGrad).toBe(false);
    const recorded = grad(f)(x);
    expect(recorded.requiresGrad).toBe(true);
    expectClose(read(recorded), [3 * 0.09, 3 * 0.49], { atol: 1e-15, rtol: 1e-12 });
  });
});

describe("jvp and vjp agree: ⟨u, J·v⟩ = ⟨Jᵀu, v⟩", () => {
  it("for a function of two broadcast arguments, at random points and directions", () => {
    fc.assert(
      fc.property(
        shapeArb(1, 3).chain((s) =>
          fc.tuple(tensorArb(s), tensorArb(s.slice(1)), tensorArb(s), tensorArb(s.slice(1)), tensorArb(s)),
        ),
        ([x, y, vx, vy, u]) => {
          const { value, tangent } = jvp(smooth)([x, y], [vx, vy]);
          const { value: again, pullback } = vjp(smooth)(x, y);
          expect(read(value)).toEqual(read(again));
          const [ux, uy] = pullback(u);
          const forward = dot(u, tangent);
          const reverse = dot(ux, vx) + dot(uy, vy);
          expect(Math.abs(forward - reverse)).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(forward)));
        },
      ),
      RUNS,
    );
  });

  it("jvp matches finite differences along the tangent", () => {
    fc.assert(
      fc.property(
        randomTensorArb().chain((x) => fc.tuple(fc.constant(x), tensorArb([...x.shape]))),
        ([x, v]) => {
          const f = (t: Tensor) => t.sigmoid().mul(t);
          const { tangent } = jvp(f)([x], [v]);
          const h = 1e-6;
          const at = (s: number) => read(noGrad(() => f(x.add(v.mul(s)))));
          const [plus, minus] = [at(h), at(-h)];
          expectClose(
            read(tangent),
            plus.map((p, i) => (p - minus[i]) / (2 * h)),
            { atol: 1e-7, rtol: 1e-6 },
          );
        },
      ),
      RUNS,
    );
  });

  it("rejects tangents that do not match their primals, naming which", () => {
    expect(() => jvp((t: Tensor) => t)([f64([1, 2], [2])], [f64([1], [1])])).toThrow(
      /^jvp: tangent 0 is float64 \[1\] but its primal is float64 \[2\]/,
    );
  });
});

describe("hessian and hvp", () => {
  /** A scalar function with every second partial non-zero and different. */
  const f = (x: Tensor) => x.tanh().mul(x.sum()).add(x.pow(3).mul(x.exp()).sum()).sum();

  it("the Hessian is symmetric and matches finite differences of the gradient; hvp is H·v", () => {
    fc.assert(
      fc.property(
        shapeArb(1, 2).chain((s) => fc.tuple(tensorArb(s), tensorArb(s))),
        ([x, v]) => {
          const n = x.size;
          const h = read(hessian(f)(x));
          expect(hessian(f)(x).shape).toEqual([...x.shape, ...x.shape]);
          for (let i = 0; i < n; i++) {
            for (let j = 0; j < i; j++) {
              expect(Math.abs(h[i * n + j] - h[j * n + i])).toBeLessThanOrEqual(
                1e-12 * (1 + Math.abs(h[i * n + j])),
              );
            }
          }
          const eps = 1e-6;
          const values = read(x);
          for (let j = 0; j < n; j++) {
            const at = (d: number) => {
              const shifted = [...values];
              shifted[j] += d;
              return read(noGrad(() => grad(f)(f64(shifted, x.shape))));
            };
            const [plus, minus] = [at(eps), at(-eps)];
            const column = plus.map((p, i) => (p - minus[i]) / (2 * eps));
            expectClose(
              Array.from({ length: n }, (_, i) => h[i * n + j]),
              column,
              { atol: 1e-6, rtol: 1e-5 },
            );
          }
          const vs = read(v);
          const hv = Array.from({ length: n }, (_, i) => vs.reduce((s, vj, j) => s + h[i * n + j] * vj, 0));
          expectClose(read(hvp(f)(x, v)), hv, { atol: 1e-12, rtol: 1e-10 });
        },
      ),
      { numRuns: 20 },
    );
  });

  it("the Hessian of a quadratic form xᵀAx is A + Aᵀ", () => {
    const a = tensor(
      [
        [1, 2],
        [-3, 4],
      ],
      { dtype: "float64" },
    );
    const q = (x: Tensor) =>
      x
        .reshape([1, 2])
        .matmul(a)
        .matmul(x.reshape([2, 1]))
        .sum();
    expect(hessian(q)(f64([0.5, -2], [2])).toArray()).toEqual([
      [2, -1],
      [-1, 8],
    ]);
  });
});

describe("grad and valueAndGrad", () => {
  it("refuse argument numbers that are negative, fractional or past the last argument", () => {
    const x = f64([1, 2], [2]);
    const f = (a: Tensor) => a.sum();
    for (const n of [-1, 0.5, 1]) {
      expect(() => grad(f, n)(x)).toThrow(
        `grad: argument ${n} to differentiate does not exist (f got 1 arguments)`,
      );
    }
    expect(() => grad(f, [0, 2])(x)).toThrow(
      "grad: argument 2 to differentiate does not exist (f got 1 arguments)",
    );
  });

  it("with a list of argument numbers give a list of gradients, in that order", () => {
    const a = f64([1, 2], [2]);
    const b = f64([3, 4], [2]);
    // f = Σ a²·b: ∂f/∂a = 2ab, ∂f/∂b = a².
    const f = (p: Tensor, q: Tensor) => p.mul(p).mul(q).sum();
    const { value, grad: grads } = valueAndGrad(f, [1, 0])(a, b);
    expect(value.item()).toBe(1 * 3 + 4 * 4);
    expect(grads.map((g) => g.toArray())).toEqual([
      [1, 4],
      [6, 16],
    ]);
    expect(grad(f, [1])(a, b).map((g) => g.toArray())).toEqual([[1, 4]]);
    // A single argument number (the first by default) gives a single gradient.
    expect(valueAndGrad(f)(a, b).grad.toArray()).toEqual([6, 16]);
    expect(valueAndGrad(f, 1)(a, b).grad.toArray()).toEqual([1, 4]);
  });
});

describe("jvp", () => {
  it("refuses a wrong number of tangents, or one of another dtype, naming which", () => {
    const f = (p: Tensor, q: Tensor) => p.mul(q);
    const x = f64([1, 2], [2]);
    expect(() => jvp(f)([x, x], [x])).toThrow("jvp: got 1 tangents for 2 primals (one each)");
    expect(() => jvp(f)([x, x], [x, tensor([1, 2])])).toThrow(
      "jvp: tangent 1 is float32 [2] but its primal is float64 [2]",
    );
  });

  it("of a function that ignores its input is zero, shaped like the output", () => {
    const c = f64([5, 6, 7], [3]);
    const { value, tangent } = jvp((_x: Tensor) => c.mul(2))([f64([1], [1])], [f64([1], [1])]);
    expect(value.toArray()).toEqual([10, 12, 14]);
    expect(tangent.toArray()).toEqual([0, 0, 0]);
  });

  it("adds the directional derivatives of every argument", () => {
    // f(p, q) = p·q elementwise: J·(u, v) = u·q + p·v.
    const p = f64([1, 2], [2]);
    const q = f64([3, 4], [2]);
    const { tangent } = jvp((a: Tensor, b: Tensor) => a.mul(b))([p, q], [f64([1, 0], [2]), f64([0, 1], [2])]);
    expect(tangent.toArray()).toEqual([3, 2]);
  });
});

describe("vjp", () => {
  it("gives a pullback that can be called again with another cotangent", () => {
    // f(x) = x² elementwise: uᵀJ = 2x·u.
    const { value, pullback } = vjp((x: Tensor) => x.mul(x))(f64([1, -2], [2]));
    expect(value.toArray()).toEqual([1, 4]);
    expect(pullback(f64([1, 1], [2]))[0].toArray()).toEqual([2, -4]);
    expect(pullback(f64([0, 3], [2]))[0].toArray()).toEqual([0, -12]);
  });
});

describe("hessian", () => {
  it("of an empty input is empty, shaped [...x.shape, ...x.shape]", () => {
    expect(hessian((x: Tensor) => x.sum())(f64([], [0])).shape).toEqual([0, 0]);
    expect(hessian((x: Tensor) => x.sum())(f64([], [2, 0])).shape).toEqual([2, 0, 2, 0]);
  });

  it("works in float32 too: Σ x³ has Hessian diag(6x)", () => {
    const h = hessian((x: Tensor) => x.mul(x).mul(x).sum())(tensor([1, -2]));
    expect(h.dtype).toBe("float32");
    expect(h.toArray()).toEqual([
      [6, 0],
      [0, -12],
    ]);
  });
});
