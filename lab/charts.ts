/**
 * The lab's charts, all drawn by uPlot (a small canvas chart library made for live data: setData on
 * thousands of points costs well under a millisecond). Each function makes one chart in `parent`
 * and returns how to feed it.
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
      axes: [{ label: "step" }, { label: "nats per image", size: 60 }],
      series: [
        { label: "step" },
        { label: "−ELBO", stroke: "#111", width: 1 },
        { label: "BCE (reconstruction)", stroke: "#2563eb", width: 1 },
        { label: "KL", stroke: "#dc2626", width: 1 },
      ],
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
    ...live(chart, data),
  };
}

/** ‖gradient‖ of every parameter per step, on a log scale: vanishing and exploding show as lines falling or rising by decades. */
export function gradientNormChart(parent: HTMLElement, names: string[]) {
  const data: number[][] = [[], ...names.map(() => [])];
  const chart = new uPlot(
    {
      width: WIDTH,
      height: HEIGHT,
      scales: { x: { time: false }, y: { distr: 3 } },
      axes: [{ label: "step" }, { label: "‖∂loss/∂p‖", size: 60 }],
      series: [
        { label: "step" },
        ...names.map((name, i) => ({ label: name, stroke: DIGIT_COLOURS[i % 10], width: 1 })),
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
      axes: [{ label: "gradient value" }, { label: "count", size: 60 }],
      series: [
        { label: "value" },
        {
          label: "count",
          fill: "#93c5fd",
          stroke: "#2563eb",
          paths: uPlot.paths.bars!({ size: [0.95, 100] }),
        },
      ],
      legend: { show: false },
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

/** Points in 2-D coloured by digit: one series per digit, points only. */
export function scatterChart(parent: HTMLElement): { show: (xy: Float32Array, labels: Uint8Array) => void } {
  const series: uPlot.Series[] = [
    { label: "x" },
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
      axes: [{ label: "t-SNE 1" }, { label: "t-SNE 2", size: 50 }],
      series,
      cursor: { show: false },
      legend: { live: false },
    },
    [[], ...DIGIT_COLOURS.map(() => [])],
    parent,
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

/** Redraw at most once per animation frame, however often data arrives; or start again empty. */
function live(chart: uPlot, data: number[][]): { draw: () => void; clear: () => void; destroy: () => void } {
  let queued = false;
  return {
    clear: () => {
      for (const column of data) column.length = 0;
      chart.setData(data as uPlot.AlignedData);
    },
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
