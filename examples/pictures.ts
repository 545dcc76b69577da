/**
 * Where the examples put their pictures: docs/images/ (the tutorial shows them), or the folder
 * named by ELBO_EXAMPLES_IMAGES (the tests draw into a temporary one and compare).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type Tensor, toSvg } from "../src/index.ts";

const folder =
  process.env.ELBO_EXAMPLES_IMAGES ??
  resolve(dirname(fileURLToPath(import.meta.url)), "..", "docs", "images");

/** Draw the graph behind `root` into `<folder>/<file>` and say so. */
export async function drawGraph(file: string, root: Tensor): Promise<void> {
  const svg = await toSvg(root);
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, file), svg);
  console.log(`drew docs/images/${file}`);
}
