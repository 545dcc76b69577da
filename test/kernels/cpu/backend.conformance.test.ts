/** The backend conformance suite (test/kernels/conformance.ts) on the cpu backend, the reference itself. */
import { cpuAndWasmBackends } from "../../fixtures/backends.ts";
import { describeConformance } from "../describe-conformance.ts";

describeConformance(cpuAndWasmBackends().filter((b) => b.kind === "cpu"));
