import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "vite";
import { launchChromium } from "./test/browser/chromium.ts";
import { serve } from "./test/browser/serve.ts";
const out = mkdtempSync(join(tmpdir(), "dbg-"));
await build({ configFile: "lab/vite.config.ts", logLevel: "error", build: { outDir: out } });
const served = await serve(out, {}, true);
const browser = await launchChromium(process.argv.slice(3));
const page = await browser.newPage();
page.on("console", (m) => console.log("console", m.type(), m.text()));
page.on("pageerror", (e) => console.log("pageerror", e.message));
await page.goto(`${served.url}/?${process.argv[2]}`);
for (let i = 0; i < 3; i++) {
  await new Promise((r) => setTimeout(r, 5000));
  console.log(await page.textContent("#status"), "|", await page.textContent("#error"), "|", await page.evaluate(() => JSON.stringify((globalThis as any).lab.phase)));
}
await browser.close(); await served.close();
