// Last-resort cleanup: when the test process exits (normally, on an uncaught error, or on SIGINT/SIGTERM/SIGHUP)
// while a stack is still up, its processes are killed and its temp dirs removed, synchronously; the docker
// backend's containers are removed with `docker rm -f` (testcontainers' reaper is off by default: docker.ts).

type SyncCleanup = () => void;

const pending = new Set<SyncCleanup>();
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
let installed = false;

function runAll(): void {
  for (const fn of [...pending]) {
    pending.delete(fn);
    try {
      fn();
    } catch {
      // best effort: the process is going away
    }
  }
}

function onSignal(sig: NodeJS.Signals): void {
  runAll();
  uninstall();
  // Nobody else handles this signal: die of it, as the process would have without us.
  if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', runAll);
  for (const s of SIGNALS) process.on(s, onSignal);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  process.off('exit', runAll);
  for (const s of SIGNALS) process.off(s, onSignal);
}

/** Registers a synchronous cleanup to run if the process exits first; the returned function unregisters it. */
export function onProcessExit(fn: SyncCleanup): () => void {
  pending.add(fn);
  install();
  return () => {
    pending.delete(fn);
    if (pending.size === 0) uninstall();
  };
}
