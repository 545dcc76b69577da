/**
 * Fusion: elementwise ops of a program that feed only each other become one kernel, which reads
 * each input once and writes one result, instead of a pass over memory (and a buffer) per op.
 *
 *   v16 = mul(v13, 0.5); v17 = exp(v16)         →   v17 = fused(v13, 0.5): exp(v13 · 0.5)
 *
 * A group is a tree of elementwise calls whose inner results are each read exactly once, by the
 * next op of the group, and are not results of the step nor written in place. Its leaves are
 * arrays of the result's size or single numbers (broadcast ops of other shapes are left alone).
 * Each element goes through the same operations in the same order, so a fused group gives the
 * same numbers bit for bit; it only touches memory less. Which ops a backend can fuse is its say
 * (`fusible`); the wasm backend generates the group's kernel (kernels/wasm/fused.ts).
 */
import type { BinaryOp, UnaryOp } from "../kernels/backend.ts";
import type { Call, Program } from "./program.ts";

/** One operation of a group, in evaluation order: on leaves (by number) or on earlier operations. */
export type FusedOp =
  | { kind: "unary"; op: UnaryOp; x: FusedOperand }
  | { kind: "binary"; op: BinaryOp; a: FusedOperand; b: FusedOperand };
export type FusedOperand = { leaf: number } | { op: number };

export interface FusedGroup {
  /** The calls the group stands for (indices into program.calls), in program order; the last is the root. */
  calls: number[];
  /** The values it reads: arrays of the result's size, or single numbers. */
  leaves: number[];
  ops: FusedOp[];
  /** The value it makes (the root call's result), and its size. */
  result: number;
  size: number;
}

/** What a backend can fuse: the elementwise ops it has vector code for, on float32. */
export interface Fusible {
  unary(op: UnaryOp): boolean;
  binary(op: BinaryOp): boolean;
}

/** The program's fusible groups of two or more calls. */
export function fuse(program: Program, fusible: Fusible): FusedGroup[] {
  const { calls, values, outputs } = program;
  const uses = values.map(() => 0);
  for (const c of calls) if (c.kind === "backend") for (const a of c.args) if ("value" in a) uses[a.value]++;
  const kept = new Set(outputs.flatMap((o) => ("value" in o ? [o.value] : [])));
  const writtenAt = values.map(() => [] as number[]);
  calls.forEach((c, i) => {
    if (c.kind === "backend") for (const v of c.writes) writtenAt[v].push(i);
  });

  /** The operands of an elementwise call that fusion can take, or null when it cannot. */
  const elementwise = (c: Call): { op: UnaryOp | BinaryOp; operands: number[]; result: number } | null => {
    if (c.kind !== "backend" || c.result === null || values[c.result].dtype !== "float32") return null;
    const size = values[c.result].size;
    const operands = c.args.flatMap((a) => ("value" in a ? [a.value] : []));
    if (
      !operands.every(
        (v) => values[v].dtype === "float32" && (values[v].size === size || values[v].size === 1),
      )
    )
      return null;
    const op = (c.args[0] as { literal: unknown }).literal;
    if (c.method === "unary" && fusible.unary(op as UnaryOp))
      return { op: op as UnaryOp, operands, result: c.result };
    if (c.method === "binary" && fusible.binary(op as BinaryOp))
      return { op: op as BinaryOp, operands, result: c.result };
    return null;
  };

  // Each fusible call's group, built in program order: a call adopts the groups of the operands
  // that only it reads.
  const groupOf = new Map<number, number[]>(); // result value → the calls of the group that makes it
  const groups: number[][] = [];
  calls.forEach((c, i) => {
    const e = elementwise(c);
    if (e === null) return;
    const members = [i];
    for (const v of e.operands) {
      const inner = groupOf.get(v);
      if (inner === undefined || uses[v] !== 1 || kept.has(v) || writtenAt[v].length > 0) continue;
      members.unshift(...inner);
      groupOf.delete(v);
      groups.splice(groups.indexOf(inner), 1);
    }
    members.sort((a, b) => a - b);
    groupOf.set(e.result, members);
    groups.push(members);
  });

  /** A group's leaves and operations in evaluation order (its calls are in program order). */
  const build = (members: number[]): FusedGroup => {
    const leaves: number[] = [];
    const ops: FusedOp[] = [];
    const made = new Map<number, number>(); // value → the operation of the group that makes it
    const operand = (v: number): FusedOperand => {
      const op = made.get(v);
      if (op !== undefined) return { op };
      const at = leaves.indexOf(v);
      return { leaf: at >= 0 ? at : leaves.push(v) - 1 };
    };
    let result = -1;
    for (const i of members) {
      const e = elementwise(calls[i]);
      if (e === null) throw new Error("fuse: a group holds a call it cannot fuse");
      const c = calls[i] as Extract<Call, { kind: "backend" }>;
      ops.push(
        c.method === "unary"
          ? { kind: "unary", op: e.op as UnaryOp, x: operand(e.operands[0]) }
          : { kind: "binary", op: e.op as BinaryOp, a: operand(e.operands[0]), b: operand(e.operands[1]) },
      );
      made.set(e.result, ops.length - 1);
      result = e.result;
    }
    return { calls: members, leaves, ops, result, size: values[result].size };
  };

  return groups.flatMap((members) => {
    if (members.length < 2) return [];
    const group = build(members);
    // A leaf written in place between the group's first call and its root would be read late.
    const [first, last] = [members[0], members[members.length - 1]];
    if (group.leaves.some((v) => writtenAt[v].some((at) => at > first && at < last))) return [];
    return [group];
  });
}
