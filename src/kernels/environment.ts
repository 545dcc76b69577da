/**
 * Where the code runs: Node or a page (or a worker). The library reaches Node's built-ins and
 * environment variables only through here, and only when it finds Node, so a page that imports
 * it never touches `process`, and bundlers see no Node built-in to resolve.
 */

/** The part of Node's `process` the library reads. */
export interface NodeProcess {
  versions: { node: string };
  env: Record<string, string | undefined>;
  platform: string;
}

/** Node's `process`, or undefined anywhere else (a page, a Web Worker, Deno's browser mode). */
export function nodeProcess(): NodeProcess | undefined {
  const p = (globalThis as { process?: Partial<NodeProcess> }).process;
  return p?.versions?.node ? (p as NodeProcess) : undefined;
}

/** An environment variable in Node; undefined in a page (which has none) or when unset or empty. */
export function environmentVariable(name: string): string | undefined {
  return nodeProcess()?.env[name] || undefined;
}

/**
 * Import a Node built-in (or a Node-only package) by a name hidden from bundlers, which would
 * otherwise try to resolve it for the browser. Call it only where nodeProcess() said Node.
 */
export async function importNode<T>(name: string): Promise<T> {
  return (await import(/* @vite-ignore */ name)) as T;
}
