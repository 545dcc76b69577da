/**
 * The engine on the cpu backend and on wasm, on one thread and two (engine-on-backend.ts); the gpu
 * backend's run is test/kernels/gpu/backend.engine.test.ts.
 */
import { cpuAndWasmBackends } from "../fixtures/backends.ts";
import { describeEngineOn } from "./engine-on-backend.ts";

for (const { title, load } of cpuAndWasmBackends()) describeEngineOn(title, load);
