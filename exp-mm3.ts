import { createWasmBackend } from "./src/kernels/wasm/backend.ts";
import { backendGflops } from "./bench/matmul.ts";
const one = await createWasmBackend({ threads: 1 });
const r = [];
for (let i = 0; i < 3; i++) r.push((await backendGflops(one, 128, 784, 200, false, true, false)).toFixed(1));
console.log("1 thread GFLOP/s", r.join(" "));
process.exit(0);
