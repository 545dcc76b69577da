/**
 * The course's site in headless Chromium: built with `vitepress build` (the lab beside it), served
 * on 127.0.0.1, every chapter opened and run in the page (its ```ts blocks, in a Web Worker, on the
 * wasm backend). Every output block the chapter quotes must match what the page printed, by the
 * rule of book/quotes.ts that the Node test applies to the examples; no page may log an error; no
 * request may leave the local server. Then an exercise is graded in the page, failed as a stub and
 * passed once solved, by the graders `npm run exercise` runs.
 * Without Chromium it skips and says so, unless ELBO_REQUIRE_BROWSER=1 (CI).
 * ELBO_BOOK_SCREENSHOTS=docs/images also saves the pictures the README shows: a chapter run in the
 * page (site-chapter.png) and an exercise graded there (site-exercise.png).
 */
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunSummary } from "../../book/protocol.ts";
import { quotesIn } from "../../book/quotes.ts";
import { chromiumInstalled, chromiumPath, launchChromium } from "../browser/chromium.ts";
import { type Served, serve } from "../browser/serve.ts";

const root = resolve(import.meta.dirname, "../..");
const site = join(root, "dist-docs");
const haveChromium = chromiumInstalled();
if (!haveChromium && process.env.ELBO_REQUIRE_BROWSER === "1")
  throw new Error(`ELBO_REQUIRE_BROWSER=1 but there is no Chromium at ${chromiumPath}`);

const screenshots = process.env.ELBO_BOOK_SCREENSHOTS;

const chapters = readdirSync(join(root, "docs"))
  .filter((f) => /^\d\d-.*\.md$/.test(f))
  .sort();

// Predicates evaluated in the page (as text: this file is typed for Node, not the DOM).
const STATE_IS = (...states: string[]) =>
  `${JSON.stringify(states)}.includes(document.querySelector(".vp-doc")?.dataset.bookState ?? "")`;
const VERDICT_IS = (...verdicts: string[]) =>
  `${JSON.stringify(verdicts)}.includes(document.querySelector(".book-exercise")?.dataset.verdict ?? "")`;

interface Opened {
  page: Page;
  errors: string[];
  /** Requests for anything not on the local server. */
  outside: string[];
}

