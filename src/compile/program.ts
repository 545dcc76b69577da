/**
 * What a compiled step is: the list of backend calls one run of the step made, with every storage
 * they read or wrote replaced by where it comes from. Replaying the list does the step's work
 * without its JavaScript: no graph is built, no tensor objects are made, nothing is looked up.
 *
 * A value (a storage of the step) comes from one of five places:
 *   input     the i-th tensor the step was called with (bound anew at every call)
 *   state     a storage made before the step (parameters, optimizer state): the same at every call,
 *             read, or written in place (Backend.write, adamUpdate)
 *   constant  made inside the step from fixed numbers (fill, fromArray): made once, kept
 *   host      made from numbers the host computes at every call (random draws, Adam's corrections)
 *   result    what one of the recorded calls returned
 */

import type { Tensor } from "../autograd/tensor.ts";
import type { Backend, DType, Shape, Storage, TypedArray } from "../kernels/backend.ts";

export type Source =
  | { kind: "input"; index: number }
  | { kind: "state"; storage: Storage }
  | { kind: "constant"; values: TypedArray }
  | { kind: "host"; make: () => TypedArray }
  | { kind: "result"; call: number };

export interface Value {
  readonly id: number;
  source: Source;
  readonly dtype: DType;
  readonly size: number;
  /** The last call that reads or writes it (-1: none); after it, replay frees a result or host value. */
  lastUse: number;
}

/** An argument of a recorded call: a value, or anything else as it was (shapes, op names, indices). */
export type Argument = { value: number } | { literal: unknown };

/** The Backend methods a step's work is made of (the rest make, read or free storages). */
export type BackendCall = Exclude<
  {
    [K in keyof Backend]-?: Backend[K] extends ((...args: never[]) => unknown) | undefined ? K : never;
  }[keyof Backend],
  "fromArray" | "fill" | "read" | "readSync" | "dispose" | "memory"
>;

export type Call =
  /** A Backend method: what it read (args), made (result) and wrote in place (writes: values). */
  | { kind: "backend"; method: BackendCall; args: Argument[]; result: number | null; writes: number[] }
  /** Compute a host value's numbers and make its storage. */
  | { kind: "host"; value: number }
  /** Change host state (an optimizer's step count). */
  | { kind: "effect"; effect: () => void };

export interface Program {
  readonly backend: Backend;
  readonly values: Value[];
  readonly calls: Call[];
  /** The step's results: a value, or a tensor it handed back unchanged (an input or state). */
  readonly outputs: ({ value: number; shape: Shape } | { tensor: Tensor })[];
}

/** What differs between two programs, in words, or null when one may stand for the other. */
export function difference(a: Program, b: Program): string | null {
  if (a.backend !== b.backend) return `the backend changed (${a.backend.name}, then ${b.backend.name})`;
  const n = Math.min(a.calls.length, b.calls.length);
  for (let i = 0; i < n; i++) {
    const why = callDifference(a, a.calls[i], b, b.calls[i]);
    if (why !== null) return `at op ${i + 1}: ${why}`;
  }
  if (a.calls.length !== b.calls.length)
    return `one run made ${a.calls.length} ops, the other ${b.calls.length}`;
  if (a.outputs.length !== b.outputs.length) return `${a.outputs.length} results, then ${b.outputs.length}`;
  for (let i = 0; i < a.outputs.length; i++) {
    const [x, y] = [a.outputs[i], b.outputs[i]];
    if ("tensor" in x || "tensor" in y) {
      if (!("tensor" in x && "tensor" in y && x.tensor === y.tensor)) return `result ${i + 1} differs`;
    } else if (!sameValue(a, x.value, b, y.value) || !sameList(x.shape, y.shape)) {
      return `result ${i + 1} differs`;
    }
  }
  return null;
}

