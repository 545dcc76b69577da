/**
 * The allocator for the wasm backend's memory: every storage is a block of one WasmMemory,
 * handed out by this pool and handed back on dispose().
 *
 * A training step makes the same tensors, of the same sizes, every time. So freed blocks are kept
 * on a free list per size class, and the next request of that class takes one back: after the
 * first step, a step allocates nothing new, and the same addresses come round again. New blocks are
 * cut from the top of the used region (a bump pointer), and the memory grows when that runs out.
 *
 * Size classes are four per power of two (16-byte aligned), so a block is at most 25% larger than
 * asked. Blocks are never split or merged: simple, and right for a workload that repeats itself;
 * a program whose sizes drift forever would keep growing, and `trim()`-style compaction would be
 * the next step if one ever does. Only when the memory cannot grow any more does a request take
 * the smallest free block of a larger class, whole: a smaller last batch after large ones then
 * reuses their blocks instead of running out of memory.
 */
import { MAX_PAGES, PAGE_BYTES } from "./module.ts";
import type { WasmMemory } from "./wasm-api.ts";

/** The block size (bytes) used for a request of `bytes`: 16-byte steps up to 64, then 4 per octave. */
export function sizeClass(bytes: number): number {
  if (bytes <= 64) return Math.max(16, Math.ceil(bytes / 16) * 16);
  const quarter = 2 ** Math.floor(Math.log2(bytes - 1)) / 4;
  return Math.ceil(bytes / quarter) * quarter;
}

/** Bytes in the largest binary unit they fill, to three digits: "2 GiB", "256 KiB", "13.5 MiB". */
export function formatBinaryBytes(bytes: number): string {
  const [unit, scale] =
    bytes >= 2 ** 30 ? ["GiB", 2 ** 30] : bytes >= 2 ** 20 ? ["MiB", 2 ** 20] : ["KiB", 2 ** 10];
  return `${+(bytes / scale).toPrecision(3)} ${unit}`;
}

export interface PoolInfo {
  /** Bytes cut from the memory so far (live + free blocks). */
  reserved: number;
  /** Bytes in blocks waiting on free lists. */
  free: number;
  /** The memory's size in bytes. */
  memoryBytes: number;
}

export class Pool {
  private top: number;
  private freeBytes = 0;
  private readonly freeLists = new Map<number, number[]>();
  /** Blocks handed out for a request of a smaller class (see allocate): their size, by address. */
  private readonly oversized = new Map<number, number>();

  /**
   * @param memory the memory to hand out
   * @param base the first address the pool may use (below it: the threads' control blocks)
   * @param onGrow called after the memory grew, so that views of it can be remade
   * @param maxPages the most pages the memory may grow to
   */
  constructor(
    private readonly memory: WasmMemory,
    private readonly base: number,
    private readonly onGrow: () => void,
    private readonly maxPages = MAX_PAGES,
  ) {
    this.top = base;
  }

  /** The address of a free block of sizeClass(bytes) bytes. */
  allocate(bytes: number): number {
    const size = sizeClass(bytes);
    const reused = this.freeLists.get(size)?.pop();
    if (reused !== undefined) {
      this.freeBytes -= size;
      return reused;
    }
    const address = this.top;
    const needed = address + size;
    const have = this.memory.buffer.byteLength;
    if (needed > have) {
      const pages = Math.ceil((needed - have) / PAGE_BYTES);
      const total = have / PAGE_BYTES + pages;
      if (total > this.maxPages) {
        const larger = this.smallestFreeAbove(size);
        if (larger !== undefined) return larger;
        throw new Error(
          `wasm backend: out of memory: ${bytes} more bytes would need ${total} pages of 64 KiB, past the maximum of ${this.maxPages} (${formatBinaryBytes(this.maxPages * PAGE_BYTES)}): the model or batch is too big for it (with npm run train:mnist, try a smaller --hidden or --batch-size, or --backend cpu); in your own code, dispose() tensors you no longer need or run each step in scoped()`,
        );
      }
      // Grow by at least half again, so that a growing program grows a logarithmic number of times.
      this.memory.grow(
        Math.min(this.maxPages - have / PAGE_BYTES, Math.max(pages, Math.ceil(have / PAGE_BYTES / 2))),
      );
      this.onGrow();
    }
    this.top = needed;
    return address;
  }

  /** A free block of the smallest class above `size`, taken off its list; undefined if there is none. */
  private smallestFreeAbove(size: number): number | undefined {
    let best: number | undefined;
    for (const [s, list] of this.freeLists)
      if (s > size && list.length > 0 && (best === undefined || s < best)) best = s;
    if (best === undefined) return undefined;
    const address = this.freeLists.get(best)?.pop() as number;
    this.freeBytes -= best;
    this.oversized.set(address, best);
    return address;
  }

  /** Give back the block at `address`, which was allocated for `bytes` bytes. */
  free(address: number, bytes: number): void {
    const size = this.oversized.get(address) ?? sizeClass(bytes);
    this.oversized.delete(address);
    let list = this.freeLists.get(size);
    if (list === undefined) {
      list = [];
      this.freeLists.set(size, list);
    }
    list.push(address);
    this.freeBytes += size;
  }

  /** Bytes this pool can still hand out: its free blocks, and what the memory may yet grow by. */
  room(): number {
    return this.maxPages * PAGE_BYTES - this.top + this.freeBytes;
  }

  info(): PoolInfo {
    return {
      reserved: this.top - this.base,
      free: this.freeBytes,
      memoryBytes: this.memory.buffer.byteLength,
    };
  }
}
