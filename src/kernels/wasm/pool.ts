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
 * the next step if one ever does.
 */
import { MAX_PAGES, PAGE_BYTES } from "./module.ts";
import type { WasmMemory } from "./wasm-api.ts";

/** The block size (bytes) used for a request of `bytes`: 16-byte steps up to 64, then 4 per octave. */
export function sizeClass(bytes: number): number {
  if (bytes <= 64) return Math.max(16, Math.ceil(bytes / 16) * 16);
  const quarter = 2 ** Math.floor(Math.log2(bytes - 1)) / 4;
  return Math.ceil(bytes / quarter) * quarter;
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

  /**
   * @param memory the memory to hand out
   * @param base the first address the pool may use (below it: the threads' control blocks)
   * @param onGrow called after the memory grew, so that views of it can be remade
   */
  constructor(
    private readonly memory: WasmMemory,
    private readonly base: number,
    private readonly onGrow: () => void,
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
      if (total > MAX_PAGES) {
        throw new Error(
          `wasm backend: out of memory: ${bytes} more bytes would need ${total} pages of 64 KiB, past the maximum of ${MAX_PAGES} (2 GiB): the model or batch is too big for it (with npm run train:mnist, try a smaller --hidden or --batch-size, or --backend cpu); in your own code, dispose() tensors you no longer need or run each step in scoped()`,
        );
      }
      // Grow by at least half again, so that a growing program grows a logarithmic number of times.
      this.memory.grow(
        Math.min(MAX_PAGES - have / PAGE_BYTES, Math.max(pages, Math.ceil(have / PAGE_BYTES / 2))),
      );
      this.onGrow();
    }
    this.top = needed;
    return address;
  }

  /** Give back the block at `address`, which was allocated for `bytes` bytes. */
  free(address: number, bytes: number): void {
    const size = sizeClass(bytes);
    let list = this.freeLists.get(size);
    if (list === undefined) {
      list = [];
      this.freeLists.set(size, list);
    }
    list.push(address);
    this.freeBytes += size;
  }

  info(): PoolInfo {
    return {
      reserved: this.top - this.base,
      free: this.freeBytes,
      memoryBytes: this.memory.buffer.byteLength,
    };
  }
}
