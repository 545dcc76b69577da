/** A benchmark section's result, printed as an aligned table or emitted as JSON (`--json`). */

export interface BenchTable {
  title: string;
  columns: string[];
  rows: (string | number)[][];
  /** Lines printed under the table: what was measured, against what, and caveats. */
  notes?: string[];
}

export interface BenchSection {
  name: string;
  run(options: BenchOptions): Promise<BenchTable[]>;
}

export interface BenchOptions {
  /** Fewer repetitions, for a quick look (and for CI smoke runs). */
  quick: boolean;
}

function cell(v: string | number): string {
  if (typeof v === "string") return v;
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
}

export function formatTable(t: BenchTable): string {
  const cells = [t.columns, ...t.rows.map((r) => r.map(cell))];
  const widths = t.columns.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? "").length)));
  const line = (r: string[]) =>
    r.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join("  ");
  const out = [
    `## ${t.title}`,
    line(cells[0]),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...cells.slice(1).map(line),
  ];
  for (const n of t.notes ?? []) out.push(`  ${n}`);
  return out.join("\n");
}
