// logx's `file` and `volume` modes: one file per kind of line under Log.Path (go-zero's names), rotated daily or by
// size by rotating-file-stream, with go-zero's backup names, gzip, KeepDays and MaxBackups. rotating-file-stream's
// own retention needs a history file and has no age limit, so the pruning after each rotation is done here, by
// name, as go-zero's OutdatedFiles does.
import { accessSync, constants, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createStream, type RotatingFileStream } from 'rotating-file-stream';
import { ConfigError } from '../conf/errors.ts';

/** The files of logx's file mode, by the kind of line each holds (debug and info go to access.log). */
export const LOG_FILES = {
  access: 'access.log',
  error: 'error.log',
  severe: 'severe.log',
  slow: 'slow.log',
  stat: 'stat.log',
} as const;
export type LogFileKind = keyof typeof LOG_FILES;

export interface LogFilesConf {
  Mode: 'file' | 'volume';
  /** go-zero's default `logs`. */
  Path: string;
  /** Required in volume mode: files go to `<Path>/<ServiceName>/<hostname>`. */
  ServiceName?: string | undefined;
  /** `daily` (go-zero's default): a backup `access.log-YYYY-MM-DD` at midnight; `size`: `access-<time>.log` past MaxSize. */
  Rotation: 'daily' | 'size';
  /** Backups older than this many days are removed (0: kept). */
  KeepDays: number;
  /** Size rotation: at most this many backups (0: all). */
  MaxBackups: number;
  /** Size rotation: MB a file may reach before it is rotated (0: never). */
  MaxSize: number;
  /** Gzip the backups (`.gz`). */
  Compress: boolean;
}

const two = (n: number): string => String(n).padStart(2, '0');

function localDate(d: Date): string {
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}`;
}

/** Go's time.RFC3339 in local time, go-zero's default backup-name time format. */
export function rfc3339(d: Date): string {
  const off = -d.getTimezoneOffset();
  const zone =
    off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${two(Math.trunc(Math.abs(off) / 60))}:${two(Math.abs(off) % 60)}`;
  return `${localDate(d)}T${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}${zone}`;
}

/** The directory the files go to: Path, or Path/ServiceName/hostname in volume mode (go-zero's setupWithVolume). */
export function logDir(c: LogFilesConf): string {
  if (c.Mode === 'file') return c.Path;
  if (!c.ServiceName) {
    throw new ConfigError(
      'Log.Mode is volume, but Log.ServiceName is not set; set Log.ServiceName (or the service Name) — volume mode writes to <Path>/<ServiceName>/<hostname>',
    );
  }
  return join(c.Path, c.ServiceName, hostname());
}

/** go-zero's backup name for `file` rotated at `time` (`index` > 1 only when that name is already taken). */
export function backupName(c: LogFilesConf, file: string, time: Date, index: number): string {
  const again = index > 1 ? `.${index}` : '';
  const gz = c.Compress ? '.gz' : '';
  if (c.Rotation === 'daily') return `${file}-${localDate(time)}${again}${gz}`;
  const ext = file.slice(file.lastIndexOf('.'));
  return `${file.slice(0, -ext.length)}-${rfc3339(time)}${again}${ext}${gz}`;
}

/** The backups of `file` to remove now: beyond MaxBackups (size rotation), or older than KeepDays. */
export function outdatedBackups(c: LogFilesConf, file: string, names: readonly string[], now = new Date()): string[] {
  const gz = c.Compress ? '.gz' : '';
  const ext = file.slice(file.lastIndexOf('.'));
  const prefix = c.Rotation === 'daily' ? `${file}-` : `${file.slice(0, -ext.length)}-`;
  const suffix = c.Rotation === 'daily' ? gz : `${ext}${gz}`;
  let backups = names.filter((n) => n.startsWith(prefix) && n.endsWith(suffix) && n !== file).sort();
  const out = new Set<string>();
  if (c.Rotation === 'size' && c.MaxBackups > 0 && backups.length > c.MaxBackups) {
    for (const n of backups.slice(0, backups.length - c.MaxBackups)) out.add(n);
    backups = backups.slice(backups.length - c.MaxBackups);
  }
  if (c.KeepDays > 0) {
    const boundary = new Date(now.getTime() - c.KeepDays * 24 * 3_600_000);
    const stamp = c.Rotation === 'daily' ? localDate(boundary) : rfc3339(boundary);
    for (const n of backups) if (n.slice(prefix.length) < stamp) out.add(n);
  }
  return [...out];
}

