/**
 * jacrev, jacfwd and jacobian, with JAX's shapes: J of one output and one argument has shape
 * [...out.shape, ...x.shape]; a list of argnums gives one block per argument and a list of outputs
 * one (list) per output. Checked against closed forms (a matmul is its matrix, an elementwise op a
 * diagonal, softmax diag(s) − ssᵀ), against each other and against finite differences over random
 * shapes, and against vjp and jvp: Jᵀu and J·v.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { tensor } from "../../src/autograd/create.ts";
import { noGrad } from "../../src/autograd/grad-mode.ts";
import type { Tensor } from "../../src/autograd/tensor.ts";
import { grad, hessian, jacfwd, jacobian, jacrev, jvp, vjp } from "../../src/autograd/transforms.ts";
import { broadcastPairArb, RUNS, shapeArb, tensorArb } from "../fixtures/arbitraries.ts";
import { expectClose } from "../fixtures/assertions.ts";
import { f64 } from "../fixtures/tensors.ts";

const read = (t: Tensor) => Array.from(t.dataSync());
const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** A smooth map from x (any shape) and y (broadcast against x) to two outputs of other shapes. */
const mixed = (x: Tensor, y: Tensor): Tensor => x.tanh().mul(y.exp()).add(x.mul(x).sum().sigmoid());

/** The Jacobian of f at x by centered differences, row-major [out.size × x.size]. */
function finiteJacobian(f: (x: Tensor) => Tensor, x: Tensor): number[] {
  const v = Array.from(x.dataSync());
  const h = 1e-6;
  const columns = v.map((_, j) => {
    const at = (d: number) =>
      read(
        f(
          f64(
            v.map((vi, i) => (i === j ? vi + d : vi)),
            x.shape,
          ),
        ),
      );
    const plus = at(h);
    const minus = at(-h);
    return plus.map((p, i) => (p - minus[i]) / (2 * h));
  });
  const m = columns.length === 0 ? read(f(x)).length : columns[0].length;
  return Array.from({ length: m * v.length }, (_, k) => columns[k % v.length][Math.floor(k / v.length)]);
}

describe("closed forms", () => {
  it("the Jacobian of x ↦ A·x is A, by both modes", () => {
    const a = f64([1, 2, 3, 4, 5, 6], [2, 3]);
    const f = (x: Tensor) => a.matmul(x.reshape([3, 1])).reshape([2]);
    const x = f64([0.5, -1, 2], [3]);
    for (const j of [jacrev(f)(x), jacfwd(f)(x), jacobian(f)(x)]) {
      expect(j.shape).toEqual([2, 3]);
      expect(read(j)).toEqual([1, 2, 3, 4, 5, 6]);
    }
  });

  it("an elementwise op's Jacobian is diagonal: tanh gives diag(1 − tanh²), in x's shape twice", () => {
    const x = f64([0.3, -1.2, 0.7, 2], [2, 2]);
    const expected = [0, 1, 2, 3].flatMap((i) =>
      [0, 1, 2, 3].map((j) => (i === j ? 1 - Math.tanh(read(x)[i]) ** 2 : 0)),
    );
    for (const j of [jacrev((t: Tensor) => t.tanh())(x), jacfwd((t: Tensor) => t.tanh())(x)]) {
      expect(j.shape).toEqual([2, 2, 2, 2]);
      expectClose(read(j), expected, { atol: 1e-15, rtol: 1e-12 });
    }
  });

  it("softmax's Jacobian is diag(s) − s·sᵀ", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }).chain((n) => tensorArb([n])),
        (x) => {
          const n = x.size;
          const s = read(x.softmax(0));
          const expected = s.flatMap((si, i) => s.map((sj, j) => (i === j ? si : 0) - si * sj));
          const f = (t: Tensor) => t.softmax(0);
          expectClose(read(jacrev(f)(x)), expected, { atol: 1e-14, rtol: 1e-10 });
          expectClose(read(jacfwd(f)(x)), expected, { atol: 1e-14, rtol: 1e-10 });
          expect(jacfwd(f)(x).shape).toEqual([n, n]);
        },
      ),
      RUNS,
    );
  });

  it("a scalar output gives a gradient-shaped Jacobian, and a scalar input a output-shaped one", () => {
    const x = f64([1, 2, 3], [3]);
    const sumSquares = (t: Tensor) => t.mul(t).sum();
    expect(read(jacrev(sumSquares)(x))).toEqual(read(grad(sumSquares)(x)));
    expect(jacfwd(sumSquares)(x).shape).toEqual([3]);
    const c = f64([2], []);
    const scaled = (t: Tensor) => x.mul(t);
    expect(jacfwd(scaled)(c).shape).toEqual([3]);
    expect(read(jacrev(scaled)(c))).toEqual([1, 2, 3]);
  });
});

