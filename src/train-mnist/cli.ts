/**
 * `npm run train:mnist`: train the Bernoulli VAE on MNIST and write a report — metrics.json, a
 * checkpoint, and pictures (reconstructions, samples, the latent space, the loss curve).
 *
 * This file is the process: it runs src/train-mnist/train-mnist.ts on the command line's arguments and
 * exits, 0 when the report is written, 1 with the message on stderr when anything failed, and
 * 128 + the signal's number (130 for SIGINT, 143 for SIGTERM) when a signal stopped it.
 */
import { exitCodeOf, Stopped } from "./signals.ts";
import { trainMnist } from "./train-mnist.ts";

// Exit explicitly when done: a WebGPU instance that `auto` probed (Dawn) keeps Node's event loop alive.
trainMnist(process.argv.slice(2)).then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(`train:mnist: ${e instanceof Error ? e.message : String(e)}`);
    // Stopped by a signal: the exit code a shell expects of a process that signal ended.
    process.exit(e instanceof Stopped ? exitCodeOf(e) : 1);
  },
);