/** The five rotating files of one logx setup. */
export class LogFiles {
  readonly dir: string;
  readonly #conf: LogFilesConf;
  readonly #streams = new Map<LogFileKind, RotatingFileStream>();
  readonly #broken = new Set<LogFileKind>();
  /** Writes handed to a stream and not yet on disk, and who waits for them to be. */
  #inFlight = 0;
  #drainWaiters: (() => void)[] = [];

  /** Creates the directory and checks it is writable at once, so a bad Log.Path is an error naming it. */
  constructor(conf: LogFilesConf) {
    this.#conf = conf;
    this.dir = logDir(conf);
    try {
      mkdirSync(this.dir, { recursive: true });
      accessSync(this.dir, constants.W_OK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      throw new ConfigError(
        `Log.Path ${conf.Path}: cannot write log files in ${this.dir} (${code}); set Log.Path to a writable directory or use Log.Mode: console`,
        { cause: err },
      );
    }
    for (const [kind, file] of Object.entries(LOG_FILES) as [LogFileKind, string][]) {
      const stream = createStream((time, index) => (time ? backupName(conf, file, new Date(time), index ?? 1) : file), {
        path: this.dir,
        ...(conf.Rotation === 'daily' ? { interval: '1d', intervalBoundary: true } : {}),
        ...(conf.Rotation === 'size' && conf.MaxSize > 0 ? { size: `${conf.MaxSize}M` } : {}),
        ...(conf.Compress ? { compress: 'gzip' } : {}),
        mode: 0o600,
      });
      stream.on('rotated', () => this.#prune(file));
      stream.on('error', (err) => {
        // the stream is closed after an error: its lines go to stderr from now on, said once
        this.#broken.add(kind);
        process.stderr.write(
          `logx: cannot write ${join(this.dir, file)} (${err.message}); its lines go to stderr from now on — check Log.Path\n`,
        );
      });
      this.#streams.set(kind, stream);
    }
  }

  /** Appends `text` to the file of `kind`; false when that file is unusable (the caller writes to the console). */
  write(kind: LogFileKind, text: string): boolean {
    const s = this.#streams.get(kind);
    if (!s || this.#broken.has(kind)) return false;
    this.#inFlight++;
    s.write(text, () => {
      if (--this.#inFlight > 0) return;
      for (const w of this.#drainWaiters.splice(0)) w();
    });
    return true;
  }

  /** Resolves once every line written so far is in its file (or after `ms`). */
  drained(ms = 3000): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      timer.unref();
      this.#drainWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  #prune(file: string): void {
    if (this.#conf.KeepDays <= 0 && this.#conf.MaxBackups <= 0) return;
    try {
      for (const n of outdatedBackups(this.#conf, file, readdirSync(this.dir)))
        rmSync(join(this.dir, n), { force: true });
    } catch (err) {
      process.stderr.write(`logx: cannot remove outdated backups of ${file} (${(err as Error).message})\n`);
    }
  }

  /** Ends every file, waiting (at most `ms`) for what was written to reach the disk. */
  async close(ms = 3000): Promise<void> {
    const ends = [...this.#streams.entries()].map(
      ([kind, s]) =>
        new Promise<void>((resolve) => {
          if (this.#broken.has(kind)) return resolve();
          s.end(() => resolve());
          s.once('error', () => resolve());
        }),
    );
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(ends),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, ms);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
  }
}