describe("JAX's argnums and multiple outputs", () => {
  const x = f64([0.2, -0.4, 0.9], [3]);
  const y = f64([1.5, -0.5], [2, 1]);
  // out has shape [2, 3]: x broadcast against y.
  const f = (a: Tensor, b: Tensor) => a.mul(b);

  it("argnums picks the argument; a list gives one block per argument, in its order", () => {
    for (const jac of [jacrev, jacfwd]) {
      const jx = jac(f)(x, y);
      const jy = jac(f, 1)(x, y);
      const both = jac(f, [1, 0])(x, y);
      expect(jx.shape).toEqual([2, 3, 3]);
      expect(jy.shape).toEqual([2, 3, 2, 1]);
      expect(both.map((t) => t.shape)).toEqual([
        [2, 3, 2, 1],
        [2, 3, 3],
      ]);
      // d(x_j·y_i)/dx_k = y_i·[j = k];  d(x_j·y_i)/dy_l = x_j·[i = l].
      const [xv, yv] = [read(x), read(y)];
      expect(read(jx)).toEqual(
        [0, 1].flatMap((i) => [0, 1, 2].flatMap((j) => [0, 1, 2].map((k) => (j === k ? yv[i] : 0)))),
      );
      expect(read(jy)).toEqual(
        [0, 1].flatMap((i) => [0, 1, 2].flatMap((j) => [0, 1].map((l) => (i === l ? xv[j] : 0)))),
      );
      expect(read(both[0])).toEqual(read(jy));
      expect(read(both[1])).toEqual(read(jx));
    }
  });

  it("a function returning a list of outputs gives one Jacobian (or one list) per output", () => {
    const g = (a: Tensor, b: Tensor) => [a.mul(b).sum(), a.exp()];
    for (const jac of [jacrev, jacfwd]) {
      const perOutput = jac(g)(x, y);
      expect(perOutput.map((t) => t.shape)).toEqual([[3], [3, 3]]);
      const grid = jac(g, [0, 1])(x, y);
      expect(grid.map((row) => row.map((t) => t.shape))).toEqual([
        [[3], [2, 1]],
        [
          [3, 3],
          [3, 2, 1],
        ],
      ]);
      // exp does not read y: its block is zeros.
      expect(read(grid[1][1])).toEqual([0, 0, 0, 0, 0, 0]);
      expectClose(
        read(grid[1][0]),
        [0, 1, 2].flatMap((i) => [0, 1, 2].map((j) => (i === j ? Math.exp(read(x)[i]) : 0))),
        {
          rtol: 1e-15,
        },
      );
    }
  });

  it("refuses an argument that does not exist and an output that is not a tensor, naming the transform", () => {
    expect(() => jacrev(f, 2)(x, y)).toThrow(
      /^jacrev: argument 2 to differentiate does not exist \(f got 2 arguments\)/,
    );
    expect(() => jacfwd(f, [0, -1])(x, y)).toThrow(/^jacfwd: argument -1 to differentiate does not exist/);
    const notTensors = (() => [x, 3]) as unknown as (a: Tensor) => Tensor[];
    expect(() => jacfwd(notTensors)(x)).toThrow(
      /^jacfwd: f must return a tensor or a list of tensors; output 1 is not a tensor/,
    );
  });

  it("an input or output with no elements gives an empty block of the right shape", () => {
    const empty = f64([], [0, 2]);
    expect(jacrev((t: Tensor) => t.exp())(empty).shape).toEqual([0, 2, 0, 2]);
    expect(jacfwd((t: Tensor) => t.sum())(empty).shape).toEqual([0, 2]);
    expect(jacrev((t: Tensor) => t.sum())(empty).shape).toEqual([0, 2]);
    expect(jacfwd((t: Tensor) => t.exp())(empty).shape).toEqual([0, 2, 0, 2]);
  });
});

