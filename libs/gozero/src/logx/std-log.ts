import { format } from 'node:util';

const two = (n: number): string => String(n).padStart(2, '0');

/** Go's `log.LstdFlags` prefix in local time, e.g. "2021/12/03 15:44:05 ". */
export function stdPrefix(d: Date = new Date()): string {
  return (
    `${d.getFullYear()}/${two(d.getMonth() + 1)}/${two(d.getDate())} ` +
    `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} `
  );
}

/** One line as Go's `log.Printf` writes it: prefix, message, exactly one newline. */
export function formatLogLine(fmt: string, args: unknown[], d: Date = new Date()): string {
  const msg = format(fmt, ...args);
  return stdPrefix(d) + (msg.endsWith('\n') ? msg : `${msg}\n`);
}

// Lines logged in one turn of the event loop go out in one write: on a busy server (64 calls in flight, a line
// each) a write per line, as Go's log package makes, cost ~16 % of the trans process's CPU in a profile (Node's
// stream path around each syscall is much longer than Go's). Nothing is held longer than that turn, a buffer
// past 64 KiB goes at once, and what is pending when the process exits (process.exit, an uncaught exception) is
// written synchronously first.
const FLUSH_AT = 64 * 1024;
let pending = '';
let scheduled = false;
let exitHook = false;

/** Writes the log lines not yet written (logPrintf does it at the end of the current event-loop turn). */
export function flushLog(): void {
  scheduled = false;
  if (pending === '') return;
  const out = pending;
  pending = '';
  process.stderr.write(out);
}

/** Same output as Go's `log.Printf`: to stderr, with the standard prefix (lines of one event-loop turn in one write). */
export function logPrintf(fmt: string, ...args: unknown[]): void {
  pending += formatLogLine(fmt, args);
  if (!exitHook) {
    exitHook = true;
    process.on('exit', flushLog);
  }
  if (pending.length >= FLUSH_AT) flushLog();
  else if (!scheduled) {
    scheduled = true;
    setImmediate(flushLog);
  }
}
