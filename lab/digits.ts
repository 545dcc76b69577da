/**
 * Drawing digits: grayscale images (values in [0, 1], 1 is ink) tiled into a canvas, white on
 * black like the CLI's report. NaN pixels are red, so a diverged model shows.
 */
export function drawDigits(
  canvas: HTMLCanvasElement,
  images: Float32Array,
  count: number,
  rows: number,
  cols: number,
  perRow: number,
  scale = 2,
): void {
  const gap = 2;
  const gridRows = Math.ceil(count / perRow);
  canvas.width = perRow * (cols * scale + gap) + gap;
  canvas.height = gridRows * (rows * scale + gap) + gap;
  const context = canvas.getContext("2d")!;
  const picture = context.createImageData(canvas.width, canvas.height);
  picture.data.fill(128);
  for (let n = 0; n < count; n++) {
    const left = gap + (n % perRow) * (cols * scale + gap);
    const top = gap + Math.floor(n / perRow) * (rows * scale + gap);
    for (let r = 0; r < rows * scale; r++) {
      for (let c = 0; c < cols * scale; c++) {
        const v = images[(n * rows + Math.floor(r / scale)) * cols + Math.floor(c / scale)];
        const grey = Math.round(Math.min(1, Math.max(0, v)) * 255);
        const at = ((top + r) * canvas.width + left + c) * 4;
        picture.data[at] = Number.isNaN(v) ? 255 : grey;
        picture.data[at + 1] = Number.isNaN(v) ? 0 : grey;
        picture.data[at + 2] = Number.isNaN(v) ? 0 : grey;
      }
    }
  }
  for (let i = 3; i < picture.data.length; i += 4) picture.data[i] = 255;
  context.putImageData(picture, 0, 0);
}
