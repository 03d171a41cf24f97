/** One line that redraws itself: done/total, the chaos so far (`force`: a fault began or ended, print it anyway). */
export function progress(done: number, total: number, note: string, force = false): void {
  const width = 30;
  const filled = Math.round((done / total) * width);
  const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`;
  const line = `[${bar}] ${done}/${total} ${note}`;
  if (process.stderr.isTTY) process.stderr.write(`\r${line}\x1b[K`);
  else if (force || done === total || done % Math.max(1, Math.floor(total / 10)) === 0)
    process.stderr.write(`${line}\n`);
}
