/**
 * The backend conformance suite (test/kernels/conformance.ts) on wasm, on one thread and on two
 * splitting every op.
 */
import { cpuAndWasmBackends } from "../../fixtures/backends.ts";
import { describeConformance } from "../describe-conformance.ts";

describeConformance(cpuAndWasmBackends().filter((b) => b.kind === "wasm"));
