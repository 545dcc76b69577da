/**
 * `npm run bench [-- --json] [--quick] [--only NAME]`: every benchmark section, each measured
 * against a baseline in the same run. Sections are listed below; add yours here.
 */
import { enableRelaxedSimd } from "../src/kernels/wasm/node-flags.ts";
import { gpuSection } from "./gpu.ts";
import { gpuStepSection } from "./gpu-step.ts";
import { matmulSection } from "./matmul.ts";
import { memorySection } from "./memory.ts";
import { microkernelSection } from "./microkernel.ts";
import { stepSection } from "./step.ts";
import { type BenchSection, type BenchTable, formatTable } from "./table.ts";
import { wasmSection } from "./wasm.ts";

const sections: BenchSection[] = [
  matmulSection,
  wasmSection,
  stepSection,
  gpuSection,
  memorySection,
  microkernelSection,
  gpuStepSection,
];

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  // As `npm run train:mnist` does, so that the figures are the trainer's (Node 20 hides it behind a flag).
  enableRelaxedSimd();
  const json = args.includes("--json");
  const quick = args.includes("--quick");
  const onlyAt = args.indexOf("--only");
  const only = onlyAt >= 0 ? args[onlyAt + 1] : undefined;
  const unknown = args.filter((a, i) => !["--json", "--quick", "--only"].includes(a) && i !== onlyAt + 1);
  if (unknown.length > 0 || (onlyAt >= 0 && !sections.some((s) => s.name === only))) {
    console.error(
      `bench: unknown argument ${unknown.join(" ") || `--only ${only}`}; sections: ${sections.map((s) => s.name).join(", ")}`,
    );
    console.error("usage: npm run bench -- [--json] [--quick] [--only SECTION]");
    process.exit(2);
  }
  const results: { section: string; tables: BenchTable[] }[] = [];
  for (const s of sections) {
    if (only !== undefined && s.name !== only) continue;
    if (only === undefined && "onRequest" in s) continue; // long sections run only with --only
    const tables = await s.run({ quick });
    results.push({ section: s.name, tables });
    if (!json) for (const t of tables) console.log(`${formatTable(t)}\n`);
  }
  if (json)
    console.log(JSON.stringify({ node: process.version, date: new Date().toISOString(), results }, null, 2));
}

await main();