function callDifference(a: Program, x: Call, b: Program, y: Call): string | null {
  if (x.kind !== y.kind) return `${describeCall(x)}, then ${describeCall(y)}`;
  if (x.kind === "effect" || y.kind === "effect") return null;
  if (x.kind === "host" && y.kind === "host")
    return sameValue(a, x.value, b, y.value) ? null : "host values of another size";
  if (x.kind !== "backend" || y.kind !== "backend") return null;
  if (x.method !== y.method) return `${x.method}, then ${y.method}`;
  for (let k = 0; k < x.args.length; k++) {
    const [p, q] = [x.args[k], y.args[k]];
    if ("value" in p && "value" in q) {
      if (!sameValue(a, p.value, b, q.value))
        return `${x.method} read ${describeSource(a.values[p.value])}, then ${describeSource(b.values[q.value])}`;
    } else if ("literal" in p && "literal" in q) {
      if (!sameLiteral(p.literal, q.literal))
        return `${x.method} was given ${show(p.literal)}, then ${show(q.literal)} (a number computed from the data?)`;
    } else return `${x.method}'s arguments differ`;
  }
  return null;
}

function sameValue(a: Program, i: number, b: Program, j: number): boolean {
  const [x, y] = [a.values[i], b.values[j]];
  if (x.dtype !== y.dtype || x.size !== y.size || x.source.kind !== y.source.kind) return false;
  const [s, t] = [x.source, y.source];
  if (s.kind === "input" && t.kind === "input") return s.index === t.index;
  if (s.kind === "state" && t.kind === "state") return s.storage === t.storage;
  if (s.kind === "constant" && t.kind === "constant") return sameList(s.values, t.values);
  if (s.kind === "result" && t.kind === "result") return s.call === t.call;
  return s.kind === "host";
}

function sameList(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

function sameLiteral(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b))
    return sameList(a as unknown as ArrayLike<number>, b as unknown as ArrayLike<number>);
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => sameLiteral((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function show(x: unknown): string {
  if (ArrayBuffer.isView(x)) return `[${Array.from(x as unknown as ArrayLike<number>).join(", ")}]`;
  return JSON.stringify(x) ?? String(x);
}

function describeSource(v: Value): string {
  const s = v.source;
  switch (s.kind) {
    case "input":
      return `input ${s.index + 1}`;
    case "state":
      return `a tensor made before the step (${v.size} ${v.dtype})`;
    case "constant":
      return `constant ${v.size === 1 ? show(s.values[0]) : `of ${v.size}`}`;
    case "host":
      return `${v.size} numbers made on the host`;
    case "result":
      return `the result of op ${s.call + 1}`;
  }
}

function describeCall(c: Call): string {
  return c.kind === "backend" ? c.method : c.kind === "host" ? "numbers made on the host" : "a host effect";
}

/**
 * The program as text: one line per op with where each operand comes from, then the memory it
 * holds. What a student reads to see what compiling did to their step.
 */
export function describeProgram(p: Program): string {
  const name = (id: number) => {
    const v = p.values[id];
    const s = v.source;
    const tag =
      s.kind === "input"
        ? `in${s.index + 1}`
        : s.kind === "state"
          ? "state"
          : s.kind === "constant"
            ? "const"
            : "";
    return `v${id}${tag === "" ? "" : `:${tag}`}`;
  };
  const lines: string[] = [];
  p.calls.forEach((c, i) => {
    const at = `${String(i + 1).padStart(4)}  `;
    if (c.kind === "effect") lines.push(`${at}host effect (runs every call)`);
    else if (c.kind === "host")
      lines.push(`${at}${name(c.value)} = ${p.values[c.value].size} numbers made on the host`);
    else {
      const args = c.args.map((a) => ("value" in a ? name(a.value) : show(a.literal))).join(", ");
      lines.push(`${at}${c.result === null ? "" : `${name(c.result)} = `}${c.method}(${args})`);
    }
  });
  const bytes = (v: Value) => v.size * (v.dtype === "float64" ? 8 : 4);
  const made = p.values.filter((v) => v.source.kind === "result" || v.source.kind === "host");
  const kept = p.values.filter((v) => v.source.kind === "constant");
  const count = (kind: Source["kind"]) => p.values.filter((v) => v.source.kind === kind).length;
  const header = `${p.calls.length} ops on ${p.backend.name}: ${count("input")} inputs, ${count("state")} state tensors, ${kept.length} constants, ${made.length} values made per call (${kib(made.reduce((n, v) => n + bytes(v), 0))})`;
  return [header, ...lines].join("\n");
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
