/**
 * A tiny static server on 127.0.0.1 for the browser tests: serves a folder and a few byte arrays
 * under fixed paths. With `isolated`, every response carries the COOP/COEP headers that make a page
 * cross-origin isolated, so it gets SharedArrayBuffer (and the wasm backend its threads).
 */
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { extname, join, normalize } from "node:path";

const types: Record<string, string> = {
  ".html": "text/html",
  ".js": "text/javascript",
  ".mjs": "text/javascript",
  ".css": "text/css",
  ".wasm": "application/wasm",
  ".map": "application/json",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".woff2": "font/woff2",
  ".ts": "text/plain; charset=utf-8",
  ".md": "text/plain; charset=utf-8",
};

export interface Served {
  url: string;
  close(): Promise<void>;
}

export async function serve(
  root: string,
  extra: Record<string, Uint8Array>,
  isolated: boolean,
): Promise<Served> {
  const server: Server = createServer(async (request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? "/", "http://x").pathname);
    const headers: Record<string, string> = isolated
      ? { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" }
      : {};
    if (path === "/favicon.ico") {
      response.writeHead(204, headers).end();
      return;
    }
    const fixed = extra[path];
    if (fixed !== undefined) {
      const type = types[extname(path)] ?? "application/octet-stream";
      response.writeHead(200, { ...headers, "Content-Type": type }).end(fixed);
      return;
    }
    const file = join(root, normalize(path === "/" ? "/index.html" : path));
    if (!file.startsWith(root)) {
      response.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(file);
      response.writeHead(200, {
        ...headers,
        "Content-Type": types[extname(file)] ?? "application/octet-stream",
      });
      response.end(body);
    } catch {
      response.writeHead(404, headers).end(`${path}: not found`);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the test server has no port");
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
