/**
 * The lab's training worker: fetches MNIST's IDX files, parses them with elbo's own code, starts the
 * chosen backend and runs a LabSession, so the page stays responsive while the VAE trains. Steps
 * are sent in batches about ten times a second; pictures about twice a second.
 */
import { Generator } from "../src/autograd/random.ts";
import type { Backend } from "../src/kernels/backend.ts";
import type { GpuMode } from "../src/kernels/gpu/device.ts";
import { setBackend, useBackend } from "../src/kernels/registry.ts";
import { type Dataset, datasetFromIdx, parseIdx } from "../src/vae/dataset.ts";
import { embed2d } from "../src/vae/latent-map.ts";
import type { FromWorker, LabBackend, LabSettings, StepRecord, ToWorker } from "./protocol.ts";
import { LabSession, Stopped } from "./session.ts";

const STEPS_EVERY_MS = 100;
const VIEWS_EVERY_MS = 500;
/** On a slow backend (a software GL) pictures would cost as much as training: at most one per this many steps. */
const VIEWS_EVERY_STEPS = 5;
/** How often a running loop lets the page's messages (pause, a slider moved) in. */
const MESSAGES_EVERY_MS = 50;

// The project's DOM typings describe a window; a worker's postMessage takes no target origin.
const post = (message: FromWorker) => (self as unknown as Worker).postMessage(message);

/** Runs or waits between steps: the session awaits `gate()` after every step. */
let running = false;
let stepsAllowed = 0;
let wake: (() => void) | null = null;
let stop = false;
let histogramParameter: string | null = null;

let session: LabSession | null = null;
let pending: StepRecord[] = [];
let lastFlush = 0;
let lastViews = 0;
let viewsAtStep = 0;
/** Requests that need the model between steps (latent map, reparameterization). */
const chores: (() => Promise<void>)[] = [];

async function gate(): Promise<void> {
  for (;;) {
    await letMessagesIn();
    if (stop) throw new Stopped();
    while (chores.length > 0) await chores.shift()!();
    if (running) return;
    if (stepsAllowed > 0) {
      stepsAllowed--;
      return;
    }
    await new Promise<void>((resolve) => {
      wake = resolve;
    });
  }
}

let lastLetIn = 0;
/**
 * Return to the event loop now and then, so that the page's messages are delivered while training
 * runs: on a backend whose reads are ready at once (cpu, wasm) every await of the loop resolves as
 * a microtask, and a message, a macrotask, would wait until training stops.
 */
async function letMessagesIn(): Promise<void> {
  if (performance.now() - lastLetIn < MESSAGES_EVERY_MS) return;
  await new Promise<void>((resolve) => setTimeout(resolve, 0));
  lastLetIn = performance.now();
}

function nudge(): void {
  wake?.();
  wake = null;
}

async function flush(force: boolean): Promise<void> {
  const now = performance.now();
  if (pending.length > 0 && (force || now - lastFlush > STEPS_EVERY_MS)) {
    post({ kind: "steps", records: pending });
    pending = [];
    lastFlush = now;
  }
  const due =
    now - lastViews > VIEWS_EVERY_MS && session !== null && session.steps - viewsAtStep >= VIEWS_EVERY_STEPS;
  if (session !== null && (force || due)) {
    post({ kind: "views", views: await session.views(), step: session.steps });
    lastViews = performance.now();
    viewsAtStep = session.steps;
  }
}

const cache = new Map<string, Promise<Uint8Array>>();
function fetchBytes(url: string): Promise<Uint8Array> {
  let bytes = cache.get(url);
  if (bytes === undefined) {
    bytes = fetch(url).then(async (response) => {
      if (!response.ok) throw new Error(`${url}: ${response.status} ${response.statusText}`);
      return new Uint8Array(await response.arrayBuffer());
    });
    cache.set(url, bytes);
  }
  return bytes;
}

async function loadSplit(dataUrl: string, prefix: string, limit: number | null): Promise<Dataset> {
  const names = {
    images: `${dataUrl}${prefix}-images-idx3-ubyte`,
    labels: `${dataUrl}${prefix}-labels-idx1-ubyte`,
  };
  const [images, labels] = await Promise.all([fetchBytes(names.images), fetchBytes(names.labels)]);
  return datasetFromIdx(
    parseIdx(images, names.images),
    parseIdx(labels, names.labels),
    names,
    limit ?? undefined,
  );
}

