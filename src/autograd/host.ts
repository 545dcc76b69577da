/**
 * The host's part of a step: values computed in JavaScript rather than by tensor ops (a random
 * draw, an optimizer's bias corrections), and changes to JavaScript state (an optimizer's step
 * count). Eagerly they are just that: the function runs, its values become a tensor. A compiled
 * step (src/compile) replays its tensor ops without running the step's JavaScript, so it must run
 * these again at every call, in the order the step ran them: made through here, they are recorded
 * as such instead of being frozen as constants.
 */
import type { Shape, Storage, TypedArray } from "../kernels/backend.ts";
import { fromTypedArray, type Tensor } from "./tensor.ts";

/** What a compiled step's tracer is told while it watches a step run. */
export interface HostRecorder {
  /** `storage` holds values that `make` computes afresh at every call. */
  value(storage: Storage, make: () => TypedArray): void;
  /** `effect` changes host state, and must run at every call. */
  effect(effect: () => void): void;
}

let recorder: HostRecorder | null = null;

/** Run `fn` with `r` told of every host value and effect; the previous recorder afterwards. */
export function recordingHost<T>(r: HostRecorder, fn: () => T): T {
  const previous = recorder;
  recorder = r;
  try {
    return fn();
  } finally {
    recorder = previous;
  }
}

/** A tensor of the values `make` computes on the host, which a compiled step computes again at every call. */
export function hostTensor(
  make: () => TypedArray,
  shape: Shape,
  options: { requiresGrad?: boolean } = {},
): Tensor {
  const t = fromTypedArray(make(), shape, options);
  recorder?.value(t.storage, make);
  return t;
}

/** Run `effect` now, and at every call of a compiled step that ran it. */
export function hostEffect(effect: () => void): void {
  effect();
  recorder?.effect(effect);
}
