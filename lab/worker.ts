/**
 * The lab's training worker: fetches MNIST's IDX files (gzip-compressed, unpacked by the browser),
 * parses them with elbo's own code, starts the chosen backend and runs a LabSession, so the page
 * stays responsive while the VAE trains. Steps are sent in batches about ten times a second;
 * pictures, and the reparameterization panel by the model as it is then, about twice a second.
 *
 * Every message names its run (see protocol.ts): what this worker sends carries the run it was
 * made for, so the page can drop what an older run still sends; messages for an older run than
 * the current one are ignored here.
 */
import { Generator } from "../src/autograd/random.ts";
import type { Backend } from "../src/kernels/backend.ts";
import type { GpuMode } from "../src/kernels/gpu/device.ts";
import { setBackend, useBackend } from "../src/kernels/registry.ts";
import { type Dataset, datasetFromIdx, parseIdx } from "../src/vae/dataset.ts";
import { embed2d } from "../src/vae/latent-map.ts";
import { failureInPageWords } from "./failure-words.ts";
import type { FromWorker, LabBackend, LabSettings, StepRecord, ToWorker } from "./protocol.ts";
import { LabSession, Stopped } from "./session.ts";

const STEPS_EVERY_MS = 100;
const VIEWS_EVERY_MS = 500;
/** On a slow backend (a software GL) pictures would cost as much as training: at most one per this many steps. */
const VIEWS_EVERY_STEPS = 5;
/** How often a running loop lets the page's messages (pause, a slider moved) in. */
const MESSAGES_EVERY_MS = 50;

/** Distributes a message of the FromWorker union over the run id added to each member. */
type Body = FromWorker extends infer M ? (M extends FromWorker ? Omit<M, "run"> : never) : never;

// The project's DOM typings describe a window; a worker's postMessage takes no target origin.
const postTo = (run: number, message: Body) =>
  (self as unknown as Worker).postMessage({ ...message, run } as FromWorker);

/** The run the page asked for last; messages for older runs are ignored. */
let currentRun = -1;

/** Runs or waits between steps: the session awaits `gate()` after every step. */
let running = false;
let stepsAllowed = 0;
let wake: (() => void) | null = null;
let stop = false;
let histogramParameter: string | null = null;

let session: LabSession | null = null;
/** The run the session trains for: everything it reports is sent as that run's. */
let sessionRun = -1;
let pending: StepRecord[] = [];
let lastFlush = 0;
let lastViews = 0;
let viewsAtStep = 0;
/** The reparameterization panel's digit and ε: recomputed with every picture, as the model learns. */
let panel: { index: number; eps: number[] } | null = null;
/** Requests that need the model between steps (latent map, reparameterization). */
const chores: (() => Promise<void>)[] = [];

const post = (message: Body) => postTo(sessionRun, message);

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
    await showPanel(session);
    lastViews = performance.now();
    viewsAtStep = session.steps;
  }
}

/** The reparameterization panel by the model as it is now. */
async function showPanel(s: LabSession): Promise<void> {
  if (panel === null) return;
  post({
    kind: "reparameterization",
    result: await s.reparameterization(panel.index, panel.eps),
    step: s.steps,
  });
}

const cache = new Map<string, Promise<Uint8Array>>();
/**
 * The bytes of a gzip-compressed file, unpacked by the browser's own DecompressionStream; as they
 * came where the server already had the browser unpack them (Content-Encoding: gzip).
 */
function fetchGzip(url: string): Promise<Uint8Array> {
  let bytes = cache.get(url);
  if (bytes === undefined) {
    bytes = fetch(url).then(async (response) => {
      if (!response.ok) throw new Error(`${url}: ${response.status} ${response.statusText}`);
      const body = new Uint8Array(await response.arrayBuffer());
      if (body[0] !== 0x1f || body[1] !== 0x8b) return body;
      const unpacked = new Blob([body]).stream().pipeThrough(new DecompressionStream("gzip"));
      return new Uint8Array(await new Response(unpacked).arrayBuffer());
    });
    bytes.catch(() => cache.delete(url));
    cache.set(url, bytes);
  }
  return bytes;
}

async function loadSplit(dataUrl: string, prefix: string, limit: number | null): Promise<Dataset> {
  const names = {
    images: `${dataUrl}${prefix}-images-idx3-ubyte.gz`,
    labels: `${dataUrl}${prefix}-labels-idx1-ubyte.gz`,
  };
  const [images, labels] = await Promise.all([fetchGzip(names.images), fetchGzip(names.labels)]);
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

let current: Promise<void> = Promise.resolve();

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Stop the running session (if any), then start run `run` with `settings`, paused. */
async function reset(run: number, settings: LabSettings, dataUrl: string): Promise<void> {
  stop = true;
  nudge();
  await current;
  session?.dispose();
  session = null;
  sessionRun = run;
  stop = false;
  running = false;
  stepsAllowed = 0;
  pending = [];
  viewsAtStep = 0;
  chores.length = 0;
  panel = null;
  post({ kind: "state", running: false });
  post({ kind: "status", text: `starting the ${settings.backend} backend…` });
  let backend: Backend;
  try {
    backend = await startBackend(settings.backend);
  } catch (error) {
    post({
      kind: "failed",
      message: `The ${settings.backend} backend does not start in this browser: ${messageOf(error)}. Choose another backend.`,
    });
    return;
  }
  let s: LabSession;
  try {
    post({ kind: "status", text: "loading MNIST…" });
    const train = await loadSplit(dataUrl, "train", settings.limit);
    const test = await loadSplit(dataUrl, "t10k", null);
    s = new LabSession(settings, train, test);
  } catch (error) {
    post({ kind: "failed", message: `The run could not start: ${messageOf(error)}` });
    return;
  }
  session = s;
  post({
    kind: "ready",
    backend: backend.describe(),
    parameters: s.parameterNames,
    trainImages: s.train.count,
    testImages: s.test.count,
    rows: s.train.rows,
    cols: s.train.cols,
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
    .catch(async (error: unknown) => {
      if (error instanceof Stopped) return;
      running = false;
      // The steps before the one that failed reach the page first, so its words match its chart.
      await flush(true).catch(() => undefined);
      post({ kind: "failed", message: failureInPageWords(error) });
    });
}

async function handle(message: ToWorker): Promise<void> {
  if (message.kind === "reset") {
    currentRun = message.run;
    await reset(message.run, message.settings, message.dataUrl);
    return;
  }
  // A control pressed for a run that a reset has since replaced.
  if (message.run !== currentRun || message.run !== sessionRun) return;
  switch (message.kind) {
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
      panel = { index: message.index, eps: message.eps };
      between(showPanel);
      return;
  }
}

/** Run `chore` on the session between two steps (the model must not change under it). */
function between(chore: (s: LabSession) => Promise<void>): void {
  const s = session;
  if (s === null) return;
  chores.push(() => chore(s).catch((error: unknown) => post({ kind: "error", message: messageOf(error) })));
  nudge();
}

// Messages are handled one at a time, in order.
let queue: Promise<void> = Promise.resolve();
self.onmessage = (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  queue = queue.then(() =>
    handle(message).catch((error: unknown) =>
      postTo(message.run, { kind: "error", message: messageOf(error) }),
    ),
  );
};
