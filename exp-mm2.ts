import { backendGflops } from "./bench/matmul.ts";
import { createWasmBackend } from "./src/kernels/wasm/backend.ts";

const one = await createWasmBackend({ threads: 1 });
const two = await createWasmBackend({ threads: 2 });
for (const [m, k, n] of [
  [512, 512, 512],
  [128, 784, 200],
] as const) {
  console.log(
    m,
    k,
    n,
    (await backendGflops(one, m, k, n, false, false, false)).toFixed(1),
    (await backendGflops(two, m, k, n, false, false, false)).toFixed(1),
  );
}
process.exit(0);
