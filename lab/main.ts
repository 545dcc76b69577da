/**
 * The lab page: controls and live views for the training worker, the reparameterization panel and
 * the op explorer. Settings can also come from the address (?backend=gpu&limit=2000&autostart=1),
 * so a link opens the lab as its author set it up.
 */
import { gradientNormChart, histogramChart, lossChart, scatterChart } from "./charts.ts";
import { drawDigits } from "./digits.ts";
import { setUpExplorer } from "./explorer.ts";
import {
  DEFAULT_SETTINGS,
  type FromWorker,
  type LabBackend,
  type LabSettings,
  type Reparameterization,
  type ToWorker,
} from "./protocol.ts";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const input = (id: string) => $<HTMLInputElement>(id);

const params = new URLSearchParams(location.search);
const backendSelect = $<HTMLSelectElement>("backend");
backendSelect.value = params.get("backend") ?? DEFAULT_SETTINGS.backend;
for (const name of ["lr", "latent", "batchSize", "seed", "limit"]) {
  const value = params.get(name);
  if (value !== null) input(name).value = value;
}

function settings(): LabSettings {
  const number = (id: string) => {
    const v = Number(input(id).value);
    if (!Number.isFinite(v)) throw new Error(`${id}: "${input(id).value}" is not a number`);
    return v;
  };
  const limit = number("limit");
  return {
    backend: backendSelect.value as LabBackend,
    lr: number("lr"),
    latent: number("latent"),
    hidden: DEFAULT_SETTINGS.hidden,
    batchSize: number("batchSize"),
    seed: number("seed"),
    limit: limit >= 60000 ? null : limit,
  };
}

const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
const send = (message: ToWorker) => worker.postMessage(message);
const dataUrl = new URL("./", document.baseURI).href;

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
/** What the page has shown, for people reading the figures and for the browser test. */
const shown = {
  steps: 0,
  lastLoss: Number.NaN,
  firstLoss: Number.NaN,
  reconError: Number.NaN,
  views: 0,
  backend: "",
  detail: "",
  /** Milliseconds from the first step's report to the first reconstruction error below RECOGNISABLE. */
  msToRecognisable: Number.NaN,
};
(window as unknown as { lab: typeof shown }).lab = shown;

function reset(): void {
  $("error").textContent = "";
  let s: LabSettings;
  try {
    s = settings();
  } catch (error) {
    $("error").textContent = (error as Error).message;
    return;
  }
  latentSize = s.latent;
  loss.destroy();
  $("lossChart").textContent = "";
  loss = lossChart($("lossChart"));
  $("epochs").querySelector("tbody")!.textContent = "";
  recentMs.length = 0;
  Object.assign(shown, {
    steps: 0,
    lastLoss: Number.NaN,
    firstLoss: Number.NaN,
    reconError: Number.NaN,
    views: 0,
    msToRecognisable: Number.NaN,
  });
  $("recognisable").textContent = "";
  send({ kind: "reset", settings: s, dataUrl });
}

$("start").onclick = () => send({ kind: "start" });
$("pause").onclick = () => send({ kind: "pause" });
$("step").onclick = () => send({ kind: "step" });
$("reset").onclick = reset;
backendSelect.onchange = reset;
$<HTMLSelectElement>("histParam").onchange = (e) =>
  send({ kind: "histogram", parameter: (e.target as HTMLSelectElement).value });
$("latentButton").onclick = () => {
  $("latentStatus").textContent = "embedding…";
  send({ kind: "latent", points: 1000 });
};

worker.onmessage = (event: MessageEvent<FromWorker>) => {
  const message = event.data;
  switch (message.kind) {
    case "status":
      $("status").textContent = message.text;
      return;
    case "ready": {
      ({ rows, cols } = message);
      shown.backend = message.backend;
      shown.detail = message.detail;
      $("status").textContent =
        `${message.backend} backend (${message.detail}) · ${message.trainImages} training images, ${message.testImages} test images`;
      norms?.destroy();
      $("gradChart").textContent = "";
      norms = gradientNormChart($("gradChart"), message.parameters);
      const select = $<HTMLSelectElement>("histParam");
      const previous = select.value || "fc1.weight";
      select.textContent = "";
      for (const name of message.parameters) select.add(new Option(name, name, false, name === previous));
      send({ kind: "histogram", parameter: select.value });
      requestReparameterization(zeros(latentSize));
      if (params.get("autostart") === "1") send({ kind: "start" });
      return;
    }
    case "steps":
      for (const r of message.records) {
        loss.push(r.step, r.loss, r.bce, r.kl);
        norms?.push(r.step, r.gradients.norms);
        recentMs.push(r.ms);
        if (r.gradients.histogram) histogram.show(r.gradients.histogram.edges, r.gradients.histogram.counts);
        if (shown.steps === 0) {
          shown.firstLoss = r.loss;
          trainingStartedAt = performance.now() - r.ms;
        }
        shown.steps = r.step;
        shown.lastLoss = r.loss;
        $("epochNow").textContent = `${r.epoch} (${r.stepInEpoch}/${r.stepsInEpoch})`;
      }
      loss.draw();
      norms?.draw();
      recentMs.splice(0, Math.max(0, recentMs.length - 50));
      $("msPerStep").textContent = median(recentMs).toFixed(1);
      $("stepCount").textContent = String(shown.steps);
      return;
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
      $("reconError").textContent = shown.reconError.toFixed(4);
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
      showReparameterization(message.result);
      return;
    case "state":
      input("start").disabled = message.running;
      input("pause").disabled = !message.running;
      input("step").disabled = message.running;
      return;
    case "error":
      $("error").textContent = message.message;
      return;
  }
};
worker.onerror = (event) => {
  $("error").textContent = `worker: ${event.message}`;
};

function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

// The reparameterization panel: ε is a row of sliders; moving one asks the worker again.
let eps: number[] = [];
const zeros = (n: number) => new Array<number>(n).fill(0);

function requestReparameterization(next: number[]): void {
  eps = next;
  send({ kind: "reparameterize", index: Number(input("reparamIndex").value), eps });
}

input("reparamIndex").onchange = () =>
  requestReparameterization(eps.length === latentSize ? eps : zeros(latentSize));
$("reparamZero").onclick = () => requestReparameterization(zeros(latentSize));
$("reparamNoise").onclick = () => {
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

function showReparameterization(r: Reparameterization): void {
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