describe("the two modes agree with each other, with finite differences and with vjp/jvp", () => {
  const pairArb = broadcastPairArb.chain(({ a, b }) => fc.tuple(tensorArb(a), tensorArb(b)));

  it("jacrev = jacfwd = finite differences, over random shapes", () => {
    fc.assert(
      fc.property(
        shapeArb(0, 3).chain((s) => tensorArb(s)),
        (x) => {
          const y = f64([0.3], []);
          const f = (t: Tensor) => mixed(t, y);
          const rev = jacrev(f)(x);
          const fwd = jacfwd(f)(x);
          expect(rev.shape).toEqual([...x.shape, ...x.shape]);
          expect(fwd.shape).toEqual(rev.shape);
          expectClose(read(fwd), read(rev), { atol: 1e-14, rtol: 1e-12 });
          expectClose(read(rev), finiteJacobian(f, x), { atol: 1e-7, rtol: 1e-6 });
        },
      ),
      RUNS,
    );
  });

  it("Jᵀu is vjp's pullback and J·v is jvp's tangent, for two broadcast arguments", () => {
    fc.assert(
      fc.property(pairArb, fc.integer(), ([x, y], seed) => {
        const out = mixed(x, y);
        const n = size(out.shape);
        const u = f64(
          Array.from({ length: n }, (_, i) => Math.sin(seed + i)),
          out.shape,
        );
        const vx = f64(
          Array.from({ length: x.size }, (_, i) => Math.cos(seed - i)),
          x.shape,
        );
        const [jx, jy] = jacrev(mixed, [0, 1])(x, y);
        const [fx, fy] = jacfwd(mixed, [0, 1])(x, y);
        // Jᵀu: contract the output axes of J with u.
        const flat = (j: Tensor, inSize: number) => j.reshape([n, inSize]);
        const jtu = (j: Tensor, inSize: number) => read(u.reshape([1, n]).matmul(flat(j, inSize)));
        const pulled = vjp(mixed)(x, y).pullback(u);
        expectClose(jtu(jx, x.size), read(pulled[0]), { atol: 1e-12, rtol: 1e-10 });
        expectClose(jtu(jy, y.size), read(pulled[1]), { atol: 1e-12, rtol: 1e-10 });
        expectClose(jtu(fy, y.size), read(pulled[1]), { atol: 1e-12, rtol: 1e-10 });
        // J·v along x only.
        const jv = read(flat(fx, x.size).matmul(vx.reshape([x.size, 1])));
        const tangent = jvp(mixed)([x, y], [vx, f64(new Array(y.size).fill(0), y.shape)]).tangent;
        expectClose(jv, read(tangent), { atol: 1e-12, rtol: 1e-10 });
      }),
      RUNS,
    );
  });

  it("jacrev(jacrev(f)) and jacfwd(jacrev(f)) are the Hessian", () => {
    const f = (t: Tensor) => t.tanh().mul(t.sum()).sum();
    const x = f64([0.4, -0.3, 1.1], [3]);
    const h = read(hessian(f)(x));
    expectClose(read(jacrev(jacrev(f))(x)), h, { atol: 1e-14, rtol: 1e-12 });
    expectClose(read(jacfwd(jacrev(f))(x)), h, { atol: 1e-14, rtol: 1e-12 });
  });

  it("under noGrad they are plain values; outside it they can be differentiated again", () => {
    const x = tensor([0.5, -0.2], { dtype: "float64", requiresGrad: true });
    const f = (t: Tensor) => t.mul(t).mul(t);
    const plain = noGrad(() => jacfwd(f)(x));
    expect(plain.requiresGrad).toBe(false);
    const recorded = jacrev(f)(x); // diag(3x²)
    expect(recorded.requiresGrad).toBe(true);
    recorded.sum().backward();
    expectClose(read(x.grad!), [3, -1.2], { rtol: 1e-12 }); // d Σ 3x²/dx = 6x
  });
});
