/**
 * A chapter's code is its example's code: examples/NN-name.ts is a header comment and then cells,
 * each starting with a line `// %%`, and the chapter's ```ts blocks are those cells, in order.
 * `npm run docs:code` copies the cells into the chapter; test/docs/examples.test.ts fails when the
 * two differ. In Node the example runs as one file; in the page (book/page.ts) the blocks run in
 * order as one program, each block's output printed under it.
 */

const MARKER = /^\/\/ %%.*$/gm;

/** The cells of an example's source: the text after each `// %%` line, without blank edges. */
export function cellsOf(source: string): string[] {
  const parts = source.split(MARKER);
  return parts.slice(1).map((cell) => cell.replace(/^\s*\n/, "").trimEnd());
}

const TS_BLOCK = /^```ts\n([\s\S]*?)^```$/gm;

/** The contents of a chapter's ```ts blocks, in order. */
export function codeBlocksOf(markdown: string): string[] {
  return [...markdown.matchAll(TS_BLOCK)].map((m) => m[1].trimEnd());
}

/** `markdown` with its ```ts blocks replaced by `cells`, which must be as many. */
export function withCells(markdown: string, cells: readonly string[], chapter: string): string {
  const blocks = codeBlocksOf(markdown).length;
  if (blocks !== cells.length) {
    throw new Error(
      `${chapter} has ${blocks} \`\`\`ts blocks but its example has ${cells.length} cells (one block per cell, in order)`,
    );
  }
  let i = 0;
  return markdown.replace(TS_BLOCK, () => `\`\`\`ts\n${cells[i++]}\n\`\`\``);
}
