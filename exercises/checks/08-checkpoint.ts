import fc from "fast-check";
import { Generator, randn, type Tensor, topologicalOrder } from "../../src/index.ts";
import { expectClose, expectGradcheck, expectTensor, exported, holds } from "./assertions.ts";
import { type Exercise, Failure } from "./verdict.ts";

type Checkpoint = (segment: (...inputs: Tensor[]) => Tensor, inputs: Tensor[]) => Tensor;

/** A two-layer block: tanh(tanh(h·W1)·W2). */
const block = (h: Tensor, w1: Tensor, w2: Tensor) => h.matmul(w1).tanh().matmul(w2).tanh();

function parameters(seed: number, width: number): Tensor[] {
  const g = new Generator(seed);
  return [
    randn([3, width], { dtype: "float64", generator: g }),
    randn([width, width], { dtype: "float64", std: 0.7, generator: g }),
    randn([width, width], { dtype: "float64", std: 0.7, generator: g }),
  ].map((t) => {
    t.requiresGrad = true;
    return t;
  });
}

export const exercise: Exercise = {
  id: "08-checkpoint",
  chapter: 8,
  title: "Checkpointing a segment",
  teaches:
    "that reverse mode's memory is the intermediates it keeps, and how recomputing them trades time for it",
  checks: [
    {
      name: "the graph keeps one node for the whole segment",
      hint: 'wrap the segment in applyOp("checkpoint", inputs, forward, vjp): the forward runs under noGrad',
      run: (student) => {
        const checkpoint = exported<Checkpoint>(student, "checkpoint");
        const [h, w1, w2] = parameters(1, 4);
        const out = expectTensor(checkpoint(block, [h, w1, w2]), "checkpoint(block, [h, W1, W2])");
        const inner = topologicalOrder(out).filter((t) => !t.isLeaf);
        if (inner.length !== 1 || out.op !== "checkpoint") {
          throw new Failure(
            `the graph behind the result keeps ${inner.length} op nodes (${inner.map((t) => t.op).join(", ")}); a checkpoint keeps one, "checkpoint"`,
          );
        }
        expectClose(out.dataSync(), block(h, w1, w2).dataSync(), "the value", { atol: 1e-15 });
      },
    },
    {
      name: "every input gets exactly the gradient it gets without checkpointing",
      hint: "recompute with vjp(segment)(...inputs) and return pullback(g)[i] for input i",
      run: (student) => {
        const checkpoint = exported<Checkpoint>(student, "checkpoint");
        holds(
          fc.tuple(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 1, max: 4 })),
          ([seed, width]) => {
            const checked = parameters(seed, width);
            // Two checkpointed segments in a row, sharing W2.
            const once = checkpoint(block, [checked[0], checked[1], checked[2]]);
            checkpoint((h, w) => h.matmul(w).sum(), [once, checked[2]]).backward();
            const twice = parameters(seed, width);
            twice[0].matmul(twice[1]).tanh().matmul(twice[2]).tanh().matmul(twice[2]).sum().backward();
            checked.forEach((t, i) => {
              if (t.grad === null) throw new Failure(`input ${i} of the checkpoint got no gradient`);
              expectClose(t.grad.dataSync(), twice[i].grad!.dataSync(), `the gradient of input ${i}`, {
                atol: 1e-12,
                rtol: 1e-12,
              });
            });
          },
          20,
        );
      },
    },
    {
      name: "gradcheck through a checkpoint",
      hint: "the VJP returns one thunk per input, each giving that input's gradient",
      run: (student) => {
        const checkpoint = exported<Checkpoint>(student, "checkpoint");
        const [h, w1, w2] = parameters(3, 2).map((t) => t.detach());
        expectGradcheck((a, b, c) => checkpoint(block, [a, b, c]), [h, w1, w2], {
          name: "checkpoint(block)",
        });
      },
    },
  ],
};
