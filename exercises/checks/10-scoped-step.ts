import { Generator, getBackend, Linear, randn, SGD, type Tensor, tensor } from "../../src/index.ts";
import { exported } from "./assertions.ts";
import { type Exercise, Failure, type StudentModule } from "./verdict.ts";

type TrainStep = (model: Linear, optimizer: SGD, x: Tensor, y: Tensor) => number;

function problem(student: StudentModule) {
  const step = exported<TrainStep>(student, "trainStep");
  const g = new Generator(5);
  const x = randn([32, 3], { generator: g });
  const y = x.matmul(tensor([[1], [-2], [0.5]])).add(0.3);
  const model = new Linear(3, 1, { generator: g });
  const optimizer = new SGD(model.parameters(), { lr: 0.1 });
  return { run: () => step(model, optimizer, x, y) };
}

export const exercise: Exercise = {
  id: "10-scoped-step",
  chapter: 10,
  title: "A training step that leaves nothing behind",
  teaches:
    "deterministic freeing with scopes: what a step allocates, and why the garbage collector cannot be trusted with it",
  checks: [
    {
      name: "it trains: the loss falls over 30 steps",
      hint: "forward, optimizer.zeroGrad(), loss.backward(), optimizer.step(), and return loss.item()",
      run: (student) => {
        const { run } = problem(student);
        const first = run();
        let last = first;
        for (let s = 0; s < 29; s++) last = run();
        if (typeof first !== "number" || !(last < first / 10)) {
          throw new Failure(
            `the loss went from ${first} to ${last} in 30 steps; expected it to fall tenfold`,
          );
        }
        return `loss ${first.toFixed(3)} → ${last.toFixed(5)}`;
      },
    },
    {
      name: "no buffer outlives a step",
      hint: "wrap the whole step in scoped(() => { …; return loss.item(); }, () => []): the number survives, the tensors do not",
      run: (student) => {
        const { run } = problem(student);
        run(); // the first step may allocate what lives on (none here, with plain SGD)
        const backend = getBackend();
        const growth: number[] = [];
        for (let s = 0; s < 5; s++) {
          const before = backend.memory().buffers;
          run();
          growth.push(backend.memory().buffers - before);
        }
        if (growth.some((g) => g !== 0)) {
          throw new Failure(`live buffers grew by ${growth.join(", ")} over five steps; expected 0 each`);
        }
      },
    },
  ],
};
