/**
 * Replaying a program on any backend: each recorded call made again with this call's inputs bound,
 * every value freed right after its last use. No graph, no tensor objects but the results, no
 * JavaScript of the step's own. A backend may lower a program further (its own kernels on buffers
 * planned ahead); this is what every backend can do.
 */
import type { LoweredProgram, Storage } from "../kernels/backend.ts";
import type { Program } from "./program.ts";

/** The program replayed call by call, on any backend; `why`, if given, says why not lowered (for describe()). */
export function replayer(program: Program, why?: string): LoweredProgram {
  const { backend, values, calls, outputs } = program;
  const outputIds = new Set(outputs.flatMap((o) => ("value" in o ? [o.value] : [])));
  // Constants are made once and kept for the program's life.
  const fixed: (Storage | undefined)[] = values.map((v) => {
    const s = v.source;
    return s.kind === "state" ? s.storage : s.kind === "constant" ? backend.fromArray(s.values) : undefined;
  });
  // After call i, free the values whose last use it was (results and host values, not results handed back).
  const frees: number[][] = calls.map(() => []);
  for (const v of values) {
    const made = v.source.kind === "result" || v.source.kind === "host";
    if (made && !outputIds.has(v.id)) frees[v.lastUse].push(v.id);
  }
  const methods = backend as unknown as Record<string, (...args: unknown[]) => unknown>;
  const run = (inputs: readonly Storage[]): Storage[] => {
    const slots = fixed.slice();
    for (const v of values) if (v.source.kind === "input") slots[v.id] = inputs[v.source.index];
    for (let i = 0; i < calls.length; i++) {
      const c = calls[i];
      if (c.kind === "effect") c.effect();
      else if (c.kind === "host") {
        const source = values[c.value].source;
        if (source.kind === "host") slots[c.value] = backend.fromArray(source.make());
      } else {
        const args = c.args.map((a) => ("value" in a ? slots[a.value] : a.literal));
        const result = methods[c.method](...args) as Storage | undefined;
        if (c.result !== null) slots[c.result] = result;
      }
      for (const id of frees[i]) backend.dispose(slots[id] as Storage);
    }
    return outputs.flatMap((o) => ("value" in o ? [slots[o.value] as Storage] : []));
  };
  return {
    run,
    describe: () =>
      `replayed call by call on ${backend.name} (${why ?? "no lowering of its own"}), freeing each value after its last use`,
  };
}
