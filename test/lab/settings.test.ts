/**
 * The lab's settings are checked in the page before any run starts, in the page's words (no
 * command-line flags): each control the run cannot use gets one sentence saying what it takes.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_SETTINGS } from "../../lab/protocol.ts";
import { readSettings, type SettingField } from "../../lab/settings.ts";

const good: Record<SettingField, string> = {
  backend: "wasm",
  lr: "0.01",
  latent: "10",
  batchSize: "128",
  seed: "1",
  limit: "60000",
};
const problemsWith = (changes: Partial<Record<SettingField, string>>) =>
  readSettings({ ...good, ...changes }).problems.map((p) => `${p.field}: ${p.message}`);

describe("readSettings", () => {
  it("gives the settings typed, all 60,000 images as no limit", () => {
    expect(readSettings(good)).toEqual({ settings: DEFAULT_SETTINGS, problems: [] });
    expect(readSettings({ ...good, backend: "gpu:webgl2", limit: "2000" }).settings).toMatchObject({
      backend: "gpu:webgl2",
      limit: 2000,
    });
  });

  it("refuses a learning rate that is not above 0 and at most 1", () => {
    for (const lr of ["-1", "0", "", "abc", "2", "Infinity"]) {
      expect(problemsWith({ lr })).toEqual([
        "lr: learning rate: enter a number above 0 and at most 1 (0.01 trains well; from about 0.1 training may diverge)",
      ]);
    }
  });

  it("refuses latent 0 and other sizes that are not whole numbers in range", () => {
    for (const latent of ["0", "-2", "1.5", "65", ""]) {
      expect(problemsWith({ latent })).toEqual([
        "latent: latent size: enter a whole number from 1 to 64 (z needs at least one dimension)",
      ]);
    }
  });

  it("refuses a batch larger than the training images, and bad counts, seeds and backends", () => {
    expect(problemsWith({ batchSize: "600", limit: "512" })).toEqual([
      "batchSize: batch size: at most the number of training images (512)",
    ]);
    expect(problemsWith({ batchSize: "0" })).toEqual([
      "batchSize: batch size: enter a whole number from 1 to 1,024",
    ]);
    expect(problemsWith({ limit: "60001" })).toEqual([
      "limit: training images: enter a whole number from 1 to 60,000",
    ]);
    expect(problemsWith({ seed: "-1" })).toEqual([
      "seed: seed: enter a whole number from 0 to 4,294,967,295",
    ]);
    expect(problemsWith({ backend: "tpu" })).toEqual([
      'backend: backend: "tpu" is not one of the lab\'s backends; choose one from the list',
    ]);
  });

  it("names every problem at once, in no command-line words", () => {
    const all = problemsWith({ lr: "-1", latent: "0", batchSize: "0", seed: "x", limit: "0" });
    expect(all).toHaveLength(5);
    for (const p of all) expect(p).not.toMatch(/--|step \d+\/\d+/);
  });
});
