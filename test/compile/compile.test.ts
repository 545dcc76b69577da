/**
 * compile(step) against the step itself: the same numbers, bit for bit, after many steps (losses,
 * parameters, optimizer state, the generator), on the cpu and wasm backends; and the errors for the
 * steps a replay could not repeat.
 */
import { afterEach, describe, expect, it } from "vitest";
import { randn, tensor, zeros } from "../../src/autograd/create.ts";
import { hostEffect } from "../../src/autograd/host.ts";
import { Generator } from "../../src/autograd/random.ts";
import { scoped } from "../../src/autograd/scope.ts";
import { fromTypedArray, type Tensor } from "../../src/autograd/tensor.ts";
import { CompileError, compile } from "../../src/compile/compile.ts";
import type { Backend } from "../../src/kernels/backend.ts";
import { cpuBackend, getBackend, setBackend } from "../../src/kernels/registry.ts";
import { createWasmBackend } from "../../src/kernels/wasm/create.ts";
import { Adam } from "../../src/nn/optim/adam.ts";
import type { Optimizer } from "../../src/nn/optim/optimizer.ts";
import { SGD } from "../../src/nn/optim/sgd.ts";
import { BernoulliVAE } from "../../src/vae/model.ts";
import { stepOf } from "../../src/vae/train.ts";

const previous = getBackend();
afterEach(() => setBackend(previous));

const config = { inputDim: 12, latentDim: 3, encUnits: 7, decUnits: 5 };

/** A tiny VAE, its optimizer and generator, all from one seed. */
function run(makeOptimizer: (params: Tensor[]) => Optimizer) {
  const generator = new Generator(7);
  const model = new BernoulliVAE(config, { generator });
  const optimizer = makeOptimizer(model.parameters());
  return { model, optimizer, generator, step: stepOf(model, optimizer, generator) };
}

/** Batches of 5 images of 12 pixels in [0, 1], the same for every run. */
function batches(n: number): Float32Array[] {
  const g = new Generator(3);
  return Array.from({ length: n }, () => Float32Array.from({ length: 5 * 12 }, () => g.uniform()));
}

async function everything(r: ReturnType<typeof run>): Promise<number[][]> {
  const tensors = [...r.model.parameters(), ...Object.values(r.optimizer.stateTensors()).flat()];
  return [
    ...(await Promise.all(tensors.map(async (t) => Array.from(await t.data())))),
    [r.generator.uniform()],
  ];
}

describe.each<[string, () => Promise<Backend>]>([
  ["cpu", async () => cpuBackend()],
  ["wasm", () => createWasmBackend({ threads: 1 })],
  // Every job of the lowered program goes through the task queue that a worker thread shares.
  [
    "wasm with a worker thread",
    () => createWasmBackend({ threads: 2, parallelFlops: 0, parallelElements: 0 }),
  ],
])("compiled training on %s", (_, makeBackend) => {
  it.each<[string, (params: Tensor[]) => Optimizer]>([
    ["Adam", (params) => new Adam(params, { lr: 0.01 })],
    [
      "SGD with momentum and weight decay",
      (params) => new SGD(params, { lr: 0.05, momentum: 0.9, weightDecay: 0.01 }),
    ],
  ])("%s: 12 steps give the eager run's losses, weights, optimizer state and generator, bit for bit", async (_, opt) => {
    setBackend(await makeBackend());
    const data = batches(12);
    const eager = run(opt);
    const compiledRun = run(opt);
    const compiled = compile(compiledRun.step);
    const runs: string[] = [];
    for (const images of data) {
      const x = () => fromTypedArray(images, [5, 12]);
      const [a, b] = [eager.step(x()), compiled(x())];
      runs.push(compiled.lastRun ?? "none");
      for (let k = 0; k < a.length; k++)
        expect(Array.from(await b[k].data())).toEqual(Array.from(await a[k].data()));
    }
    // Two runs are watched and agree; every later call is a replay.
    expect(runs).toEqual(["traced", "traced", ...Array(10).fill("replayed")]);
    expect(await everything(compiledRun)).toEqual(await everything(eager));
    expect(compiledRun.optimizer.stateDict().step).toBe(12);
  });

  it("replays without building anything that lasts: the backend holds as many buffers after 20 more steps", async () => {
    setBackend(await makeBackend());
    const r = run((params) => new Adam(params));
    const compiled = compile(r.step);
    const x = fromTypedArray(batches(1)[0], [5, 12]);
    const stepAndFree = () => {
      for (const t of compiled(x)) t.dispose();
    };
    for (let i = 0; i < 3; i++) stepAndFree();
    const before = getBackend().memory().buffers;
    for (let i = 0; i < 20; i++) stepAndFree();
    expect(getBackend().memory().buffers).toBe(before);
  });
});

