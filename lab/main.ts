/**
 * The lab page: controls and live views for the training worker, the reparameterization panel and
 * the op explorer. Settings can also come from the address (?backend=gpu&limit=2000&autostart=1),
 * so a link opens the lab as its author set it up.
 *
 * Every reset starts a new run, numbered: what the page sends names it, and what the worker sends
 * for an older run is dropped, so nothing of an old run reaches the new one's charts. Settings are
 * checked here, in the page's words, before any run starts.
 */
import { axisNumber, gradientNormChart, histogramChart, lossChart, scatterChart } from "./charts.ts";
import { drawDigits } from "./digits.ts";
import { setUpExplorer } from "./explorer.ts";
import {
  DEFAULT_SETTINGS,
  type FromWorker,
  type GradientHistogram,
  type LabSettings,
  type Reparameterization,
  type ToWorker,
} from "./protocol.ts";
import { readSettings, SETTING_LABELS, type SettingField, type SettingProblem } from "./settings.ts";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const input = (id: string) => $<HTMLInputElement>(id);
const button = (id: string) => $<HTMLButtonElement>(id);
const fields = Object.keys(SETTING_LABELS) as SettingField[];

const params = new URLSearchParams(location.search);
const backendSelect = $<HTMLSelectElement>("backend");
for (const field of fields) {
  const value = params.get(field);
  if (value === null) continue;
  if (field === "backend" && ![...backendSelect.options].some((o) => o.value === value)) {
    // An address naming a backend the list lacks keeps it, so the check below can say so.
    backendSelect.add(new Option(value, value));
  }
  $<HTMLInputElement | HTMLSelectElement>(field).value = value;
}
if (params.get("backend") === null) backendSelect.value = DEFAULT_SETTINGS.backend;

const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
/** The run the page shows; a reset starts the next. */
let run = 0;
type Body = ToWorker extends infer M ? (M extends ToWorker ? Omit<M, "run"> : never) : never;
const send = (message: Body) => worker.postMessage({ ...message, run } as ToWorker);
const dataUrl = new URL("./mnist/", document.baseURI).href;

let loss = lossChart($("lossChart"));
let norms: ReturnType<typeof gradientNormChart> | null = null;
const histogram = histogramChart($("histChart"));
const latent = scatterChart($("latentChart"));
let rows = 28;
let cols = 28;
let latentSize = DEFAULT_SETTINGS.latent;
const recentMs: number[] = [];
/**
 * Mean squared pixel error below which the reconstructions read as the digits they came from
 * (judged by eye on the lab's screenshots: at 0.07 every digit is the same blob, at 0.035 the
 * shapes are there; a trained model gets near 0.015).
 */
const RECOGNISABLE = 0.035;
let trainingStartedAt = 0;

/** Where the run is: what the start, pause and step buttons may do depends on it. */
type Phase = "starting" | "ready" | "running" | "failed";
let phase: Phase = "starting";
/** The settings of the run shown, and the problems with those typed now. */
let applied: LabSettings | null = null;
let problems: SettingProblem[] = [];

/** What the page has shown, for people reading the figures and for the browser test. */
const shown = {
  run: 0,
  phase: phase as Phase,
  steps: 0,
  lastLoss: Number.NaN,
  firstLoss: Number.NaN,
  reconError: Number.NaN,
  views: 0,
  backend: "",
  detail: "",
  softwareRenderer: false,
  /** Milliseconds from the first step's report to the first reconstruction error below RECOGNISABLE. */
  msToRecognisable: Number.NaN,
  /** Spread of the grey levels each picture shows (0: blank). */
  reconstructionSpread: 0,
  sampleSpread: 0,
  reparameterization: null as Reparameterization | null,
  /** The step of the model the reparameterization panel shows. */
  reparameterizationStep: -1,
  histogram: null as GradientHistogram | null,
  /** The steps the loss chart draws, oldest first. */
  lossChartSteps: [] as number[],
  /** Messages of older runs dropped. */
  dropped: 0,
};
(window as unknown as { lab: typeof shown }).lab = shown;

