/** Making tensors: from nested arrays or typed arrays, constants, and seeded random numbers. */
import type { DType, Shape, TypedArray } from "../kernels/backend.ts";
import { getBackend } from "../kernels/registry.ts";
import { formatShape, MAX_TENSOR_SIZE, sizeOf } from "../kernels/shape.ts";
import { hostTensor } from "./host.ts";
import { type Generator, globalGenerator } from "./random.ts";
import { describeValue, fromTypedArray, type NestedArray, Tensor } from "./tensor.ts";

export interface CreateOptions {
  /** float32 unless given. */
  dtype?: DType;
  requiresGrad?: boolean;
}

export interface RandomOptions extends CreateOptions {
  /** Draw from this generator instead of the global one. */
  generator?: Generator;
}

function allocate(size: number, dtype: DType = "float32"): TypedArray {
  return dtype === "float64" ? new Float64Array(size) : new Float32Array(size);
}

/** Throw, naming `op`, unless `dtype` is one elbo has (JavaScript callers could pass "float16"). */
function checkDtype(op: string, dtype: DType | undefined): void {
  if (dtype !== undefined && dtype !== "float32" && dtype !== "float64")
    throw new Error(`${op}: dtype must be "float32" or "float64", got ${JSON.stringify(dtype)}`);
}

/** A tensor from nested arrays (`tensor([[1, 2], [3, 4]])`), or from a typed array and a shape. */
export function tensor(
  data: NestedArray | TypedArray,
  shapeOrOptions?: Shape | CreateOptions,
  options: CreateOptions = {},
): Tensor {
  checkDtype(
    "tensor",
    (Array.isArray(shapeOrOptions) ? options : ((shapeOrOptions ?? {}) as CreateOptions)).dtype,
  );
  if (data instanceof Float32Array || data instanceof Float64Array) {
    if (!Array.isArray(shapeOrOptions))
      throw new Error("tensor: a typed array needs a shape, e.g. tensor(data, [2, 3])");
    const dtype = options.dtype ?? (data instanceof Float64Array ? "float64" : "float32");
    const values =
      data instanceof (dtype === "float64" ? Float64Array : Float32Array)
        ? data
        : allocate(data.length, dtype).map((_, i) => data[i]);
    return fromTypedArray(values, shapeOrOptions as Shape, { requiresGrad: options.requiresGrad });
  }
  const opts = (Array.isArray(shapeOrOptions) ? options : (shapeOrOptions ?? {})) as CreateOptions;
  const shape = shapeOfNested(data);
  const values = allocate(sizeOf(shape), opts.dtype);
  flattenInto(data, shape, 0, values, 0);
  // A shape given with nested data reads the same numbers in that shape, like tensor(flat, shape).
  const target = Array.isArray(shapeOrOptions) ? (shapeOrOptions as Shape) : shape;
  if (sizeOf(target) !== values.length) {
    throw new Error(
      `tensor: shape ${formatShape(target)} needs ${sizeOf(target)} values but the nested array ${formatShape(shape)} has ${values.length}`,
    );
  }
  return fromTypedArray(values, target, { requiresGrad: opts.requiresGrad });
}

function shapeOfNested(data: NestedArray): number[] {
  const shape: number[] = [];
  let level: NestedArray = data;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = level[0] ?? 0;
  }
  return shape;
}

function flattenInto(data: NestedArray, shape: Shape, dim: number, out: TypedArray, offset: number): number {
  if (dim === shape.length) {
    if (typeof data !== "number")
      throw new Error(
        `tensor: ragged nested array: expected a number at depth ${dim} (shape ${formatShape(shape)})`,
      );
    out[offset] = data;
    return offset + 1;
  }
  if (!Array.isArray(data) || data.length !== shape[dim]) {
    throw new Error(
      `tensor: ragged nested array: expected ${shape[dim]} entries at depth ${dim} (shape ${formatShape(shape)})`,
    );
  }
  for (const item of data) offset = flattenInto(item, shape, dim + 1, out, offset);
  return offset;
}

/** `shape` filled with `value`. */
export function full(shape: Shape, value: number, options: CreateOptions = {}): Tensor {
  checkShape("full", shape, options);
  if (typeof value !== "number")
    throw new Error(`full: the value must be a number, got ${describeValue(value)}`);
  const backend = getBackend();
  return new Tensor(backend.fill(sizeOf(shape), value, options.dtype ?? "float32"), shape, backend, options);
}

export function zeros(shape: Shape, options: CreateOptions = {}): Tensor {
  return full(shape, 0, options);
}

export function ones(shape: Shape, options: CreateOptions = {}): Tensor {
  return full(shape, 1, options);
}

/** Uniform in [low, high), from the seeded generator. */
export function rand(shape: Shape, options: RandomOptions & { low?: number; high?: number } = {}): Tensor {
  const g = options.generator ?? globalGenerator;
  const low = options.low ?? 0;
  const high = options.high ?? 1;
  return random("rand", shape, options, () => low + (high - low) * g.uniform());
}

/** Normal with the given mean and std (standard normal by default), from the seeded generator. */
export function randn(shape: Shape, options: RandomOptions & { mean?: number; std?: number } = {}): Tensor {
  const g = options.generator ?? globalGenerator;
  const mean = options.mean ?? 0;
  const std = options.std ?? 1;
  return random("randn", shape, options, () => mean + std * g.normal());
}

/** Draws made on the host: a compiled step draws again at every call, in the same order (host.ts). */
function random(op: string, shape: Shape, options: CreateOptions, draw: () => number): Tensor {
  checkShape(op, shape, options);
  const make = () => {
    const values = allocate(sizeOf(shape), options.dtype);
    for (let i = 0; i < values.length; i++) values[i] = draw();
    return values;
  };
  return hostTensor(make, shape, { requiresGrad: options.requiresGrad });
}

function checkShape(op: string, shape: Shape, options: CreateOptions = {}): void {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
    throw new Error(
      `${op}: shape ${Array.isArray(shape) ? formatShape(shape) : String(shape)} must hold non-negative integers`,
    );
  }
  if (sizeOf(shape) > MAX_TENSOR_SIZE) {
    throw new Error(
      `${op}: shape ${formatShape(shape)} holds ${sizeOf(shape)} numbers, more than the ${MAX_TENSOR_SIZE} one tensor can hold`,
    );
  }
  checkDtype(op, options.dtype);
}

/**
 * A tensor of `value`s with the shape, dtype and backend of `like`, without a graph: gradient rules
 * use it as a constant.
 */
export function fullLike(like: Tensor, value: number): Tensor {
  return new Tensor(like.backend.fill(like.size, value, like.dtype), like.shape, like.backend);
}

export function zerosLike(like: Tensor): Tensor {
  return fullLike(like, 0);
}
