/**
 * Tracing: run a step once, eagerly, while watching every call it makes on the backend, and write
 * them down as a Program (program.ts). The step runs as it always does (its results are real); the
 * backend's methods are wrapped for the length of the run and put back afterwards.
 *
 * Only the outermost call is recorded: a backend method that calls another of its own (a copy made
 * from a cast) is one op of the step. Host values and effects (autograd/host.ts) are recorded where
 * they happen, so a replay makes them again in the same order.
 */
import { recordingHost } from "../autograd/host.ts";
import { describeValue, Tensor } from "../autograd/tensor.ts";
import type { Backend, DType, Storage, TypedArray } from "../kernels/backend.ts";
import type { Argument, BackendCall, Call, Program, Source, Value } from "./program.ts";

/** Why a step cannot be compiled, in the words the error gives. */
export class CompileError extends Error {
  override name = "CompileError";
}

/**
 * How each Backend method takes part in a step; the compiler checks that none is left out. A
 * "fused" method may decline (return undefined), and then did nothing: the caller composes instead.
 */
type Role = "make" | "read" | "free" | "op" | "fused" | "info";
const roles = {
  fromArray: "make",
  fill: "make",
  read: "read",
  readSync: "read",
  dispose: "free",
  memory: "info",
  describe: "info",
  copy: "op",
  write: "op",
  cast: "op",
  unary: "op",
  binary: "op",
  reduce: "op",
  broadcastTo: "op",
  permute: "op",
  matmul: "op",
  where: "op",
  gather: "op",
  scatterAdd: "op",
  adamUpdate: "fused",
  bceWithLogitsSum: "fused",
  bceWithLogitsGrad: "fused",
} as const satisfies Record<Exclude<keyof Backend, "name" | "asyncRead" | "lower">, Role>;

/** The arguments each method overwrites in place (the rest only read theirs). */
const writesInPlace: Partial<Record<keyof typeof roles, readonly number[]>> = {
  write: [0],
  adamUpdate: [0, 2, 3],
};

/** Storages are the only arguments of Backend methods with a dtype and a size. */
const isStorage = (x: unknown): x is Storage =>
  typeof x === "object" && x !== null && "dtype" in x && "size" in x && !ArrayBuffer.isView(x);

/**
 * Run `fn(...inputs)` once and record what it did. Throws a CompileError when the step does what a
 * replay could not repeat: reading a value mid-step, or freeing a tensor it did not make. What it
 * made and did not return is freed at the end, as a replay frees it: a tensor that held on to one
 * (a .grad set outside a scope) then says it was disposed rather than show a stale value.
 */
