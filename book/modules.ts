/**
 * What the page's programs can import, by the specifiers the chapters and exercises use: elbo itself
 * ("../src/index.ts", or "elbojs"), a few engine-room modules chapter 10 reads, and page versions of
 * the two Node-only helpers: `loadMnist` reads the same IDX files from the site (a synchronous
 * request, which a worker may make), and `drawGraph` draws under the cell instead of writing a file.
 */

import * as simdListing from "../examples/simd-listing.ts";
import * as elbo from "../src/index.ts";
import * as wasmBackend from "../src/kernels/wasm/backend.ts";
import * as wasmElementwise from "../src/kernels/wasm/kernels-elementwise.ts";
import type { Printer, Require } from "./program.ts";

/** The MNIST split, as src/train-mnist/data.ts's loadMnist returns it, from files under `base`. */
function mnistLoader(base: string) {
  const bytes = (name: string): Uint8Array => {
    const request = new XMLHttpRequest();
    request.open("GET", new URL(name, base).href, false);
    request.responseType = "arraybuffer";
    request.send();
    if (request.status !== 200) throw new Error(`${name}: the site answered ${request.status}`);
    return new Uint8Array(request.response as ArrayBuffer);
  };
  return (split: "train" | "test", options: { limit?: number } = {}): elbo.Dataset => {
    const prefix = split === "train" ? "train" : "t10k";
    const names = { images: `${prefix}-images-idx3-ubyte`, labels: `${prefix}-labels-idx1-ubyte` };
    return elbo.datasetFromIdx(
      elbo.parseIdx(bytes(names.images), names.images),
      elbo.parseIdx(bytes(names.labels), names.labels),
      names,
      options.limit,
    );
  };
}

/** `require` for one run: `draw` shows a graph's SVG under the current cell. */
export function requireFor(options: { mnist: string; print: Printer; draw: (svg: string) => void }): Require {
  const table: Record<string, unknown> = {
    "../src/index.ts": elbo,
    elbojs: elbo,
    "../src/node.ts": { loadMnist: mnistLoader(options.mnist) },
    "../src/kernels/wasm/backend.ts": wasmBackend,
    "../src/kernels/wasm/kernels-elementwise.ts": wasmElementwise,
    "./simd-listing.ts": simdListing,
    "./pictures.ts": {
      drawGraph: async (file: string, root: elbo.Tensor) => {
        options.draw(await elbo.toSvg(root));
        options.print.log(`drew docs/images/${file}`);
      },
    },
  };
  return (specifier) => {
    if (!(specifier in table)) {
      throw new Error(`the page cannot import "${specifier}"; it offers ${Object.keys(table).join(", ")}`);
    }
    return table[specifier];
  };
}