describe("compile", () => {
  it("describes its program: every op, where each operand comes from", () => {
    const w = randn([3, 2], { requiresGrad: true, generator: new Generator(1) });
    const f = compile(
      (x: Tensor) =>
        scoped(
          () => [x.matmul(w).relu().sum()],
          (k) => k,
        ),
      { name: "forward" },
    );
    expect(f.describe()).toMatch(/^forward: not compiled yet/);
    const x = tensor([[1, 2, 3]]);
    f(x);
    f(x);
    const text = f.describe();
    expect(text).toMatch(/^3 ops on cpu: 1 inputs, 1 state tensors/);
    expect(text).toContain("matmul(v0:in1, v1:state");
    expect(text).toContain('unary("relu"');
  });

  it("runs host values and effects again at every replay, in order", async () => {
    let count = 0;
    const g = new Generator(5);
    const f = compile((x: Tensor) => {
      hostEffect(() => count++);
      return [x.add(randn([2], { generator: g }))];
    });
    // (the draw, made and not returned, is freed at the end of each call)
    const x = zeros([2]);
    const got = [];
    for (let i = 0; i < 4; i++) got.push(Array.from(await f(x)[0].data()));
    expect(count).toBe(4);
    const again = new Generator(5);
    const want = Array.from({ length: 4 }, () => Array.from(Float32Array.of(again.normal(), again.normal())));
    expect(got).toEqual(want);
  });

  it("a new input shape gets a program of its own; too many shapes are refused, naming them", () => {
    const f = compile((x: Tensor) => [x.mul(2)], { name: "double", maxPrograms: 2 });
    for (const n of [1, 1, 1, 2, 2, 2]) expect(f(zeros([n])).length).toBe(1);
    expect(f.lastRun).toBe("replayed");
    expect(() => f(zeros([3]))).toThrow(
      /^compile: double: inputs of 3 different shapes \(now cpu grad float32\[3\]\); a compiled step is for shapes that repeat/,
    );
  });

  it("refuses a step that reads a value mid-step, saying how to fix it", () => {
    const f = compile((x: Tensor) => [x.mul(x.sum().item())], { name: "peek" });
    expect(() => f(tensor([1, 2]))).toThrow(CompileError);
    expect(() => f(tensor([1, 2]))).toThrow(
      /^compile: peek: the step reads a tensor's values while it runs .* Return the tensor from the step/,
    );
  });

  it("refuses inputs that are not tensors and results that are not an array of tensors, saying what came", () => {
    const f = compile((x: Tensor) => [x.mul(2)], { name: "double" });
    expect(() => (f as unknown as (x: number) => Tensor[])(3)).toThrow(
      /^compile: double: input 0 is a number \(3\), not a Tensor$/,
    );
    const one = compile((x: Tensor) => x.mul(2) as unknown as Tensor[], { name: "one" });
    expect(() => one(tensor([1]))).toThrow(
      /^compile: one: the step must return an array of tensors; got a Tensor \(return \[t\] for one\)$/,
    );
    const mixed = compile((x: Tensor) => [x, 2] as unknown as Tensor[], { name: "mixed" });
    expect(() => mixed(tensor([1]))).toThrow(
      /^compile: mixed: the step must return an array of tensors; element 1 is a number \(2\)$/,
    );
  });

  it("refuses a step whose work depends on its calls, not on its inputs' shapes, naming the op where runs differ", () => {
    let calls = 0;
    const f = compile((x: Tensor) => [++calls % 2 === 0 ? x.mul(3) : x.add(3)], { name: "wobbly" });
    f(zeros([2]));
    f(zeros([2]));
    expect(() => f(zeros([2]))).toThrow(
      /^compile: wobbly: 3 runs with inputs cpu grad float32\[2\] did different work \(at op 1: binary was given "mul", then "add"/,
    );
  });

  it("frees what the step made and did not return, as a scope would; refuses a step that frees its input", async () => {
    const w = tensor([1, 2], { requiresGrad: true });
    const keeps = compile((x: Tensor) => {
      w.zeroGrad();
      w.mul(x).sum().backward();
      return [x.add(1)];
    });
    const x = tensor([3, 4]);
    for (let i = 0; i < 3; i++) for (const t of keeps(x)) t.dispose();
    expect(keeps.lastRun).toBe("replayed");
    const before = getBackend().memory().buffers;
    for (let i = 0; i < 4; i++) expect(Array.from(await keeps(x)[0].data())).toEqual([4, 5]);
    // Four results still held here, nothing else: not the gradients, not the products.
    expect(getBackend().memory().buffers - before).toBe(4);
    expect(() => w.grad?.dataSync()).toThrow(/used after dispose/);
    const frees = compile((x: Tensor) => {
      const y = x.add(1);
      x.dispose();
      return [y];
    });
    expect(() => frees(tensor([3, 4]))).toThrow(/frees a tensor it did not make/);
  });

  it.each<[string, () => Promise<Backend>]>([
    ["cpu", async () => cpuBackend()],
    ["wasm", () => createWasmBackend({ threads: 1 })],
  ])("refuses to replay once a tensor it reads from before the step is disposed, naming it (%s)", async (_, make) => {
    setBackend(await make());
    const w = tensor([1, 2, 3]);
    const f = compile((x: Tensor) => [x.add(w)], { name: "shift" });
    for (let i = 0; i < 3; i++) f(tensor([0, 0, 0]));
    expect(f.lastRun).toBe("replayed");
    w.dispose();
    expect(() => f(tensor([0, 0, 0]))).toThrow(
      /^compile: shift: v\d+ \(3 float32 numbers\), a tensor made before the step that the step reads, was disposed after the step was compiled/,
    );
  });

  it("on wasm, replays call by call a program whose buffers could take more than half the memory's room, and lowers one that fits", async () => {
    const wasm = await createWasmBackend({ threads: 1, maxMemory: 32 * 2 ** 20 });
    setBackend(wasm);
    // 4 MiB a value, a few values: more than half of the 16 MiB the memory can still grow by.
    const f = (x: Tensor) => [x.mul(2).add(1).exp().sum()];
    const big = compile(f, { name: "big" });
    const small = compile(f, { name: "small" });
    const [xBig, xSmall] = [randn([1024, 1024]), randn([16, 16])];
    const [eagerBig, eagerSmall] = [f(xBig)[0].item(), f(xSmall)[0].item()];
    for (let i = 0; i < 3; i++) {
      expect(big(xBig)[0].item()).toBe(eagerBig);
      expect(small(xSmall)[0].item()).toBe(eagerSmall);
    }
    expect([big.lastRun, small.lastRun]).toEqual(["replayed", "replayed"]);
    expect(big.describe()).toMatch(
      /replayed call by call on wasm \(not lowered: its buffers could take up to [\d.]+ MiB, more than half the [\d.]+ MiB the memory has room for\)/,
    );
    expect(small.describe()).toMatch(/lowered on wasm: /);
  });

  it("on wasm with two threads, a result that takes over an earlier one's buffer waits for that one's last readers", async () => {
    const wasm = await createWasmBackend({ threads: 2, parallelFlops: 0, parallelElements: 0 });
    try {
      setBackend(wasm);
      const w = randn([64, 64]);
      // a's last reader is a long matmul; b, of a's size and independent of the matmul, is made
      // after it in program order and takes a's buffer: run early, it would overwrite a mid-read.
      const f = (x: Tensor, y: Tensor) => {
        const a = x.exp();
        const m = a.matmul(w).matmul(w).matmul(w);
        const b = y.mul(2);
        return [m.sum(), b.sum(), b.add(m).sum()];
      };
      const compiled = compile(f, { name: "reuse" });
      for (let i = 0; i < 12; i++) {
        const [x, y] = [randn([64, 64]), randn([64, 64])];
        const expected = await Promise.all(f(x, y).map((t) => t.data()));
        const got = await Promise.all(compiled(x, y).map((t) => t.data()));
        expect(got).toEqual(expected);
      }
      expect(compiled.lastRun).toBe("replayed");
      const reused = Number(
        /\((\d+) results in the buffer of one whose last use came before\)/.exec(compiled.describe())?.[1],
      );
      expect(reused).toBeGreaterThan(0);
    } finally {
      await wasm.terminate();
    }
  });

  it("hands back an input or a tensor made before the step as itself", () => {
    const w = tensor([5]);
    const f = compile((x: Tensor) => [x, w, x.add(w)]);
    const x = tensor([1]);
    for (let i = 0; i < 3; i++) {
      const [a, b] = f(x);
      expect(a).toBe(x);
      expect(b).toBe(w);
    }
    expect(f.lastRun).toBe("replayed");
  });
});
