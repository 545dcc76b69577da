/**
 * Fuzzing the readers with damaged files: truncations, bit flips and header edits of a checkpoint
 * and of IDX files. Every case must end in a clear error (a plain Error naming the file, never an
 * internal TypeError or RangeError) or in a load that is right: what the reader returns is what
 * the file's bytes say, and for damage the checksum should see, the original itself. Memory stays
 * bounded: a damaged size field must not make a reader allocate what the file does not hold.
 */
import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import { decodeCheckpoint } from "../../src/vae/checkpoint-format.ts";
import { datasetFromIdx, parseIdx } from "../../src/vae/dataset.ts";
import { checkpointBytes, disposeRun, startRun, trainRun } from "../../src/vae/run.ts";
import {
  historyInFile,
  joinSafetensors,
  splitSafetensors,
  tinyConfig,
  tinyDataset,
  tinyTraining,
} from "./helpers.ts";

const FILE = "runs/fuzz/checkpoint.safetensors";

// Made once, by the first test that needs it rather than at import: work done at import is invisible
// to mutation testing's per-test coverage, which then has to run every test against every mutant.
let good: Uint8Array;
beforeEach(async () => {
  if (good !== undefined) return;
  const seeded = startRun(tinyConfig, tinyTraining({ epochs: 1 }));
  await trainRun(seeded, tinyDataset(8));
  good = await checkpointBytes(seeded);
  disposeRun(seeded);
});

/** A plain Error whose message starts with the file's name: ours, and clear. */
function expectClearError(e: unknown, file: string): void {
  expect(e).toBeInstanceOf(Error);
  expect((e as Error).constructor, (e as Error).stack).toBe(Error);
  expect((e as Error).message.startsWith(`${file}: `), (e as Error).message).toBe(true);
}

/** Decode and restore a run as the CLI does; on success, compare what loaded with the file's own bytes. */
async function loadsRightOrFailsClearly(bytes: Uint8Array): Promise<"error" | "loaded"> {
  let run: ReturnType<typeof startRun>;
  try {
    const c = decodeCheckpoint(bytes, FILE);
    try {
      run = startRun(c.model, c.training, c);
    } catch (e) {
      throw new Error(`${FILE}: does not fit the model it describes: ${(e as Error).message}`);
    }
  } catch (e) {
    expectClearError(e, FILE);
    return "error";
  }
  // What loaded is what the file says: each parameter and buffer from its own bytes.
  const { header, data } = splitSafetensors(bytes);
  const fromFile = (name: string) => {
    const [begin, end] = (header[name] as { data_offsets: [number, number] }).data_offsets;
    return Array.from(new Float32Array(Uint8Array.from(data.subarray(begin, end)).buffer));
  };
  for (const [name, p] of run.model.namedParameters()) {
    expect(Array.from(await p.data()), name).toEqual(fromFile(`model.${name}`));
  }
  for (const [buffer, list] of Object.entries(run.optimizer.stateTensors())) {
    for (const [i, t] of list.entries())
      expect(Array.from(await t.data())).toEqual(fromFile(`optimizer.${buffer}.${i}`));
  }
  const metadata = header.__metadata__ as Record<string, string>;
  expect(run.generator.getState()).toEqual(JSON.parse(metadata.generator));
  expect(run.history).toEqual(historyInFile(bytes));
  disposeRun(run);
  return "loaded";
}

/** `file` with 1 to `most` of its bits flipped. */
function bitFlips(file: Uint8Array, most: number): fc.Arbitrary<Uint8Array> {
  const flip = fc.tuple(fc.nat(file.length - 1), fc.integer({ min: 0, max: 7 }));
  return fc.array(flip, { minLength: 1, maxLength: most }).map((flips) => {
    const bytes = Uint8Array.from(file);
    for (const [at, bit] of flips) bytes[at] ^= 1 << bit;
    return bytes;
  });
}

/** Every path to a leaf or field of a JSON value. */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (typeof value !== "object" || value === null) return [prefix];
  const keys = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
  return [
    prefix,
    ...keys.flatMap((k) => paths((value as Record<string | number, unknown>)[k], [...prefix, k])),
  ];
}

function edited(value: unknown, path: (string | number)[], replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const copy = (Array.isArray(value) ? [...value] : { ...(value as object) }) as Record<
    string | number,
    unknown
  >;
  if (replacement === undefined && path.length === 1) delete copy[path[0]];
  else copy[path[0]] = edited(copy[path[0]], path.slice(1), replacement);
  return copy;
}

