/**
 * compile over every op, not only the VAE's: for each entry of the op table, a step that runs the
 * op on a batch (the step's input) plus trainable state, weighs its output by a second input,
 * sums, and differentiates. Compiled and run as is, side by side, on each backend (cpu, wasm on one
 * thread and on two sharing every op) in float32 and float64: at every call, traced or replayed,
 * the same output, loss and gradients, bit for bit.
 */
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { tensor } from "../../src/autograd/create.ts";
import { Generator } from "../../src/autograd/random.ts";
import type { Tensor } from "../../src/autograd/tensor.ts";
import { compile } from "../../src/compile/compile.ts";
import type { DType, TypedArray } from "../../src/kernels/backend.ts";
import { getBackend, setBackend } from "../../src/kernels/registry.ts";
import { opTable, type Plain, plainOf, titleOf } from "../autograd/op-table.ts";
import { cpuAndWasmBackends } from "../fixtures/backends.ts";

const previous = getBackend();
afterEach(() => setBackend(previous));

/** Calls of each op (fast-check samples of its domain), and calls of the step per sample. */
const SAMPLES = 3;
const CALLS = 4;

const typed = (values: readonly number[], dtype: DType): TypedArray =>
  dtype === "float64" ? Float64Array.from(values) : Float32Array.from(values);

/** A tensor's bytes: equal bytes are equal numbers bit for bit (±0 and NaN payloads included). */
async function bits(t: Tensor): Promise<number[]> {
  const v = await t.data();
  return Array.from(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
}

/**
 * The op as a training step: input 0 is the batch x plus a state tensor of zeros (so that its
 * gradient is taken while x changes from call to call), the other inputs are state; the loss is
 * Σ y·c with c the step's second input. Returns [y, loss, the state's gradients].
 */
function opStep(entry: (typeof opTable)[number], params: unknown, inputs: Plain[], dtype: DType) {
  const state = inputs.map((p, i) =>
    tensor(typed(i === 0 ? p.values.map(() => 0) : p.values, dtype), p.shape, { requiresGrad: true }),
  );
  return (x: Tensor, c: Tensor): Tensor[] => {
    for (const s of state) s.zeroGrad();
    const y = entry.fn([x.add(state[0]), ...state.slice(1)], params);
    const loss = (y.dtype === dtype ? y : y.to(dtype)).mul(c).sum();
    loss.backward();
    return [y, loss, ...state.flatMap((s) => (s.grad === null ? [] : [s.grad]))];
  };
}

for (const backend of cpuAndWasmBackends()) {
  describe(`compiled ops on ${backend.title}: the eager step's results at every call, bit for bit`, () => {
    for (const entry of opTable) {
      it(titleOf(entry), async () => {
        setBackend(previous);
        // Sampled on the reference backend, kept as plain numbers, made again on the backend under test.
        const samples = fc
          .sample(entry.domain, { seed: 20261206, numRuns: SAMPLES })
          .map(({ inputs, params }) => ({ inputs: inputs.map(plainOf), params }));
        setBackend(await backend.load());
        for (const { inputs, params } of samples) {
          for (const dtype of ["float32", "float64"] as const) {
            const eager = opStep(entry, params, inputs, dtype);
            const compiled = compile(opStep(entry, params, inputs, dtype), { name: titleOf(entry) });
            const out = entry.fn(
              inputs.map((p) => tensor(typed(p.values, dtype), p.shape)),
              params,
            );
            const g = new Generator(1);
            const runs: string[] = [];
            for (let k = 0; k < CALLS; k++) {
              // x scaled by a positive factor stays in the op's domain (positive for log, away from 0 for div).
              const x = () =>
                tensor(
                  typed(
                    inputs[0].values.map((v) => v * (1 + 0.05 * k)),
                    dtype,
                  ),
                  inputs[0].shape,
                );
              const weights = tensor(
                typed(
                  Array.from({ length: out.size }, () => g.uniform() * 2 - 1),
                  dtype,
                ),
                out.shape,
              );
              const [a, b] = [eager(x(), weights), compiled(x(), weights)];
              runs.push(compiled.lastRun ?? "none");
              expect(b.length, `${titleOf(entry)}, ${dtype}, call ${k}: results`).toBe(a.length);
              for (let r = 0; r < a.length; r++)
                expect(await bits(b[r]), `${titleOf(entry)}, ${dtype}, call ${k}, result ${r}`).toEqual(
                  await bits(a[r]),
                );
              for (const t of [weights, ...a, ...b]) t.dispose();
            }
            expect(runs).toEqual(["traced", "traced", "replayed", "replayed"]);
          }
        }
      });
    }
  });
}