/** The buttons as the phase and the typed settings allow. */
function updateControls(): void {
  shown.phase = phase;
  const valid = problems.length === 0;
  const idle = phase === "ready";
  button("start").disabled = !(idle && valid);
  button("step").disabled = !(idle && valid);
  button("pause").disabled = phase !== "running";
  button("reset").disabled = !valid;
  const live = phase === "ready" || phase === "running";
  for (const id of ["latentButton", "reparamNoise", "reparamZero"]) button(id).disabled = !live;
  input("reparamIndex").disabled = !live;
  $("settingsChanged").hidden =
    !valid || applied === null || sameSettings(readSettings(typed()).settings, applied);
}

const sameSettings = (a: LabSettings | null, b: LabSettings) => JSON.stringify(a) === JSON.stringify(b);

function typed(): Record<SettingField, string> {
  return Object.fromEntries(
    fields.map((f) => [f, $<HTMLInputElement | HTMLSelectElement>(f).value]),
  ) as Record<SettingField, string>;
}

/** Check the typed settings and show what is wrong beside the controls. */
function checkSettings(): LabSettings | null {
  const result = readSettings(typed());
  problems = result.problems;
  for (const field of fields) {
    const problem = problems.find((p) => p.field === field);
    $(field).setAttribute("aria-invalid", String(problem !== undefined));
    $(field).title = problem?.message ?? "";
  }
  $("settingsProblems").replaceChildren(
    ...problems.map((p) => Object.assign(document.createElement("li"), { textContent: p.message })),
  );
  updateControls();
  return result.settings;
}

function reset(): void {
  const s = checkSettings();
  if (s === null) {
    // The page says what to fix; a run already shown goes on.
    if (run === 0) $("status").textContent = "not started: correct the settings marked below";
    return;
  }
  run++;
  shown.run = run;
  applied = s;
  phase = "starting";
  $("error").textContent = "";
  latentSize = s.latent;
  loss.destroy();
  $("lossChart").textContent = "";
  loss = lossChart($("lossChart"));
  $("epochs").querySelector("tbody")!.textContent = "";
  $("lossNow").textContent = "The latest step's numbers appear here once training starts.";
  $("figures").textContent = "not started: press start, or single step";
  $("histCaption").textContent = "The histogram appears with the first step.";
  $("softwareNote").hidden = true;
  recentMs.length = 0;
  Object.assign(shown, {
    steps: 0,
    lastLoss: Number.NaN,
    firstLoss: Number.NaN,
    reconError: Number.NaN,
    views: 0,
    msToRecognisable: Number.NaN,
    reparameterization: null,
    reparameterizationStep: -1,
    histogram: null,
    lossChartSteps: loss.steps(),
  });
  $("recognisable").textContent = "";
  updateControls();
  send({ kind: "reset", settings: s, dataUrl });
}

button("start").onclick = () => send({ kind: "start" });
button("pause").onclick = () => send({ kind: "pause" });
button("step").onclick = () => send({ kind: "step" });
button("reset").onclick = reset;
backendSelect.onchange = reset;
for (const field of fields) $(field).addEventListener("input", () => checkSettings());
$<HTMLSelectElement>("histParam").onchange = (e) =>
  send({ kind: "histogram", parameter: (e.target as HTMLSelectElement).value });
button("latentButton").onclick = () => {
  $("latentStatus").textContent = "embedding…";
  send({ kind: "latent", points: 1000 });
};

function showReady(message: Extract<FromWorker, { kind: "ready" }>): void {
  ({ rows, cols } = message);
  const backend = message.backend;
  shown.backend = backend.name;
  shown.detail = backend.summary;
  shown.softwareRenderer = backend.softwareRenderer;
  $("status").textContent =
    `${backend.summary} · ${message.trainImages.toLocaleString("en")} training images, ${message.testImages.toLocaleString("en")} test images`;
  const note = $("softwareNote");
  note.hidden = !backend.softwareRenderer;
  note.textContent = backend.softwareRenderer
    ? `The gpu backend runs here on a software renderer (${backend.gpuMode ?? "gpu.js"} drawn by the CPU, not a GPU): its shaders are right but slow, often slower than the wasm backend. On a machine whose browser reaches a real GPU it is much faster.`
    : "";
  norms?.destroy();
  $("gradChart").textContent = "";
  norms = gradientNormChart($("gradChart"), message.parameters);
  const select = $<HTMLSelectElement>("histParam");
  const previous = select.value || "fc1.weight";
  select.textContent = "";
  for (const name of message.parameters) select.add(new Option(name, name, false, name === previous));
  phase = "ready";
  updateControls();
  send({ kind: "histogram", parameter: select.value });
  requestReparameterization(zeros(latentSize));
  if (params.get("autostart") === "1") send({ kind: "start" });
}

