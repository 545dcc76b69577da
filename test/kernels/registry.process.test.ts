/**
 * A CPU-only user's process loads neither gpu.js, Dawn nor headless-gl until the gpu backend is
 * asked for: checked in a fresh Node process, so that nothing this test runner loaded counts.
 */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";

describe("a CPU-only user", () => {
  it("loads neither gpu.js, Dawn nor headless-gl until the gpu backend is asked for", () => {
    // A fresh process, so that nothing this test runner loaded counts.
    const script = String.raw`
      import { createRequire } from "node:module";
      const require = createRequire(import.meta.url);
      const loaded = () => Object.keys(require.cache).some((p) => /node_modules[\\/](gpu\.js|webgpu|gl)[\\/]/.test(p));
      const { loadBackend } = await import("./src/kernels/registry.ts");
      await loadBackend("cpu");
      const beforeGpu = loaded();
      await loadBackend("gpu");
      console.log(JSON.stringify({ beforeGpu, afterGpu: loaded() }));`;
    const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      env: { ...process.env, ELBO_GPU_MODE: "cpu" },
      encoding: "utf8",
    });
    expect(JSON.parse(out.trim().split("\n").at(-1) as string)).toEqual({ beforeGpu: false, afterGpu: true });
  });
});
