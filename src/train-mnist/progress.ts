/** The progress of `npm run train:mnist` within an epoch, on its standard output. */
import cliProgress from "cli-progress";
import type { StepReport } from "../vae/train.ts";

/** Progress within an epoch: a bar on a terminal, a plain line every tenth of the epoch otherwise. */
export function progressReporter(
  epoch: number,
  epochs: number,
  stream: NodeJS.WriteStream = process.stdout,
): { onStep: (s: StepReport) => void; stop: () => void } {
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `epoch ${epoch}/${epochs} [{bar}] {value}/{total} steps  loss {loss}`,
        // The cursor stays visible: Ctrl-C mid-epoch ends the process at once, with no chance to
        // show a hidden cursor again, and the shell would be left without one.
        clearOnComplete: true,
        stream,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      onStep: (s) => {
        if (!started) bar.start(s.steps, 0, { loss: "…" });
        started = true;
        bar.update(s.step, { loss: s.average.toFixed(2) });
      },
      stop: () => bar.stop(),
    };
  }
  return {
    onStep: (s) => {
      if (s.step % Math.max(1, Math.round(s.steps / 10)) === 0 && s.step !== s.steps) {
        stream.write(`  step ${s.step}/${s.steps}  loss ${s.average.toFixed(2)}\n`);
      }
    },
    stop: () => {},
  };
}
