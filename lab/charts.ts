/**
 * The lab's charts, all drawn by uPlot (a small canvas chart library made for live data: setData on
 * thousands of points costs well under a millisecond). Each function makes one chart in `parent`
 * and returns how to feed it. Legends show names only: uPlot's live legend shows "--" wherever the
 * pointer is not on the chart, which reads as missing data; the page prints the latest numbers.
 */
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

const WIDTH = 460;
const HEIGHT = 220;
/** d3's category10, so a digit has the same colour here as in the CLI report's latent map. */
export const DIGIT_COLOURS = [
  "#1f77b4",
  "#ff7f0e",
  "#2ca02c",
  "#d62728",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
  "#bcbd22",
  "#17becf",
];
/**
 * One colour per layer for the gradient norms, from dark to light in the order the data flows
 * (viridis), so a layer is never mistaken for a digit of the latent map's category10; a layer's
 * bias is drawn dashed in its colour.
 */
const LAYER_COLOURS = ["#440154", "#414487", "#2a788e", "#22a884", "#7ad151"];

/** Numbers on an axis: short, with a true minus sign; very small or large ones in powers of ten. */
export function axisNumber(v: number): string {
  if (v === 0) return "0";
  const magnitude = Math.abs(v);
  const text = magnitude < 1e-3 || magnitude >= 1e6 ? v.toExponential(1) : String(Number(v.toPrecision(3)));
  return text.replace("-", "−");
}

/** uPlot leaves out some ticks' values (a log axis, crowded ticks) as null. */
const axisValues = (_u: uPlot, splits: (number | null)[]) =>
  splits.map((v) => (v === null ? "" : axisNumber(v)));

/** −ELBO per step and its two terms. The y axis leaves out the first steps' 543 nats once training has moved on. */
export function lossChart(parent: HTMLElement) {
  const data: number[][] = [[], [], [], []];
  const chart = new uPlot(
    {
      width: WIDTH,
      height: HEIGHT,
      scales: {
        x: { time: false },
        y: {
          range: (_u, min, max) => {
            const loss = data[1];
            const from = loss.length < 20 ? 0 : Math.floor(loss.length * 0.05);
            // A loop: a spread of every step's loss into Math.max overflows the stack on a long run.
            let top = loss.length === 0 ? max : Number.NEGATIVE_INFINITY;
            for (let i = from; i < loss.length; i++) top = Math.max(top, loss[i]);
            return [Math.min(0, min), Math.min(max, top * 1.05)];
          },
        },
      },
      axes: [
        { label: "step", values: axisValues },
        { label: "nats per image", size: 50, labelSize: 24, values: axisValues },
      ],
      series: [
        { label: "step" },
        { label: "−ELBO", stroke: "#111", width: 1 },
        { label: "BCE (reconstruction)", stroke: "#2563eb", width: 1 },
        { label: "KL", stroke: "#dc2626", width: 1 },
      ],
      legend: { live: false },
    },
    data as uPlot.AlignedData,
    parent,
  );
  return {
    push: (step: number, loss: number, bce: number, kl: number) => {
      data[0].push(step);
      data[1].push(loss);
      data[2].push(bce);
      data[3].push(kl);
    },
    /** The steps drawn, oldest first. */
    steps: () => data[0],
    ...live(chart, data),
  };
}

/** ‖gradient‖ of every parameter per step, on a log scale: vanishing and exploding show as lines falling or rising by decades. */
export function gradientNormChart(parent: HTMLElement, names: string[]) {
  const data: number[][] = [[], ...names.map(() => [])];
  const layers = [...new Set(names.map((name) => name.split(".")[0]))];
  const chart = new uPlot(
    {
      width: WIDTH,
      height: HEIGHT,
      scales: { x: { time: false }, y: { distr: 3 } },
      axes: [
        { label: "step", values: axisValues },
        { label: "‖∂L/∂p‖", size: 50, labelSize: 24, values: axisValues },
      ],
      series: [
        { label: "step" },
        ...names.map((name) => ({
          label: name,
          stroke: LAYER_COLOURS[layers.indexOf(name.split(".")[0]) % LAYER_COLOURS.length],
          dash: name.endsWith(".bias") ? [4, 3] : undefined,
          width: 1,
        })),
      ],
      legend: { live: false },
    },
    data as uPlot.AlignedData,
    parent,
  );
  return {
    push: (step: number, norms: number[]) => {
      data[0].push(step);
      for (let i = 0; i < norms.length; i++) data[i + 1].push(norms[i]);
    },
    ...live(chart, data),
  };
}

/** A histogram as bars: counts per bin, at each bin's centre. */
export function histogramChart(parent: HTMLElement): { show: (edges: number[], counts: number[]) => void } {
  const chart = new uPlot(
    {
      width: WIDTH,
      height: HEIGHT,
      scales: { x: { time: false } },
      axes: [
        { label: "gradient value ∂L/∂p", values: axisValues },
        { label: "entries per bar", size: 50, labelSize: 24, values: axisValues },
      ],
      series: [
        { label: "value" },
        {
          label: "entries",
          fill: "#93c5fd",
          stroke: "#2563eb",
          paths: uPlot.paths.bars!({ size: [0.95, 100] }),
        },
      ],
      legend: { show: false },
      cursor: { show: false },
    },
    [[], []],
    parent,
  );
  return {
    show: (edges, counts) => {
      const centres = counts.map((_, i) => (edges[i] + edges[i + 1]) / 2);
      chart.setData([centres, counts]);
    },
  };
}

/** Points in 2-D coloured by digit: one series per digit, points only, with a legend titled by what the colours are. */
export function scatterChart(parent: HTMLElement): { show: (xy: Float32Array, labels: Uint8Array) => void } {
  const series: uPlot.Series[] = [
    { label: "t-SNE 1" },
    ...DIGIT_COLOURS.map((colour, digit) => ({
      label: String(digit),
      stroke: colour,
      paths: () => null,
      points: { show: true, size: 5, fill: colour, stroke: colour },
    })),
  ];
  const chart = new uPlot(
    {
      width: WIDTH,
      height: WIDTH,
      scales: { x: { time: false } },
      axes: [
        { label: "t-SNE 1", values: axisValues },
        { label: "t-SNE 2", size: 50, labelSize: 24, values: axisValues },
      ],
      series,
      cursor: { show: false },
      legend: { live: false },
    },
    [[], ...DIGIT_COLOURS.map(() => [])],
    parent,
  );
  // The legend's title: what the colours are.
  chart.root
    .querySelector("table.u-legend")
    ?.prepend(
      Object.assign(document.createElement("caption"), { textContent: "colour: the test image's digit" }),
    );
  return {
    show: (xy, labels) => {
      // uPlot shares one ascending x column between series: sort the points by x, and give each
      // digit's series a value only at its own points.
      const order = Array.from(labels, (_, i) => i).sort((a, b) => xy[2 * a] - xy[2 * b]);
      const xs = order.map((i) => xy[2 * i]);
      const ys = DIGIT_COLOURS.map((_, digit) =>
        order.map((i) => (labels[i] === digit ? xy[2 * i + 1] : null)),
      );
      chart.setData([xs, ...ys] as uPlot.AlignedData);
    },
  };
}

/** Redraw at most once per animation frame, however often data arrives. */
function live(chart: uPlot, data: number[][]): { draw: () => void; destroy: () => void } {
  let queued = false;
  return {
    destroy: () => chart.destroy(),
    draw: () => {
      if (queued) return;
      queued = true;
      requestAnimationFrame(() => {
        queued = false;
        chart.setData(data as uPlot.AlignedData);
      });
    },
  };
}
