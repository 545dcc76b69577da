/**
 * `npm run docs:code`: copy each example's cells (examples/NN-name.ts, split at `// %%` lines)
 * into the ```ts blocks of its chapter (docs/NN-name.md), so that the code a chapter shows is the
 * code that printed the output it quotes. test/docs/examples.test.ts fails when they differ.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { cellsOf, withCells } from "../book/cells.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Each chapter of docs/ with the example of the same name in examples/. */
export function chapterExamples(): { chapter: string; example: string }[] {
  return readdirSync(join(root, "docs"))
    .filter((f) => /^\d\d-.*\.md$/.test(f))
    .sort()
    .map((chapter) => ({ chapter, example: chapter.replace(/\.md$/, ".ts") }));
}

/** The chapter's Markdown with its code blocks set to the example's cells. */
export function chapterWithCode(chapter: string, example: string): string {
  const markdown = readFileSync(join(root, "docs", chapter), "utf8");
  return withCells(
    markdown,
    cellsOf(readFileSync(join(root, "examples", example), "utf8")),
    `docs/${chapter}`,
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  // With arguments, only the chapters whose names start with one of them.
  const only = process.argv.slice(2);
  const chosen = chapterExamples().filter(
    (c) => only.length === 0 || only.some((o) => c.chapter.startsWith(o)),
  );
  for (const { chapter, example } of chosen) {
    const before = readFileSync(join(root, "docs", chapter), "utf8");
    const after = chapterWithCode(chapter, example);
    if (after !== before) {
      writeFileSync(join(root, "docs", chapter), after);
      console.log(`wrote docs/${chapter} from examples/${example}`);
    }
  }
}