describe.skipIf(!haveChromium)(
  `the course's site in headless Chromium${haveChromium ? "" : ` (SKIPPED: no ${chromiumPath})`}`,
  () => {
    let browser: Browser;
    let server: Served;

    beforeAll(async () => {
      await promisify(execFile)(
        process.execPath,
        [join(root, "node_modules/vitepress/bin/vitepress.js"), "build", "docs"],
        {
          cwd: root,
          maxBuffer: 1 << 24,
        },
      );
      server = await serve(site, {}, false);
      browser = await launchChromium();
    }, 600_000);

    afterAll(async () => {
      await browser?.close();
      await server?.close();
    });

    async function open(path: string): Promise<Opened> {
      const page = await browser.newPage();
      const errors: string[] = [];
      const outside: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error") errors.push(m.text());
      });
      page.on("pageerror", (e) => errors.push(e.message));
      page.on("request", (r) => {
        const url = r.url();
        if (!url.startsWith(server.url) && !/^(data|blob):/.test(url)) outside.push(url);
      });
      await page.goto(`${server.url}/${path}`);
      return { page, errors, outside };
    }

    for (const chapter of chapters) {
      const name = chapter.replace(/\.md$/, "");
      it(`${name}: every code block runs in the page and prints what the chapter quotes`, async () => {
        const { page, errors, outside } = await open(`${name}.html`);
        try {
          await page.click(".book-run-all", { timeout: 60_000 });
          await page.waitForFunction(STATE_IS("done", "failed"), null, { timeout: 300_000, polling: 250 });
          const summary = (await page.evaluate("window.__book.last")) as RunSummary;
          expect(summary.failure, `${chapter} stopped`).toBeNull();
          expect(summary.backend).toBe("wasm");
          const quoted = quotesIn(readFileSync(join(root, "docs", chapter), "utf8")).length;
          expect(summary.quotes, `${chapter}: quoted blocks found in the page`).toBe(quoted);
          expect(summary.mismatches, `${chapter}: quotes the page's run did not print`).toEqual([]);
          // Each code block printed under itself, or drew, or ran quietly; the last one at least printed.
          const cells = await page.locator(".book-cell").count();
          expect(cells).toBeGreaterThan(0);
          expect(errors, `${chapter}: console errors`).toEqual([]);
          expect(outside, `${chapter}: requests that left the local server`).toEqual([]);
        } finally {
          await page.close();
        }
      });
    }

    it("draws a graph under the cell that asks for one (chapter 4's recorded backward pass)", async () => {
      const { page, errors } = await open("04-custom-op.html");
      try {
        await page.click(".book-run-all");
        await page.waitForFunction(STATE_IS("done"), null, { timeout: 120_000 });
        const labels = await page.locator(".book-graph svg text").allTextContents();
        expect(labels).toContain("dy/dt · add");
        expect(labels).toContain("t · leaf");
        expect(errors).toEqual([]);
        if (screenshots) {
          await page.setViewportSize({ width: 1280, height: 1100 });
          await page
            .locator(".book-graph")
            .first()
            .evaluate((e) => e.scrollIntoView({ block: "center" }));
          await page.screenshot({ path: join(screenshots, "site-chapter.png") });
        }
      } finally {
        await page.close();
      }
    });

    it("grades an exercise in the page: the stub fails, the solution passes", async () => {
      const { page, errors, outside } = await open("02-chain-rule.html");
      try {
        await page.click("a[data-exercise='02-scalar-autodiff'] + .book-try");
        const editor = page.locator("textarea[data-exercise='02-scalar-autodiff']");
        const panel = page.locator(".book-exercise", { has: editor });
        await panel.locator("button", { hasText: "Grade" }).click();
        await page.waitForFunction(VERDICT_IS("passed", "failed"));
        expect(await panel.locator(".book-verdict").textContent()).toContain(
          "FAILED 02-scalar-autodiff at check 1 of 4",
        );
        // A planted mistake (assigning .grad instead of adding): the verdict names the check and hints.
        await editor.fill(readFileSync(join(root, "test/exercises/wrong/02-scalar-autodiff.ts"), "utf8"));
        await panel.locator("button", { hasText: "Grade" }).click();
        await page.waitForFunction(
          `document.querySelector(".book-verdict")?.textContent.includes("at check 3 of 4")`,
        );
        const failed = await panel.locator(".book-verdict").textContent();
        expect(failed).toContain("FAIL 3/4 a value used twice: L = a·a + a");
        expect(failed).toContain("hint: add into .grad (+=), never assign");
        if (screenshots) {
          await page.setViewportSize({ width: 1280, height: 1000 });
          await panel.locator(".book-verdict").evaluate((e) => e.scrollIntoView({ block: "end" }));
          await page.screenshot({ path: join(screenshots, "site-exercise.png") });
        }
        await editor.fill(readFileSync(join(root, "exercises/solutions/02-scalar-autodiff.ts"), "utf8"));
        await panel.locator("button", { hasText: "Grade" }).click();
        await page.waitForFunction(VERDICT_IS("passed"), null, { timeout: 60_000 });
        expect(await panel.locator(".book-verdict").textContent()).toContain(
          "PASSED 02-scalar-autodiff: all 4 checks",
        );
        expect(errors).toEqual([]);
        expect(outside).toEqual([]);
      } finally {
        await page.close();
      }
    });

    it("links to the lab, built beside the site", async () => {
      expect(existsSync(join(site, "lab", "index.html"))).toBe(true);
      const { page } = await open("index.html");
      try {
        const href = await page.locator("a", { hasText: "Gradient lab" }).first().getAttribute("href");
        expect(href).toBe("/lab/");
        const response = await page.goto(`${server.url}/lab/index.html`);
        expect(response?.status()).toBe(200);
        expect(await page.title()).toContain("gradient lab");
      } finally {
        await page.close();
      }
    });
  },
);
