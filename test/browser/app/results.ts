/** What the bundled page leaves on `window.elboResults` (app/main.ts) for the package test to read. */
export interface PageResults {
  backend: string;
  detail: string;
  threads: number;
  crossOriginIsolated: boolean;
  failures: string[];
  /** Special-value checks that failed: none allowed on cpu and wasm, reported on gpu. */
  specialFailures: string[];
  checks: number;
  losses: number[];
  cpuLosses: number[];
  msPerStep: number;
  cpuMsPerStep: number;
}

/** The page's answer: its results, or the error that stopped it. */
export type PageAnswer = PageResults | { error: string };
