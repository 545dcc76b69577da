/**
 * `npm run train:mnist` is a chain of processes: npm, a shell, tsx, and tsx's child that trains.
 * `kill -9` of npm or tsx cannot be passed on, so without this the trainer would live on as an
 * orphan, still writing into --out. The trainer watches the wrappers above it and stops when one
 * of them is gone (never in the middle of a checkpoint write: the checks run between steps).
 *
 * On Linux the chain is read from /proc: every ancestor that carries npm's script environment or
 * runs tsx, and the process that started the topmost of them (npm itself). Elsewhere only the
 * parent is watched, through process.ppid.
 */
import { readFileSync } from "node:fs";

interface ProcessInfo {
  pid: number;
  ppid: number;
  /** Start time in clock ticks since boot: tells a reused pid from the process it was. */
  start: string;
  state: string;
  name: string;
}

function processInfo(pid: number): ProcessInfo | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // "pid (name) state ppid ... starttime": the name may hold spaces and parentheses.
    const close = stat.lastIndexOf(")");
    const fields = stat.slice(close + 2).split(" ");
    return {
      pid,
      ppid: Number(fields[1]),
      start: fields[19],
      state: fields[0],
      name: stat.slice(stat.indexOf("(") + 1, close),
    };
  } catch {
    return null;
  }
}

function isWrapper(pid: number): boolean {
  try {
    const environment = readFileSync(`/proc/${pid}/environ`, "latin1");
    const commandLine = readFileSync(`/proc/${pid}/cmdline`, "latin1");
    // Every argument in cmdline ends with a NUL, the last one too.
    return /(^|\0)npm_lifecycle_event=/.test(environment) || /(^|[/\0])tsx[/\0.]/.test(commandLine);
  } catch {
    return false;
  }
}

/**
 * The wrapper processes from `parent` (this process's parent; a test starts from a process of its
 * own) up, nearest first, ending with the one that started them.
 */
export function launchers(parent: number = process.ppid): ProcessInfo[] {
  const chain: ProcessInfo[] = [];
  let info = processInfo(parent);
  while (info !== null && info.pid > 1) {
    chain.push(info);
    if (!isWrapper(info.pid)) break;
    info = processInfo(info.ppid);
  }
  // Without a wrapper above (run as `node --import tsx ...`), there is nothing to watch.
  return chain.length > 1 || (chain.length === 1 && isWrapper(chain[0].pid)) ? chain : [];
}

/** The first launcher that has exited (or whose pid now belongs to another process), else null. */
function goneLauncher(watched: readonly ProcessInfo[]): ProcessInfo | null {
  for (const p of watched) {
    const now = processInfo(p.pid);
    if (now === null || now.start !== p.start || now.state === "Z" || now.state === "X") return p;
  }
  return null;
}

/**
 * Call `onGone` (once) as soon as a launcher has exited. `check()` looks now (at most once a
 * second); a timer also looks while the event loop runs. `stop()` ends the watch.
 */
export function watchLaunchers(
  onGone: (description: string) => void,
  parent: number = process.ppid,
): {
  check: () => void;
  stop: () => void;
} {
  const watched = launchers(parent);
  const onProc = processInfo(process.pid) !== null;
  let last = 0;
  let done = false;
  const stop = (): void => {
    done = true;
    clearInterval(timer);
  };
  const look = (): void => {
    if (done) return;
    const gone = onProc
      ? goneLauncher(watched)
      : process.ppid !== parent
        ? { pid: parent, name: "parent" }
        : null;
    if (gone !== null) {
      stop();
      onGone(`${gone.name} (pid ${gone.pid})`);
    }
  };
  // Unreferenced: the watch alone does not keep the process alive.
  const timer = setInterval(look, 1000);
  timer.unref();
  return {
    check: () => {
      const now = Date.now();
      if (now - last < 1000) return;
      last = now;
      look();
    },
    stop,
  };
}
