import { Generator, randn, type Tensor, tensor } from "../../src/index.ts";
import { expectClose, exported } from "./assertions.ts";
import { type Exercise, Failure } from "./verdict.ts";

type SgdStep = (params: readonly Tensor[], lr: number) => void;

export const exercise: Exercise = {
  id: "06-sgd-step",
  chapter: 6,
  title: "An SGD step done right",
  teaches: "why an update changes a parameter in place outside the graph, and why gradients must be cleared",
  checks: [
    {
      name: "p ← p − lr·grad, in place: the same leaf, its version bumped",
      hint: "noGrad(() => p.assign(p.sub(p.grad.mul(lr)))): p = p.sub(…) would make p the output of an op",
      run: (student) => {
        const step = exported<SgdStep>(student, "sgdStep");
        const p = tensor([1, 2], { dtype: "float64", requiresGrad: true });
        p.mul(tensor([0.5, -1], { dtype: "float64" }))
          .sum()
          .backward(); // p.grad = [0.5, −1]
        const params = [p];
        step(params, 0.1);
        if (params[0] !== p) throw new Failure("the params array was changed: update the tensors themselves");
        expectClose(p.dataSync(), [0.95, 2.1], "p after one step with lr 0.1");
        if (!p.isLeaf || !p.requiresGrad) throw new Failure("p is no longer a leaf that requires grad");
        if (p.version === 0) throw new Failure("p's version is still 0: change its values with p.assign(…)");
      },
    },
    {
      name: "gradients are cleared after the step",
      hint: "backward adds into .grad: call p.zeroGrad() on every parameter after updating",
      run: (student) => {
        const step = exported<SgdStep>(student, "sgdStep");
        const p = tensor([1, 2], { dtype: "float64", requiresGrad: true });
        p.sum().backward();
        step([p], 0.1);
        if (p.grad !== null)
          throw new Failure(`p.grad is ${JSON.stringify(p.grad.toArray())} after the step; expected null`);
      },
    },
    {
      name: "a parameter without a gradient is left alone",
      hint: "skip a parameter whose .grad is null (nothing reached it)",
      run: (student) => {
        const step = exported<SgdStep>(student, "sgdStep");
        const used = tensor([1], { dtype: "float64", requiresGrad: true });
        const unused = tensor([5], { dtype: "float64", requiresGrad: true });
        used.sum().backward();
        step([used, unused], 0.5);
        expectClose(unused.dataSync(), [5], "the parameter with no gradient");
        expectClose(used.dataSync(), [0.5], "the parameter with gradient 1");
      },
    },
    {
      name: "fits a linear regression: mean squared error below 1e-6 in 200 steps",
      hint: "each step: forward, backward, then your sgdStep; if the loss stalls or grows, look at what .grad holds between steps",
      run: (student) => {
        const step = exported<SgdStep>(student, "sgdStep");
        const g = new Generator(4);
        const x = randn([64, 2], { dtype: "float64", generator: g });
        const y = x.matmul(tensor([[2], [-3]], { dtype: "float64" })).add(0.5);
        const w = tensor([[0], [0]], { dtype: "float64", requiresGrad: true });
        const b = tensor([0], { dtype: "float64", requiresGrad: true });
        let loss = Number.NaN;
        for (let s = 0; s < 200; s++) {
          const l = x.matmul(w).add(b).sub(y).pow(2).mean();
          loss = l.item();
          l.backward();
          step([w, b], 0.1);
        }
        if (!(loss < 1e-6)) throw new Failure(`the loss after 200 steps is ${loss}, expected below 1e-6`);
        return `final loss ${loss.toExponential(2)}`;
      },
    },
  ],
};
