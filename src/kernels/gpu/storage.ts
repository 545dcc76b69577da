/**
 * What a GPU backend's Storage holds, and the in-order queue that asynchronous devices run on.
 *
 * A storage's numbers can be on the host (a typed array: made from data, computed by a cpu
 * fallback, or read back), on the device (a texture or buffer), or both (device values read back
 * are kept). On WebGPU an op returns its storage at once, before its kernel has run: the storage is
 * *pending* until its turn in the queue comes.
 */
import type { DType, Storage, TypedArray } from "../backend.ts";
import type { DeviceArray, Maybe } from "./device.ts";

/**
 * Where a storage's values are. Kept apart from the storage so that the FinalizationRegistry,
 * which runs after the storage itself has been collected, can still free the device array.
 */
export class Place {
  host: TypedArray | null = null;
  device: DeviceArray | null = null;
  /** The op that should have made these values failed; reading them rethrows this. */
  error: unknown = undefined;
}

export class GpuStorage implements Storage {
  readonly place = new Place();
  /** False while the op that makes these values waits in the queue (asynchronous devices only). */
  settled = false;

  constructor(
    readonly dtype: DType,
    readonly size: number,
  ) {}

  get bytes(): number {
    return this.size * (this.dtype === "float64" ? 8 : 4);
  }
}

/**
 * Jobs run one after another in the order they were queued, as commands on a GPU queue do. So an
 * op always runs after the ops that made its inputs, and freeing a buffer waits until every op
 * queued before it (and so every op that reads it) has run. A failed job does not stop the next.
 */
export class Queue {
  private tail: Promise<void> = Promise.resolve();

  push(job: () => Maybe<void>): Promise<void> {
    const done = this.tail.then(job);
    this.tail = done.catch(() => {});
    return done;
  }

  /** Settles when everything queued so far has run. */
  drain(): Promise<void> {
    return this.tail;
  }
}

/** f(values) once all values are there: at once when none is a Promise (synchronous devices). */
export function whenAll<T, U>(values: readonly Maybe<T>[], f: (ready: T[]) => Maybe<U>): Maybe<U> {
  if (values.some((v) => v instanceof Promise)) return Promise.all(values).then(f);
  return f(values as T[]);
}
