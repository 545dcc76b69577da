/**
 * Headless Chromium (Debian's `chromium` package) driven by playwright-core. The flags let a
 * machine without a GPU still run WebGL on SwiftShader (Chromium's software renderer) and offer
 * WebGPU where this build can; the tests say which modes actually ran.
 */
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

/** Where the browser is: $CHROMIUM, else Debian's path. */
export const chromiumPath = process.env.CHROMIUM ?? "/usr/bin/chromium";

export function chromiumInstalled(): boolean {
  return existsSync(chromiumPath);
}

/**
 * `extraArgs`: more command-line flags, for a page with needs of its own; `env`: variables added to
 * the browser's environment (FONTCONFIG_FILE, to draw with chosen fonts).
 */
export function launchChromium(
  extraArgs: readonly string[] = [],
  env: Record<string, string> = {},
): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    env: { ...process.env, ...env } as Record<string, string>,
    args: [
      "--no-sandbox",
      "--use-angle=swiftshader",
      "--enable-unsafe-swiftshader",
      "--enable-unsafe-webgpu",
      "--enable-features=Vulkan",
      "--ignore-gpu-blocklist",
      ...extraArgs,
    ],
  });
}

export interface PageRun<T> {
  results: T;
  /** console.error messages and uncaught exceptions, which a page under test must not have. */
  errors: string[];
  /** Every console.warn, for the messages the library says once. */
  warnings: string[];
}

/** Open `url`, wait until the page leaves `window[key]`, and return it with the console's errors. */
export async function runPage<T>(
  browser: Browser,
  url: string,
  key: string,
  timeoutMs = 240_000,
): Promise<PageRun<T>> {
  const page = await browser.newPage();
  const errors: string[] = [];
  const warnings: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
    if (message.type() === "warning") warnings.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(error.message));
  try {
    await page.goto(url);
    await page.waitForFunction((k) => (globalThis as Record<string, unknown>)[k] !== undefined, key, {
      timeout: timeoutMs,
      polling: 250,
    });
    const results = (await page.evaluate((k) => (globalThis as Record<string, unknown>)[k], key)) as T;
    return { results, errors, warnings };
  } finally {
    await page.close();
  }
}