function showHistogram(h: GradientHistogram): void {
  shown.histogram = h;
  histogram.show(h.edges, h.counts);
  const share = (n: number) => `${((100 * n) / h.total).toFixed(n > 0 && n < h.total / 1000 ? 2 : 1)}%`;
  const range =
    h.edges.length > 0
      ? `from ${axisNumber(h.edges[0])} to ${axisNumber(h.edges[h.edges.length - 1])}`
      : "none";
  $("histCaption").textContent =
    `${h.parameter} at step ${h.step}: ${h.total.toLocaleString("en")} entries; ${share(h.zeros)} exactly 0; ` +
    `range drawn ${range}, with ${share(h.below)} below it and ${share(h.above)} above it not drawn` +
    (h.nonFinite > 0 ? `; ${h.nonFinite} not finite` : "");
}

worker.onmessage = (event: MessageEvent<FromWorker>) => {
  const message = event.data;
  if (message.run !== run) {
    shown.dropped++;
    return;
  }
  switch (message.kind) {
    case "status":
      $("status").textContent = message.text;
      return;
    case "ready":
      showReady(message);
      return;
    case "failed":
      $("status").textContent = `${phase === "starting" ? "not started" : "stopped"}: see the message below`;
      phase = "failed";
      $("error").textContent = message.message;
      updateControls();
      return;
    case "steps": {
      for (const r of message.records) {
        loss.push(r.step, r.loss, r.bce, r.kl);
        norms?.push(r.step, r.gradients.norms);
        recentMs.push(r.ms);
        if (r.gradients.histogram) showHistogram(r.gradients.histogram);
        if (shown.steps === 0) {
          shown.firstLoss = r.loss;
          trainingStartedAt = performance.now() - r.ms;
        }
        shown.steps = r.step;
        shown.lastLoss = r.loss;
      }
      const r = message.records.at(-1)!;
      loss.draw();
      norms?.draw();
      recentMs.splice(0, Math.max(0, recentMs.length - 50));
      $("figures").textContent =
        `step ${r.step} (epoch ${r.epoch}, batch ${r.stepInEpoch} of ${r.stepsInEpoch}) · ${median(recentMs).toFixed(1)} ms per step`;
      $("lossNow").textContent =
        `step ${r.step}: −ELBO ${r.loss.toFixed(1)} = BCE ${r.bce.toFixed(1)} + KL ${r.kl.toFixed(1)} nats per image`;
      shown.lossChartSteps = loss.steps();
      return;
    }
    case "views": {
      const v = message.views;
      const pair = new Float32Array(v.originals.length * 2);
      pair.set(v.originals);
      pair.set(v.reconstructions, v.originals.length);
      drawDigits($<HTMLCanvasElement>("reconstructions"), pair, 2 * v.shown, rows, cols, v.shown);
      drawDigits($<HTMLCanvasElement>("samples"), v.samples, v.sampleCount, rows, cols, v.sampleCount / 2);
      let squared = 0;
      for (let i = 0; i < v.originals.length; i++) squared += (v.originals[i] - v.reconstructions[i]) ** 2;
      shown.reconError = squared / v.originals.length;
      shown.views++;
      shown.reconstructionSpread = spread(v.reconstructions);
      shown.sampleSpread = spread(v.samples);
      $("reconError").textContent = `${shown.reconError.toFixed(4)} at step ${message.step}`;
      if (shown.reconError < RECOGNISABLE && Number.isNaN(shown.msToRecognisable) && shown.steps > 0) {
        shown.msToRecognisable = performance.now() - trainingStartedAt;
        $("recognisable").textContent =
          `; below ${RECOGNISABLE} (digits recognisable) ${(shown.msToRecognisable / 1000).toFixed(1)} s after the first step`;
      }
      return;
    }
    case "epoch": {
      const row = document.createElement("tr");
      for (const value of [
        message.epoch,
        message.loss,
        message.bce,
        message.kl,
        message.testLoss,
        message.seconds,
      ]) {
        const cell = row.insertCell();
        cell.textContent = Number.isInteger(value) ? String(value) : value.toFixed(2);
      }
      $("epochs").querySelector("tbody")!.append(row);
      return;
    }
    case "latent":
      latent.show(message.xy, message.labels);
      $("latentStatus").textContent = `${message.labels.length} test images, ${message.seconds.toFixed(1)} s`;
      return;
    case "reparameterization":
      showReparameterization(message.result, message.step);
      return;
    case "state":
      if (phase === "ready" || phase === "running") phase = message.running ? "running" : "ready";
      updateControls();
      return;
    case "error":
      $("error").textContent = message.message;
      return;
  }
};
worker.onerror = (event) => {
  phase = "failed";
  $("error").textContent = `The training worker stopped: ${event.message}. Reload the page.`;
  updateControls();
};

