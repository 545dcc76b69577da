/**
 * The rule that keeps the tutorial honest, shared by the Node test (test/docs/examples.test.ts)
 * and the page that runs the chapters (book/page.ts): every output block a chapter quotes (a
 * ```text fence right after `<!-- output of examples/NAME.ts -->`) must appear, line for line, in
 * what the example prints.
 *
 * Numbers are compared to the precision they are printed with, give or take one unit in the last
 * printed digit: the examples are seeded, so a run prints the same digits every time; a kernel that
 * sums in another order may move a float32 result's last printed digit by one, and anything more is
 * a real change the chapter must follow. Blocks marked `(timings vary)` compare the words but not
 * the numbers on lines with a time (ms) or a share (%) in them.
 */

export interface Quote {
  /** The example whose output is quoted, e.g. "01-derivative.ts". */
  example: string;
  timingsVary: boolean;
  lines: string[];
}

const MARKER = /<!-- output of examples\/([\w-]+\.ts)( \(timings vary\))? -->\s*\n```text\n([\s\S]*?)\n```/g;

/** The output blocks a chapter's Markdown quotes, in order. */
export function quotesIn(markdown: string): Quote[] {
  return [...markdown.matchAll(MARKER)].map((m) => ({
    example: m[1],
    timingsVary: m[2] !== undefined,
    lines: m[3].split("\n"),
  }));
}

export const NUMBER = /[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?/gi;

/** Does `actual` say what `quoted` says, numbers to their printed precision? */
export function lineMatches(quoted: string, actual: string, ignoreNumbers: boolean): boolean {
  const words = (s: string) => s.replace(NUMBER, "#").trimEnd();
  if (words(quoted) !== words(actual)) return false;
  if (ignoreNumbers) return true;
  const q = quoted.match(NUMBER) ?? [];
  const a = actual.match(NUMBER) ?? [];
  return q.every((token, i) => {
    const mantissa = token.toLowerCase().split("e")[0];
    const decimals = mantissa.includes(".") ? mantissa.split(".")[1].length : 0;
    const exponent = token.toLowerCase().includes("e") ? Number(token.toLowerCase().split("e")[1]) : 0;
    const unit = 10 ** (exponent - decimals);
    return Math.abs(Number(token) - Number(a[i])) <= unit * 1.000001;
  });
}

/**
 * Where `quote` appears in `output`: ok, or the first quoted line that no run of the output
 * matches, beside what was printed there.
 */
export function findQuote(quote: Quote, output: string): { ok: boolean; expected: string; printed: string } {
  const actual = output.split("\n");
  let best = { at: -1, matched: -1 };
  for (let start = 0; start < actual.length; start++) {
    let k = 0;
    while (
      k < quote.lines.length &&
      start + k < actual.length &&
      lineMatches(quote.lines[k], actual[start + k], quote.timingsVary && /\bms\b|%/.test(quote.lines[k]))
    ) {
      k++;
    }
    if (k === quote.lines.length) return { ok: true, expected: "", printed: "" };
    if (k > best.matched) best = { at: start, matched: k };
  }
  const k = Math.max(0, best.matched);
  return { ok: false, expected: quote.lines[k], printed: actual[best.at + k] ?? "(nothing there)" };
}
