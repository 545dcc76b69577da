/**
 * The signal watch of a run (src/train-mnist/signals.ts) in this process, with signals emitted to
 * its own handlers: a signal is held until the run next asks, between steps; a second one within a
 * second is the same request (Ctrl-C reaches the trainer from the terminal and through npm), a
 * later one ends the process at once; a launcher gone stops the run as a signal would, exit 1.
 */
import { describe, expect, it, onTestFinished, vi } from "vitest";
import { exitCodeOf, Stopped, watchSignals } from "../../src/train-mnist/signals.ts";

function watched() {
  const watch = watchSignals();
  onTestFinished(() => watch.dispose());
  const exit = vi.spyOn(process, "exit").mockImplementation((code) => {
    throw new Error(`process.exit(${code})`);
  });
  onTestFinished(() => exit.mockRestore());
  return { watch, exit };
}

describe("watchSignals", () => {
  it("holds a signal until the run asks between steps, then stops it with the signal's exit code", async () => {
    const { watch } = watched();
    await expect(watch.between("after step 1")).resolves.toBeUndefined();
    process.emit("SIGTERM", "SIGTERM");
    const stopped = await watch.between("after step 2").catch((e: unknown) => e);
    expect(stopped).toBeInstanceOf(Stopped);
    expect((stopped as Stopped).message).toBe("stopped by SIGTERM after step 2");
    expect(exitCodeOf(stopped as Stopped)).toBe(143);
    expect(exitCodeOf(new Stopped("SIGINT", "by SIGINT", ""))).toBe(130);
    expect(exitCodeOf(new Stopped("SIGHUP", "by SIGHUP", ""))).toBe(129);
  });

  it("takes a second signal within a second as the same request, and a later one as meant at once", () => {
    const { exit } = watched();
    const now = vi.spyOn(performance, "now").mockReturnValue(1000);
    onTestFinished(() => now.mockRestore());
    process.emit("SIGINT", "SIGINT");
    now.mockReturnValue(1500);
    process.emit("SIGINT", "SIGINT");
    expect(exit).not.toHaveBeenCalled();
    now.mockReturnValue(2100);
    expect(() => process.emit("SIGINT", "SIGINT")).toThrow("process.exit(130)");
  });

  it("stops for a reason as a signal would, with exit code 1, unless a signal comes too", async () => {
    const { watch } = watched();
    watch.stop("because npm (pid 7), which started this run, has exited");
    const stopped = (await watch.between("during epoch 3").catch((e: unknown) => e)) as Stopped;
    expect(stopped.message).toBe(
      "stopped because npm (pid 7), which started this run, has exited during epoch 3",
    );
    expect(exitCodeOf(stopped)).toBe(1);
    // A signal says more: its exit code is the one a caller waits for.
    process.emit("SIGTERM", "SIGTERM");
    watch.stop("because tsx (pid 8) has exited");
    const signalled = (await watch.between("during epoch 3").catch((e: unknown) => e)) as Stopped;
    expect(exitCodeOf(signalled)).toBe(143);
  });

  it("leaves the signals to their defaults once disposed", () => {
    const before = process.listenerCount("SIGTERM");
    const watch = watchSignals();
    expect(process.listenerCount("SIGTERM")).toBe(before + 1);
    watch.dispose();
    expect(process.listenerCount("SIGTERM")).toBe(before);
  });
});
