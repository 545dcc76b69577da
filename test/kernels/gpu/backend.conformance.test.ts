/**
 * The backend conformance suite (test/kernels/conformance.ts) on the gpu backend: in the shader mode
 * found here (skipped with the reason where none works; a failure with ELBO_REQUIRE_SHADERS=1, as
 * CI runs it) and in gpu.js' cpu mode.
 */
import { gpuBackends, itRunsOnAShaderMode } from "../../fixtures/backends.ts";
import { describeConformance } from "../describe-conformance.ts";

const { probe, shader, jsCpu } = await gpuBackends();
itRunsOnAShaderMode(probe);
describeConformance([shader, jsCpu]);