function spread(values: Float32Array): number {
  let sum = 0;
  let squares = 0;
  for (const v of values) {
    sum += v;
    squares += v * v;
  }
  return Math.sqrt(Math.max(0, squares / values.length - (sum / values.length) ** 2));
}

function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

// The reparameterization panel: ε is a row of sliders; moving one asks the worker again.
let eps: number[] = [];
const zeros = (n: number) => new Array<number>(n).fill(0);

function requestReparameterization(next: number[]): void {
  const index = Number(input("reparamIndex").value);
  if (!Number.isInteger(index) || index < 0 || index > 9999) {
    $("reparamStep").textContent = "test digit #: enter a whole number from 0 to 9,999";
    return;
  }
  eps = next;
  send({ kind: "reparameterize", index, eps });
}

input("reparamIndex").onchange = () =>
  requestReparameterization(eps.length === latentSize ? eps : zeros(latentSize));
button("reparamZero").onclick = () => requestReparameterization(zeros(latentSize));
button("reparamNoise").onclick = () => {
  // Box–Muller: a standard normal draw per latent dimension.
  requestReparameterization(
    Array.from(
      { length: latentSize },
      () => Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random()),
    ),
  );
};

/** The panel's rows, made once per latent size so a slider being dragged is never replaced. */
let reparamRows: { cells: HTMLTableCellElement[]; slider: HTMLInputElement }[] = [];

function showReparameterization(r: Reparameterization, step: number): void {
  shown.reparameterization = r;
  shown.reparameterizationStep = step;
  $("reparamStep").textContent =
    step === 0 ? "by the untrained model" : `by the model after ${step} step${step === 1 ? "" : "s"}`;
  drawDigits($<HTMLCanvasElement>("reparamInput"), r.image, 1, rows, cols, 1, 4);
  drawDigits($<HTMLCanvasElement>("reparamDecoded"), r.decoded, 1, rows, cols, 1, 4);
  const table = $<HTMLTableElement>("reparamTable");
  if (reparamRows.length !== r.mu.length) {
    table.textContent = "";
    const head = table.insertRow();
    for (const title of ["i", "μ", "σ", "ε", "", "z", "∂z/∂μ", "∂z/∂logvar"]) {
      head.append(Object.assign(document.createElement("th"), { textContent: title }));
    }
    reparamRows = r.mu.map((_, i) => {
      const row = table.insertRow();
      const cells = Array.from({ length: 8 }, () => row.insertCell());
      const slider = Object.assign(document.createElement("input"), {
        type: "range",
        min: "-3",
        max: "3",
        step: "0.05",
        className: "eps",
      });
      slider.dataset.dim = String(i);
      slider.setAttribute("aria-label", `ε${i}`);
      slider.oninput = () => {
        const next = [...eps];
        next[i] = Number(slider.value);
        requestReparameterization(next);
      };
      cells[4].append(slider);
      return { cells, slider };
    });
  }
  reparamRows.forEach(({ cells, slider }, i) => {
    const values = [
      String(i),
      r.mu[i].toFixed(3),
      r.sigma[i].toFixed(3),
      r.eps[i].toFixed(2),
      null,
      r.z[i].toFixed(3),
      r.dzdmu[i].toFixed(3),
      r.dzdlogvar[i].toFixed(3),
    ];
    values.forEach((text, c) => {
      if (text !== null) cells[c].textContent = text;
    });
    if (document.activeElement !== slider) slider.value = String(r.eps[i]);
  });
  table.dataset.label = String(r.label);
}

setUpExplorer();
reset();
