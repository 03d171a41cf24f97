// The bench's progress on stderr: a bar redrawn in place on a terminal, one line per step otherwise (CI's logs).

/** A progress bar on stderr, redrawn in place on a terminal; one line per step otherwise. */
export class Progress {
  private done = 0;
  private readonly started = Date.now();
  private label = '';
  private timer: NodeJS.Timeout | undefined;
  private readonly totalMs: number;
  constructor(totalMs: number) {
    this.totalMs = totalMs;
  }
  step(label: string, ms: number): () => void {
    this.label = label;
    const t0 = Date.now();
    if (process.stderr.isTTY) {
      this.timer = setInterval(() => this.draw(Date.now() - t0), 250);
      this.draw(0);
    } else process.stderr.write(`bench: ${label}\n`);
    return () => {
      clearInterval(this.timer);
      this.done += ms;
      if (process.stderr.isTTY) this.draw(0);
    };
  }
  private draw(inStep: number): void {
    const f = Math.min(1, (this.done + inStep) / this.totalMs);
    const w = 30;
    const bar = '█'.repeat(Math.round(f * w)).padEnd(w, '░');
    const left = Math.max(0, Math.round((this.totalMs - this.done - inStep) / 1000));
    process.stderr.write(`\r\x1b[K[${bar}] ${(f * 100).toFixed(0).padStart(3)}%  ~${left}s left  ${this.label}`);
  }
  end(): void {
    if (process.stderr.isTTY)
      process.stderr.write(`\r\x1b[Kbench: done in ${((Date.now() - this.started) / 1000).toFixed(0)} s\n`);
  }
}
