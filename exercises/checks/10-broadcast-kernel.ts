import fc from "fast-check";
import { tensor } from "../../src/index.ts";
import { broadcastPairArb, sizeOf, valuesArb } from "./arbitraries.ts";
import { expectClose, exported, holds } from "./assertions.ts";
import { type Exercise, Failure } from "./verdict.ts";

type Broadcast = (
  op: (x: number, y: number) => number,
  a: Float64Array,
  aShape: readonly number[],
  b: Float64Array,
  bShape: readonly number[],
) => { values: Float64Array; shape: number[] };

function expectShapeIs(got: unknown, expected: readonly number[], what: string): void {
  if (!Array.isArray(got) || got.length !== expected.length || got.some((d, i) => d !== expected[i])) {
    throw new Failure(`${what}: shape ${JSON.stringify(got)}, expected [${expected.join(", ")}]`);
  }
}

export const exercise: Exercise = {
  id: "10-broadcast-kernel",
  chapter: 10,
  title: "A broadcasting kernel over typed arrays",
  teaches: "what a backend's binary kernel does with strides, and why a broadcast dimension has stride 0",
  checks: [
    {
      name: "[[1, 2, 3], [4, 5, 6]] + [10, 20, 30]",
      hint: "align shapes from the right: [3] is read as [1, 3] and repeated along the rows",
      run: (student) => {
        const broadcast = exported<Broadcast>(student, "broadcastBinary");
        const { values, shape } = broadcast(
          (x, y) => x + y,
          Float64Array.of(1, 2, 3, 4, 5, 6),
          [2, 3],
          Float64Array.of(10, 20, 30),
          [3],
        );
        expectShapeIs(shape, [2, 3], "the sum's shape");
        expectClose(values, [11, 22, 33, 14, 25, 36], "the sum");
      },
    },
    {
      name: "random broadcast shapes: equals the cpu backend's add and mul",
      hint: "for each output index, the element of a it reads has index 0 along every axis where a has size 1 (stride 0)",
      run: (student) => {
        const broadcast = exported<Broadcast>(student, "broadcastBinary");
        const cases = broadcastPairArb.chain(({ a, b, out }) =>
          fc.tuple(fc.constant({ a, b, out }), valuesArb(sizeOf(a)), valuesArb(sizeOf(b))),
        );
        holds(cases, ([shapes, av, bv]) => {
          const ta = tensor(Float64Array.from(av), shapes.a);
          const tb = tensor(Float64Array.from(bv), shapes.b);
          for (const [name, op, reference] of [
            ["add", (x: number, y: number) => x + y, ta.add(tb)],
            ["mul", (x: number, y: number) => x * y, ta.mul(tb)],
          ] as const) {
            const { values, shape } = broadcast(
              op,
              Float64Array.from(av),
              shapes.a,
              Float64Array.from(bv),
              shapes.b,
            );
            const what = `${name} of [${shapes.a}] and [${shapes.b}]`;
            expectShapeIs(shape, shapes.out, what);
            expectClose(values, reference.dataSync(), what, { atol: 0, rtol: 0 });
          }
        });
      },
    },
    {
      name: "shapes that do not broadcast are refused",
      hint: "[2, 3] and [2]: aligned from the right, 3 meets 2; throw an Error naming both shapes",
      run: (student) => {
        const broadcast = exported<Broadcast>(student, "broadcastBinary");
        let threw = false;
        try {
          broadcast((x, y) => x + y, new Float64Array(6), [2, 3], new Float64Array(2), [2]);
        } catch (error) {
          threw = error instanceof Error;
        }
        if (!threw) throw new Failure("broadcastBinary of [2, 3] and [2] returned; it must throw an Error");
      },
    },
  ],
};