describe("fuzzing the checkpoint reader", () => {
  /** The good checkpoint's header (metadata values parsed from their JSON), its data, and how to pack an edit. */
  const parts = () => {
    const { header, data } = splitSafetensors(good);
    // Metadata values are JSON strings: edit inside them too.
    const expanded = {
      ...header,
      __metadata__: Object.fromEntries(
        Object.entries(header.__metadata__ as Record<string, string>).map(([k, v]) => {
          try {
            return [k, JSON.parse(v)];
          } catch {
            return [k, v];
          }
        }),
      ),
    };
    const leafPaths = paths(expanded);
    const pack = (h: Record<string, unknown>) => ({
      ...h,
      __metadata__: Object.fromEntries(
        Object.entries((h.__metadata__ ?? {}) as Record<string, unknown>).map(([k, v]) => [
          k,
          typeof v === "string" ? v : JSON.stringify(v),
        ]),
      ),
    });
    return { header, data, expanded, leafPaths, pack };
  };

  it("truncations and bit flips end in a clear error (the checksum or the layout sees them)", async () => {
    const rssBefore = process.memoryUsage().rss;
    const damage = fc.oneof(
      fc.integer({ min: 0, max: good.length - 1 }).map((n) => good.subarray(0, n)),
      bitFlips(good, 4),
      fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((length) => {
        const bytes = Uint8Array.from(good);
        new DataView(bytes.buffer).setBigUint64(0, length, true);
        return bytes;
      }),
    );
    await fc.assert(
      fc.asyncProperty(damage, async (bytes) => {
        const result = await loadsRightOrFailsClearly(bytes);
        // Flips that cancel out leave the file as it was: only then may it load.
        if (result === "loaded") expect(bytes).toEqual(good);
      }),
      { numRuns: 300 },
    );
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(200 * 2 ** 20);
  }, 60_000);

  it("header edits (any JSON at any place, or a field removed), resealed or not, end in a clear error or a right load", async () => {
    const { header, data, expanded, leafPaths, pack } = parts();
    let loaded = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...leafPaths),
        fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(undefined)),
        fc.boolean(),
        async (path, replacement, reseal) => {
          const changed = edited(expanded, path, replacement) as Record<string, unknown>;
          const packed =
            typeof changed === "object" && changed !== null && !Array.isArray(changed)
              ? pack(changed)
              : changed;
          const bytes = joinSafetensors(packed, data, reseal);
          if ((await loadsRightOrFailsClearly(bytes)) !== "loaded") return;
          loaded++;
          // Not resealed, the checksum guards the whole header: only an unchanged one may load.
          if (!reseal) expect(splitSafetensors(bytes).header).toEqual(header);
        },
      ),
      {
        numRuns: 300,
        examples: [
          [["__metadata__", "training", "lr"], 0.5, true],
          [["optimizer.m.0", "data_offsets"], [0, 48], false],
        ],
      },
    );
    // Some edits are harmless (a different time for an epoch): they must load, and did.
    expect(loaded).toBeGreaterThan(0);
  }, 60_000);
});

describe("fuzzing the IDX reader", () => {
  const IMAGES = "data/train-images-idx3-ubyte";
  const LABELS = "data/train-labels-idx1-ubyte";
  const idx = (dims: number[], payload: number[], typeCode = 8) => {
    const bytes = new Uint8Array(4 + 4 * dims.length + payload.length);
    const view = new DataView(bytes.buffer);
    view.setUint8(2, typeCode);
    view.setUint8(3, dims.length);
    for (const [i, d] of dims.entries()) view.setUint32(4 + 4 * i, d, false);
    bytes.set(payload, 4 + 4 * dims.length);
    return bytes;
  };
  const images = idx(
    [3, 2, 3],
    Array.from({ length: 18 }, (_, i) => i * 14),
  );
  const labels = idx([3], [7, 0, 9]);

  /** What a correct reader must return for these bytes, decoded independently; null if they are not a valid file. */
  function reference(bytes: Uint8Array): { dims: number[]; payload: Uint8Array } | null {
    if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0 || bytes[2] !== 8) return null;
    const rank = bytes[3];
    if (bytes.length < 4 + 4 * rank) return null;
    const dims = Array.from({ length: rank }, (_, d) =>
      new DataView(bytes.buffer, bytes.byteOffset).getUint32(4 + 4 * d, false),
    );
    const payload = bytes.subarray(4 + 4 * rank);
    return dims.reduce((a, b) => a * b, 1) === payload.length ? { dims, payload } : null;
  }

  it("truncations, bit flips and dimension edits end in a clear error or the file's own values", () => {
    const damage = fc.oneof(
      fc.nat(images.length - 1).map((n) => images.subarray(0, n)),
      bitFlips(images, 3),
      fc.tuple(fc.integer({ min: 0, max: 3 }), fc.nat(0xffffffff)).map(([d, value]) => {
        const bytes = Uint8Array.from(images);
        if (d === 3)
          bytes[3] = value & 0xff; // the rank
        else new DataView(bytes.buffer).setUint32(4 + 4 * d, value, false);
        return bytes;
      }),
    );
    fc.assert(
      fc.property(damage, (bytes) => {
        const expected = reference(bytes);
        let parsed: ReturnType<typeof parseIdx>;
        try {
          parsed = parseIdx(bytes, IMAGES);
        } catch (e) {
          expectClearError(e, IMAGES);
          expect(expected).toBeNull();
          return;
        }
        expect(expected).not.toBeNull();
        expect(parsed.dims).toEqual(expected?.dims);
        expect(parsed.data).toEqual(expected?.payload);
        // As a data set: a clear error (rank, count, empty) or the pixels scaled by 1/255.
        let ds: ReturnType<typeof datasetFromIdx>;
        try {
          ds = datasetFromIdx(parsed, parseIdx(labels, LABELS), { images: IMAGES, labels: LABELS });
        } catch (e) {
          expect(e).toBeInstanceOf(Error);
          expect((e as Error).constructor).toBe(Error);
          expect((e as Error).message).toMatch(/^data\/train-(images|labels)-idx\d-ubyte: /);
          return;
        }
        expect(ds.images).toEqual(Float32Array.from(parsed.data, (v) => v / 255));
        expect([ds.count, ds.rows, ds.cols]).toEqual(parsed.dims);
      }),
      { numRuns: 500 },
    );
  });
});