/** Make `choice` the backend new tensors live on; gpu.js is loaded only when a gpu mode is chosen. */
async function startBackend(choice: LabBackend): Promise<Backend> {
  const [name, mode] = choice.split(":") as ["cpu" | "wasm" | "gpu", GpuMode | undefined];
  if (mode === undefined) return useBackend(name);
  const { loadGpuBackend } = await import("../src/kernels/gpu/index.ts");
  const gpu = await loadGpuBackend(mode);
  setBackend(gpu);
  return gpu;
}

/** What runs the backend, from what it says of itself: wasm's threads, gpu.js's mode and renderer. */
function describe(backend: Backend): string {
  const parts = backend as Backend & { threadCount?: number; mode?: string; detail?: string };
  if (parts.threadCount !== undefined)
    return `${parts.threadCount} thread${parts.threadCount === 1 ? "" : "s"}`;
  if (parts.mode !== undefined) return `gpu.js ${parts.mode} on ${parts.detail}`;
  return "plain TypeScript";
}

let current: Promise<void> = Promise.resolve();

/** Stop the running session (if any), then start a new one with `settings`, paused. */
async function reset(settings: LabSettings, dataUrl: string): Promise<void> {
  stop = true;
  nudge();
  await current;
  session?.dispose();
  session = null;
  stop = false;
  running = false;
  stepsAllowed = 0;
  pending = [];
  viewsAtStep = 0;
  chores.length = 0;
  post({ kind: "state", running: false });
  post({ kind: "status", text: `starting the ${settings.backend} backend…` });
  const backend = await startBackend(settings.backend);
  post({ kind: "status", text: "loading MNIST…" });
  const train = await loadSplit(dataUrl, "train", settings.limit);
  const test = await loadSplit(dataUrl, "t10k", null);
  session = new LabSession(settings, train, test);
  const s = session;
  post({
    kind: "ready",
    backend: backend.name,
    detail: describe(backend),
    parameters: s.parameterNames,
    trainImages: train.count,
    testImages: test.count,
    rows: train.rows,
    cols: train.cols,
  });
  await flush(true);
  // The first step, like every later one, waits for start or step.
  current = gate()
    .then(() =>
      s.trainUntilStopped(
        async (record) => {
          pending.push(record);
          await flush(!running);
          await gate();
        },
        (result, testLoss) =>
          post({
            kind: "epoch",
            epoch: result.epoch,
            loss: result.loss,
            bce: result.bce,
            kl: result.kl,
            testLoss,
            seconds: result.seconds,
          }),
        // The whole gradient is read only on steps whose report is about to be sent.
        () => (performance.now() - lastFlush > STEPS_EVERY_MS || !running ? histogramParameter : null),
      ),
    )
    .catch((error: unknown) => {
      if (!(error instanceof Stopped)) {
        running = false;
        post({ kind: "state", running: false });
        post({ kind: "error", message: error instanceof Error ? error.message : String(error) });
      }
    });
}

async function handle(message: ToWorker): Promise<void> {
  switch (message.kind) {
    case "reset":
      await reset(message.settings, message.dataUrl);
      return;
    case "start":
      running = true;
      post({ kind: "state", running: true });
      nudge();
      return;
    case "pause":
      running = false;
      post({ kind: "state", running: false });
      return;
    case "step":
      stepsAllowed++;
      nudge();
      return;
    case "histogram":
      histogramParameter = message.parameter;
      return;
    case "latent":
      between(async (s) => {
        const start = performance.now();
        const { means, labels, dim } = await s.latentMeans(message.points);
        const embedding = await embed2d(means, labels.length, dim, new Generator(s.settings.seed + 3));
        const picked = Uint8Array.from(embedding.indices, (i) => labels[i]);
        post({
          kind: "latent",
          xy: embedding.xy,
          labels: picked,
          seconds: (performance.now() - start) / 1000,
        });
      });
      return;
    case "reparameterize":
      between(async (s) =>
        post({ kind: "reparameterization", result: await s.reparameterization(message.index, message.eps) }),
      );
      return;
  }
}

/** Run `chore` on the session between two steps (the model must not change under it). */
function between(chore: (s: LabSession) => Promise<void>): void {
  const s = session;
  if (s === null) return;
  chores.push(() =>
    chore(s).catch((error: unknown) =>
      post({ kind: "error", message: error instanceof Error ? error.message : String(error) }),
    ),
  );
  nudge();
}

// Messages are handled one at a time, in order.
let queue: Promise<void> = Promise.resolve();
self.onmessage = (event: MessageEvent<ToWorker>) => {
  queue = queue.then(() =>
    handle(event.data).catch((error: unknown) =>
      post({ kind: "error", message: error instanceof Error ? error.message : String(error) }),
    ),
  );
};
