/**
 * compile(step): record a step once and replay it, as jax.jit, tinygrad's TinyJit and CUDA graphs do.
 *
 *   const step = compile((x) => { …forward, backward, optimizer.step()…; return [loss]; });
 *   step(batch1); step(batch2);   // run eagerly while they are watched (trace.ts)
 *   step(batch3);                 // and from then on, replayed (replay.ts)
 *
 * The first calls with inputs of given shapes run the step eagerly and write down the backend
 * calls it made (a Program). Once two consecutive runs made the same calls, reading the same
 * tensors, the program stands for the step: later calls replay it without running the step's
 * JavaScript — no graph is built, no tensor objects made, nothing dispatched twice. New input
 * shapes start a program of their own.
 *
 * What a step must be, and what happens when it is not:
 * - its work may depend on the shapes of its inputs, never on their values: a step that branches
 *   on a number it computed makes different calls on different runs, and compile says where;
 * - it may not read a value while it runs (item(), data()): that is refused, naming the fix;
 * - randomness and host state go through autograd/host.ts (randn and the optimizers do), which a
 *   replay runs again in order, so a compiled run is the eager run, bit for bit;
 * - what it makes and keeps must be returned: every other tensor it makes is freed when it ends,
 *   as scoped() would (a .grad that backward set inside it is gone after the call); its results
 *   are fresh tensors at every call; tensors made before the step (parameters, optimizer state)
 *   are read, or written in place;
 * - its results carry no graph: backward() of a compiled step's output is not available.
 */
import { isGradEnabled } from "../autograd/grad-mode.ts";
import { describeValue, Tensor } from "../autograd/tensor.ts";
import type { LoweredProgram, Storage } from "../kernels/backend.ts";
import { isDisposed } from "../kernels/ledger.ts";
import { getBackend } from "../kernels/registry.ts";
import { formatShape } from "../kernels/shape.ts";
import { describeProgram, difference, type Program, type Value } from "./program.ts";
import { replayer } from "./replay.ts";
import { CompileError, trace } from "./trace.ts";

export { CompileError } from "./trace.ts";

/** A compiled step: call it like the step. */
export interface CompiledStep<I extends Tensor[]> {
  (...inputs: I): Tensor[];
  /** The program replayed for the last inputs' shapes, as text (what compiling made of the step). */
  describe(): string;
  /** How the last call ran: traced eagerly, or replayed. */
  readonly lastRun: "traced" | "replayed" | null;
}

export interface CompileOptions {
  /** The step's name, in errors. */
  name?: string;
  /** How many runs may disagree before compile gives up (default 3: a first run may set things up). */
  maxTraces?: number;
  /** How many input shapes may each get a program (default 16). */
  maxPrograms?: number;
}

interface Entry {
  last: Program | null;
  traces: number;
  program: Program | null;
  run: LoweredProgram | null;
  /** The program's state values: tensors made before the step that every replay reads or writes. */
  state: Value[];
}

export function compile<I extends Tensor[]>(
  step: (...inputs: I) => Tensor[],
  options: CompileOptions = {},
): CompiledStep<I> {
  const name = options.name ?? (step.name || "step");
  const maxTraces = options.maxTraces ?? 3;
  const maxPrograms = options.maxPrograms ?? 16;
  const entries = new Map<string, Entry>();
  let lastKey: string | null = null;
  let lastRun: "traced" | "replayed" | null = null;

  const compiled = (...inputs: I): Tensor[] => {
    inputs.forEach((t, i) => {
      if (!(t instanceof Tensor))
        throw new CompileError(`compile: ${name}: input ${i} is ${describeValue(t)}, not a Tensor`);
    });
    const backend = inputs[0]?.backend ?? getBackend();
    if (inputs.some((t) => t.backend !== backend)) {
      throw new CompileError(`compile: ${name}: its inputs live on different backends`);
    }
    const key = [
      backend.name,
      isGradEnabled() ? "grad" : "nograd",
      ...inputs.map((t) => `${t.dtype}${formatShape(t.shape)}`),
    ].join(" ");
    let entry = entries.get(key);
    if (entry === undefined) {
      if (entries.size >= maxPrograms) {
        throw new CompileError(
          `compile: ${name}: inputs of ${entries.size + 1} different shapes (now ${key}); a compiled step is for shapes that repeat: pad the inputs to a few sizes, or run this step eagerly`,
        );
      }
      entry = { last: null, traces: 0, program: null, run: null, state: [] };
      entries.set(key, entry);
    }
    lastKey = key;
    if (entry.run !== null && entry.program !== null) {
      lastRun = "replayed";
      const gone = entry.state.find((v) => v.source.kind === "state" && isDisposed(v.source.storage));
      if (gone !== undefined) {
        throw new CompileError(
          `compile: ${name}: v${gone.id} (${gone.size} ${gone.dtype} numbers), a tensor made before the step that the step reads, was disposed after the step was compiled; keep it alive, or compile the step again`,
        );
      }
      let made: Storage[];
      try {
        made = entry.run.run(inputs.map((t) => t.storage));
      } catch (e) {
        throw new CompileError(`compile: ${name}: the replay failed: ${(e as Error).message}`, { cause: e });
      }
      // Results are fresh tensors; an input or a tensor made before the step is handed back as itself.
      let k = 0;
      return entry.program.outputs.map((o) =>
        "tensor" in o ? o.tensor : new Tensor(made[k++], o.shape, backend),
      );
    }
    const { program, outputs } = trace(backend, step as (...inputs: Tensor[]) => Tensor[], inputs, name);
    lastRun = "traced";
    entry.traces++;
    const why = entry.last === null ? "" : difference(entry.last, program);
    if (why === null) {
      entry.program = program;
      entry.state = program.values.filter((v) => v.source.kind === "state");
      entry.run = backend.lower?.(program) ?? replayer(program);
    } else if (entry.traces >= maxTraces) {
      throw new CompileError(
        `compile: ${name}: ${entry.traces} runs with inputs ${key} did different work (${why}): its work must depend only on the shapes of its inputs, not on their values or on state that changes between calls`,
      );
    }
    entry.last = program;
    return outputs;
  };
  const describe = () => {
    const entry = lastKey === null ? undefined : entries.get(lastKey);
    if (entry?.program == null || entry.run === null)
      return `${name}: not compiled yet (it compiles once two runs with inputs of the same shapes do the same work)`;
    return `${describeProgram(entry.program)}\n${entry.run.describe()}`;
  };
  return Object.defineProperties(compiled, {
    describe: { value: describe },
    lastRun: { get: () => lastRun },
  }) as CompiledStep<I>;
}
