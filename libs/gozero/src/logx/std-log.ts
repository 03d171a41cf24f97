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

/** Same output as Go's `log.Printf`: to stderr, with the standard prefix. */
export function logPrintf(fmt: string, ...args: unknown[]): void {
  process.stderr.write(formatLogLine(fmt, args));
}
