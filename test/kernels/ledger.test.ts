/**
 * The buffer ledger every backend keeps (src/kernels/ledger.ts), on a storage class of its own:
 * what it counts, what it frees and when, what it refuses and in which words, and what it hands over.
 * (Freeing after garbage collection is seen in the backends' memory tests, where a dropped tensor's
 * buffer comes back.)
 */
import { describe, expect, it } from "vitest";
import type { DType, Storage } from "../../src/kernels/backend.ts";
import { Ledger } from "../../src/kernels/ledger.ts";

class TestStorage implements Storage {
  constructor(
    readonly size: number,
    readonly dtype: DType = "float32",
  ) {}
}
class OtherStorage implements Storage {
  readonly size = 1;
  readonly dtype: DType = "float32";
}

/** A ledger over TestStorage whose frees are recorded, holding a label per storage. */
function ledger(name = "test") {
  const freed: string[] = [];
  const l = new Ledger<TestStorage, string>({ name }, TestStorage, (held) => freed.push(held));
  const add = (label: string, bytes: number) => l.add(new TestStorage(bytes / 4), label, bytes);
  return { l, freed, add };
}

describe("Ledger", () => {
  it("counts live storages and their bytes, and frees each once on dispose", () => {
    const { l, freed, add } = ledger();
    expect(l.memory()).toEqual({ buffers: 0, bytes: 0 });
    const a = add("a", 40);
    const b = add("b", 24);
    expect(l.memory()).toEqual({ buffers: 2, bytes: 64 });
    expect(l.dispose(a)).toBe(true);
    expect(freed).toEqual(["a"]);
    expect(l.memory()).toEqual({ buffers: 1, bytes: 24 });
    expect(l.dispose(a)).toBe(false); // a second dispose does nothing
    expect(freed).toEqual(["a"]);
    expect(l.memory()).toEqual({ buffers: 1, bytes: 24 });
    expect(l.check(b)).toBe(b);
  });

  it("refuses a storage of another backend and one used after dispose, naming the backend", () => {
    const { l, add } = ledger("cpu");
    expect(() => l.check(new OtherStorage())).toThrow(/^cpu backend: got a storage made by another backend$/);
    const a = add("a", 4);
    l.dispose(a);
    expect(() => l.check(a)).toThrow(/^cpu backend: storage used after dispose\(\)$/);
  });

  it("leaves alone what is not its own: another kind, or a storage of another ledger of the same kind", () => {
    const mine = ledger();
    const theirs = ledger();
    const a = mine.add("a", 8);
    expect(theirs.l.dispose(new OtherStorage())).toBe(false);
    expect(theirs.l.dispose(a)).toBe(false);
    expect(theirs.freed).toEqual([]);
    expect(mine.freed).toEqual([]);
    expect(mine.l.memory()).toEqual({ buffers: 1, bytes: 8 });
    expect(mine.l.check(a)).toBe(a); // still alive: the other ledger did not mark it disposed
    // A storage freed by one ledger is refused by every ledger of its kind (a cpu storage may be
    // read by another cpu backend).
    mine.l.dispose(a);
    expect(() => theirs.l.check(a)).toThrow(/after dispose/);
  });

  it("surrender hands what a storage holds to the caller: counted no more, never freed, then refused", () => {
    const { l, freed, add } = ledger("gpu");
    const a = add("a", 12);
    add("b", 4);
    expect(l.surrender(a)).toBe("a");
    expect(l.memory()).toEqual({ buffers: 1, bytes: 4 });
    expect(freed).toEqual([]);
    expect(() => l.check(a)).toThrow(/^gpu backend: storage used after dispose\(\)$/);
    expect(() => l.surrender(a)).toThrow(/^gpu backend: storage used after dispose\(\)$/);
    expect(l.dispose(a)).toBe(false);
    expect(freed).toEqual([]);
  });
});
