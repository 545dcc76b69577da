/**
 * A backend's ledger of its buffers: how many are alive and their bytes (a leak shows as a count
 * that grows), the freeing of a storage dropped without dispose() once the garbage collector finds
 * it, and the refusal of a storage made by another backend or used after dispose(). Every backend
 * keeps one, so they count alike and refuse with the same words.
 *
 * The garbage collector sees only the small Storage object, never the WebAssembly or GPU memory
 * behind it: `free` is what actually gives that memory back, and `held` (what free needs) must not
 * refer to the storage itself, or the storage could never be collected.
 */
import type { MemoryInfo, Storage } from "./backend.ts";

/** Every storage freed so far, by any ledger: a cpu storage may be read by another cpu backend. */
const disposed = new WeakSet<Storage>();

/** Whether `x` was freed (disposed, or surrendered), by whichever ledger held it. */
export function isDisposed(x: Storage): boolean {
  return disposed.has(x);
}

interface Entry<H> {
  readonly held: H;
  readonly bytes: number;
}

export class Ledger<S extends Storage, H> {
  private live = 0;
  private liveBytes = 0;
  private readonly entries = new WeakMap<S, Entry<H>>();
  private readonly collected = new FinalizationRegistry<Entry<H>>((entry) => this.release(entry));

  constructor(
    /** The backend that keeps this ledger: its name goes into error messages. */
    private readonly owner: { readonly name: string },
    /** The backend's storage class: anything else was made by another backend. */
    private readonly kind: abstract new (...args: never[]) => S,
    /** Gives back what a storage held; called once per storage, on dispose() or after collection. */
    private readonly free: (held: H) => void,
  ) {}

  /** `s`, now counted alive with its bytes; `held` is what `free` will need. */
  add(s: S, held: H, bytes: number): S {
    const entry = { held, bytes };
    this.entries.set(s, entry);
    this.live++;
    this.liveBytes += bytes;
    this.collected.register(s, entry, s);
    return s;
  }

  /** `x` as one of ours that is still alive; otherwise a clear error. */
  check(x: Storage): S {
    if (!(x instanceof this.kind))
      throw new Error(`${this.owner.name} backend: got a storage made by another backend`);
    if (disposed.has(x)) throw new Error(`${this.owner.name} backend: storage used after dispose()`);
    return x;
  }

  /** Free `x` now. False when there was nothing to do: not ours, or freed already (both harmless). */
  dispose(x: Storage): boolean {
    const entry = this.remove(x);
    if (entry !== undefined) this.release(entry);
    return entry !== undefined;
  }

  /**
   * Stop counting `x` without freeing what it holds, and hand that over: the caller owns it now
   * (the gpu backend keeps the arrays its cpu fallbacks compute). `x` counts as disposed.
   */
  surrender(x: S): H {
    const entry = this.remove(x);
    if (entry === undefined) throw new Error(`${this.owner.name} backend: storage used after dispose()`);
    this.live--;
    this.liveBytes -= entry.bytes;
    return entry.held;
  }

  memory(): MemoryInfo {
    return { buffers: this.live, bytes: this.liveBytes };
  }

  private remove(x: Storage): Entry<H> | undefined {
    if (!(x instanceof this.kind)) return undefined;
    const entry = this.entries.get(x);
    if (entry === undefined) return undefined;
    this.entries.delete(x);
    this.collected.unregister(x);
    disposed.add(x);
    return entry;
  }

  private release(entry: Entry<H>): void {
    this.live--;
    this.liveBytes -= entry.bytes;
    this.free(entry.held);
  }
}
