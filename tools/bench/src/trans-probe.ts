// The bench's side of probe.ts inside our trans: the probe emitted as JavaScript, a snapshot on SIGUSR2, and how
// the rounds of a level merge.
import { existsSync, readFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { join } from 'node:path';
import { tempFile } from '@dtm-gozero/devkit';
import type { ProbeSnapshot, RuntimeStats } from './probe.ts';

/**
 * Our trans's runtime figures (probe.ts, loaded with --import): SIGUSR2 asks for the figures since the last ask (and
 * a full GC), the probe writes them to a file with a higher sequence number.
 */
export class TransProbe {
  private seq = 0;
  readonly pid: number;
  readonly file: string;
  readonly who: string;
  constructor(pid: number, file: string, who = 'our trans') {
    this.pid = pid;
    this.file = file;
    this.who = who;
  }

  async snapshot(ms = 15_000): Promise<ProbeSnapshot> {
    process.kill(this.pid, 'SIGUSR2');
    const end = Date.now() + ms;
    for (;;) {
      if (existsSync(this.file)) {
        const snap = JSON.parse(readFileSync(this.file, 'utf8')) as ProbeSnapshot;
        if (snap.seq > this.seq) {
          this.seq = snap.seq;
          return snap;
        }
      }
      if (Date.now() > end)
        throw new Error(`${this.who} (pid ${this.pid}) wrote no runtime figures to ${this.file} within ${ms} ms`);
      await new Promise((res) => setTimeout(res, 20));
    }
  }
}

/** The probe as JavaScript in a temp dir: a trans run from dist/ must not load type stripping for it. */
export const probeScript = (): string => emitJs('probe.ts', 'bench-probe.mjs');

/** A file of this folder as JavaScript in a temp dir (`name`), for a Node process that must not strip types. */
export function emitJs(file: string, name: string): string {
  const ts = readFileSync(join(import.meta.dirname, file), 'utf8');
  // Node 24 calls stripTypeScriptTypes experimental and says so on stderr, in the middle of the progress bar.
  const warn = process.emitWarning;
  process.emitWarning = () => undefined;
  try {
    return tempFile(name, stripTypeScriptTypes(ts));
  } finally {
    process.emitWarning = warn;
  }
}

/** Merges a round's runtime figures into the level's: the worst delay percentiles, GC pauses summed. */
export function mergeRuntime(a: RuntimeStats | undefined, b: RuntimeStats | undefined): RuntimeStats | undefined {
  if (!a || !b) return a ?? b;
  return {
    loopP50Ms: Math.max(a.loopP50Ms, b.loopP50Ms),
    loopP99Ms: Math.max(a.loopP99Ms, b.loopP99Ms),
    loopMaxMs: Math.max(a.loopMaxMs, b.loopMaxMs),
    gcCount: a.gcCount + b.gcCount,
    gcTotalMs: a.gcTotalMs + b.gcTotalMs,
    gcMaxMs: Math.max(a.gcMaxMs, b.gcMaxMs),
  };
}