export function trace(
  backend: Backend,
  fn: (...inputs: Tensor[]) => Tensor[],
  inputs: readonly Tensor[],
  /** The step's name, in errors. */
  name = "step",
): { program: Program; outputs: Tensor[] } {
  const values: Value[] = [];
  const calls: Call[] = [];
  const byStorage = new Map<Storage, number>();
  const storages: Storage[] = [];
  const freed = new Set<number>();
  const newValue = (storage: Storage, source: Source): number => {
    const id = values.length;
    values.push({ id, source, dtype: storage.dtype, size: storage.size, lastUse: -1 });
    byStorage.set(storage, id);
    storages.push(storage);
    return id;
  };
  inputs.forEach((t, index) => {
    if (!byStorage.has(t.storage)) newValue(t.storage, { kind: "input", index });
  });
  /** The value a storage is: one of the step's, or (first seen here) state made before it. */
  const valueFor = (s: Storage): number => byStorage.get(s) ?? newValue(s, { kind: "state", storage: s });
  const use = (id: number) => {
    values[id].lastUse = calls.length;
    return id;
  };

  const record = (method: keyof typeof roles, args: unknown[], result: unknown): void => {
    const role = roles[method];
    if (role === "info") return;
    if (role === "read") {
      throw new CompileError(
        `compile: ${name}: the step reads a tensor's values while it runs (data(), dataSync(), item(), toArray() or a print), which a compiled step cannot do: it replays without running your code. Return the tensor from the step and read it after the call.`,
      );
    }
    if (role === "free") {
      const id = byStorage.get(args[0] as Storage);
      if (id === undefined || values[id].source.kind === "state" || values[id].source.kind === "input") {
        throw new CompileError(
          `compile: ${name}: the step frees a tensor it did not make (an input, or one made before the step), so a replay would find it gone; free it outside the step`,
        );
      }
      freed.add(id);
      return;
    }
    if (role === "make") {
      const storage = result as Storage;
      const made: TypedArray =
        method === "fromArray" ? (args[0] as TypedArray).slice() : filled(args as [number, number, DType]);
      newValue(storage, { kind: "constant", values: made });
      return;
    }
    if (role === "fused" && result === undefined) return; // declined: the caller composes, and that is recorded
    const recordedArgs: Argument[] = args.map((a) =>
      isStorage(a) ? { value: use(valueFor(a)) } : { literal: copyLiteral(a) },
    );
    const writes = (writesInPlace[method] ?? []).map((i) => (recordedArgs[i] as { value: number }).value);
    const call: Call = {
      kind: "backend",
      method: method as BackendCall,
      args: recordedArgs,
      result: null,
      writes,
    };
    calls.push(call);
    if (isStorage(result)) {
      call.result = newValue(result, { kind: "result", call: calls.length - 1 });
      values[call.result].lastUse = calls.length - 1;
    }
  };

  const restore = interpose(backend, record);
  let outputs: Tensor[];
  try {
    const result = recordingHost(
      {
        value(storage, make) {
          const id = byStorage.get(storage);
          if (id === undefined) throw new Error("compile: a host value that no fromArray made");
          values[id].source = { kind: "host", make };
          calls.push({ kind: "host", value: id });
          values[id].lastUse = calls.length - 1;
        },
        effect(effect) {
          calls.push({ kind: "effect", effect });
        },
      },
      () => fn(...inputs),
    );
    const notTensor = Array.isArray(result) ? result.findIndex((t) => !(t instanceof Tensor)) : -1;
    if (!Array.isArray(result) || notTensor >= 0) {
      const got = Array.isArray(result)
        ? `element ${notTensor} is ${describeValue(result[notTensor])}`
        : `got ${describeValue(result)}${(result as unknown) instanceof Tensor ? " (return [t] for one)" : ""}`;
      throw new CompileError(`compile: ${name}: the step must return an array of tensors; ${got}`);
    }
    outputs = result;
  } finally {
    restore();
  }

  const outputIds = new Set(outputs.map((t) => byStorage.get(t.storage)));
  for (const v of values) {
    const made = v.source.kind === "result" || v.source.kind === "host";
    if (made && !freed.has(v.id) && !outputIds.has(v.id)) backend.dispose(storages[v.id]);
  }
  const program: Program = {
    backend,
    values,
    calls,
    outputs: outputs.map((t) => {
      const id = byStorage.get(t.storage);
      const kind = id === undefined ? "state" : values[id].source.kind;
      return kind === "state" || kind === "input" || id === undefined
        ? { tensor: t }
        : { value: id, shape: t.shape };
    }),
  };
  return { program, outputs };
}

function filled([size, value, dtype]: [number, number, DType]): TypedArray {
  return (dtype === "float64" ? new Float64Array(size) : new Float32Array(size)).fill(value);
}

/** Arguments other than storages, kept as they were at the call (shapes may be arrays the caller reuses). */
function copyLiteral(a: unknown): unknown {
  if (ArrayBuffer.isView(a)) return (a as unknown as Int32Array).slice();
  if (Array.isArray(a)) return a.slice();
  if (typeof a === "object" && a !== null) return { ...a };
  return a;
}

/**
 * Wrap the backend's methods so that each outermost call is handed to `record` (after it ran, with
 * its result); returns the function that puts the methods back.
 */
function interpose(
  backend: Backend,
  record: (method: keyof typeof roles, args: unknown[], result: unknown) => void,
): () => void {
  const target = backend as unknown as Record<string, unknown>;
  const saved: [string, boolean, unknown][] = [];
  let depth = 0;
  for (const method of Object.keys(roles) as (keyof typeof roles)[]) {
    const original = target[method];
    if (typeof original !== "function") continue;
    saved.push([method, Object.hasOwn(target, method), original]);
    target[method] = function (this: unknown, ...args: unknown[]) {
      depth++;
      let result: unknown;
      try {
        // A read is refused before it runs: it would also wait on a queue in some backends.
        if (depth === 1 && roles[method] === "read") record(method, args, undefined);
        result = (original as (...a: unknown[]) => unknown).apply(this, args);
      } finally {
        depth--;
      }
      if (depth === 0 && roles[method] !== "read") record(method, args, result);
      return result;
    };
  }
  return () => {
    for (const [method, own, original] of saved) {
      if (own) target[method] = original;
      else delete target[method];
    }
  };
}
