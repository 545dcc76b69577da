/**
 * The relaxed-SIMD matmul (fused multiply-adds, feature-detected): within the float32 bound of
 * the cpu reference, the same numbers on one thread and two and with zeros skipped. The check runs
 * in a child Node process started without flags, which turns the feature on as the CLI does
 * (enableRelaxedSimd); and asking for it where it is missing is explained.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { createWasmBackend } from "../../../src/kernels/wasm/create.ts";
import { relaxedSimdSupported } from "../../../src/kernels/wasm/module.ts";
import type { RelaxedSimdReport } from "./kernels-matmul.relaxed-simd-check.ts";

const script = fileURLToPath(new URL("./kernels-matmul.relaxed-simd-check.ts", import.meta.url));

/** The check's report, from a Node process started as `npm run train:mnist` starts one. */
function runCheck(): RelaxedSimdReport {
  const run = spawnSync(process.execPath, ["--import", "tsx", script], { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`relaxed SIMD check failed:\n${run.stdout}\n${run.stderr}`);
  return JSON.parse(run.stdout.trim().split("\n").at(-1) ?? "{}");
}

describe("wasm matmul with relaxed SIMD", () => {
  it("is within the reference's bound, and the same on two threads and with zeros skipped", () => {
    const report = runCheck();
    // Node 20 starts without it (a flag), Node 22+ with it; either way it is on once asked for,
    // and a backend made afterwards uses it without being told.
    expect(report.before).toBe(relaxedSimdSupported());
    expect(report.supported).toBe(true);
    expect(report.byDefault).toBe(true);
    expect(report.cases).toBe(24);
    expect(report.worst).toBeLessThanOrEqual(1);
    expect(report.threadsDiffer).toBe(0);
    expect(report.sparseDiffers).toBe(0);
  }, 60_000);

  it("is used by default exactly where the engine has it; asked for where it lacks it, it is explained", async () => {
    const backend = await createWasmBackend({ threads: 1 });
    expect(backend.relaxedSimd).toBe(relaxedSimdSupported());
    const plain = await createWasmBackend({ threads: 1, relaxedSimd: false });
    expect(plain.relaxedSimd).toBe(false);
    if (!relaxedSimdSupported()) {
      await expect(createWasmBackend({ threads: 1, relaxedSimd: true })).rejects.toThrow(/relaxed SIMD/);
    }
  });
});
