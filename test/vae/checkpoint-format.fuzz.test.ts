/**
 * Fuzzing the checkpoint reader with damaged files: truncations, bit flips and header edits. Every
 * case must end in a clear error (a plain Error naming the file, never an internal TypeError or
 * RangeError) or in a load that is right: what the reader returns is what the file's bytes say,
 * and for damage the checksum should see, the original itself.
 */
import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import { decodeCheckpoint } from "../../src/vae/checkpoint-format.ts";
import { checkpointBytes, disposeRun, startRun, trainRun } from "../../src/vae/run.ts";
import { bitFlips, expectClearError } from "../fixtures/damage.ts";
import { historyInFile, joinSafetensors, splitSafetensors } from "../fixtures/safetensors-bytes.ts";
import { tinyConfig, tinyDataset, tinyTraining } from "../fixtures/tiny-run.ts";

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
  });

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
  });
});
