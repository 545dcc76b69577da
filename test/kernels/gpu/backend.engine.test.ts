/**
 * The engine on the gpu backend (test/autograd/engine-on-backend.ts): in the shader mode found here,
 * else in gpu.js' cpu mode, saying in the title that the shader path did not run (a failure with
 * ELBO_REQUIRE_SHADERS=1).
 */
import { describeEngineOn } from "../../autograd/engine-on-backend.ts";
import { gpuBackends, itRunsOnAShaderMode } from "../../fixtures/backends.ts";

const { probe, shader, jsCpu } = await gpuBackends();
itRunsOnAShaderMode(probe);
const gpu =
  shader.skip === undefined
    ? shader
    : { ...jsCpu, title: `${jsCpu.title}, SHADER PATH DID NOT RUN: ${shader.skip}` };
describeEngineOn(gpu.title, gpu.load);
