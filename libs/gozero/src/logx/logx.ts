// go-zero's logx for the library's own lines (the per-request stat line, drops, breaker): JSON with go-zero's
// keys (`@timestamp`, `level`, `content`, `caller`, `duration`, `trace`, `span`) or tab-separated plain text,
// info/stat to stdout and error/slow/severe to stderr as logx's console mode, or to access/error/severe/slow/stat.log
// under Log.Path in its file and volume modes (files.ts). A line is one JSON.stringify:
// no logger library is needed for that, and pino's own keys and levels would have to be undone. The example's
// transcript lines are not these: they are Go's log.Printf lines (std-log.ts).

import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOG_FILES, type LogFileKind, LogFiles } from './files.ts';

export type LogLevel = 'debug' | 'info' | 'error' | 'severe';
type LineLevel = LogLevel | 'slow' | 'stat';

/** go-zero's `logx.LogConf`, the keys this package acts on (the others are warned about by the loader). */
export interface LogConf {
  ServiceName?: string;
  /** `console` (default), `file` (files under Path) or `volume` (under Path/ServiceName/hostname). */
  Mode?: 'console' | 'file' | 'volume';
  /** File modes: the directory (go-zero's default `logs`). */
  Path?: string;
  /** File modes: `daily` (default) or `size`. */
  Rotation?: 'daily' | 'size';
  /** File modes: days a backup is kept (0: all). */
  KeepDays?: number;
  /** Size rotation: backups kept (0: all). */
  MaxBackups?: number;
  /** Size rotation: MB before a file is rotated (0: never). */
  MaxSize?: number;
  /** File modes: gzip the backups. */
  Compress?: boolean;
  /** Write `stat` lines (default true). */
  Stat?: boolean;
  /** `json` (go-zero's default) or `plain`. */
  Encoding?: 'json' | 'plain';
  /** `debug`, `info` (default), `error` or `severe`. */
  Level?: LogLevel;
  /** Longer contents are cut and marked `truncated` (0: no limit). */
  MaxContentLength?: number;
  FieldKeys?: Partial<FieldKeys>;
}

export interface FieldKeys {
  CallerKey: string;
  ContentKey: string;
  DurationKey: string;
  LevelKey: string;
  SpanKey: string;
  TimestampKey: string;
  TraceKey: string;
  TruncatedKey: string;
}

const DEFAULT_KEYS: FieldKeys = {
  CallerKey: 'caller',
  ContentKey: 'content',
  DurationKey: 'duration',
  LevelKey: 'level',
  SpanKey: 'span',
  TimestampKey: '@timestamp',
  TraceKey: 'trace',
  TruncatedKey: 'truncated',
};

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, error: 2, severe: 3 };
// the level a line needs to be written, as logx's shouldLog calls
const NEEDS: Record<LineLevel, number> = { debug: 0, info: 1, stat: 1, error: 2, slow: 2, severe: 3 };

let encoding: 'json' | 'plain' = 'json';
let statOn = true;
let files: LogFiles | undefined;
let minLevel = RANK.info;
let maxContent = 0;
let keys = DEFAULT_KEYS;
let traceHook: (() => { trace?: string | undefined; span?: string | undefined } | undefined) | undefined;

/** go-zero's `logx.SetUp`/`MustSetup`: encoding, level, content limit and field keys for the lines below. */
export function setupLogx(conf: LogConf = {}): void {
  const mode = conf.Mode ?? 'console';
  // opened first: a Log.Path that cannot be written throws before anything changes
  const next =
    mode === 'console'
      ? undefined
      : new LogFiles({
          Mode: mode,
          Path: conf.Path || 'logs',
          ServiceName: conf.ServiceName,
          Rotation: conf.Rotation ?? 'daily',
          KeepDays: conf.KeepDays ?? 0,
          MaxBackups: conf.MaxBackups ?? 0,
          MaxSize: conf.MaxSize ?? 0,
          Compress: conf.Compress ?? false,
        });
  flush();
  void files?.close();
  files = next;
  statOn = conf.Stat ?? true;
  encoding = conf.Encoding ?? 'json';
  minLevel = RANK[conf.Level ?? 'info'];
  maxContent = conf.MaxContentLength ?? 0;
  keys = { ...DEFAULT_KEYS, ...conf.FieldKeys };
}

/**
 * Where `trace` and `span` come from: the tracing module sets a function returning the active span's ids (logx
 * reads them from the context's span). Until one is set, lines carry neither, as logx's without a span.
 */
export function setLogTraceHook(hook: typeof traceHook): void {
  traceHook = hook;
}

const two = (n: number): string => String(n).padStart(2, '0');

/** logx's default time format, `2006-01-02T15:04:05.000Z07:00`, in local time. */
export function logxTimestamp(d: Date = new Date()): string {
  const off = -d.getTimezoneOffset();
  const zone =
    off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${two(Math.trunc(Math.abs(off) / 60))}:${two(Math.abs(off) % 60)}`;
  return (
    `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}T${two(d.getHours())}:${two(d.getMinutes())}:` +
    `${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}${zone}`
  );
}

/** logx's `timex.ReprOfDuration`: milliseconds with one decimal, e.g. `0.3ms`. */
export function reprOfDuration(ms: number): string {
  return `${ms.toFixed(1)}ms`;
}

/**
 * A request or reply as the stat lines show it: JSON, 64-bit integers as numbers where exact (Go's json.Marshal
 * of the generated struct writes numbers), else as strings.
 */
export function contentJson(v: unknown): string {
  try {
    return (
      JSON.stringify(v, (_, x) =>
        typeof x === 'bigint' ? (Number.isSafeInteger(Number(x)) ? Number(x) : x.toString()) : x,
      ) ?? 'null'
    );
  } catch (err) {
    return `<${(err as Error).message}>`;
  }
}

export interface LineFields {
  caller?: string;
  durationMs?: number;
  [key: string]: unknown;
}

/** One logx line as text (with its newline), or undefined when the level is off. */
export function formatLogxLine(level: LineLevel, content: string, fields: LineFields = {}, d = new Date()): string {
  const { caller, durationMs, ...rest } = fields;
  const entry: Record<string, unknown> = { ...rest };
  if (maxContent > 0 && content.length > maxContent) {
    content = content.slice(0, maxContent);
    entry[keys.TruncatedKey] = true;
  }
  if (caller) entry[keys.CallerKey] = caller;
  if (durationMs !== undefined) entry[keys.DurationKey] = reprOfDuration(durationMs);
  const ids = traceHook?.();
  if (ids?.trace) entry[keys.TraceKey] = ids.trace;
  if (ids?.span) entry[keys.SpanKey] = ids.span;
  if (encoding === 'plain') {
    const extra = Object.entries(entry).map(([k, v]) => `\t${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
    return `${logxTimestamp(d)}\t${level}\t${content}${extra.join('')}\n`;
  }
  entry[keys.TimestampKey] = logxTimestamp(d);
  entry[keys.LevelKey] = level;
  entry[keys.ContentKey] = content;
  // Go marshals logx's map with its keys sorted
  const sorted: Record<string, unknown> = {};
  for (const k of Object.keys(entry).sort()) sorted[k] = entry[k];
  return `${JSON.stringify(sorted)}\n`;
}

// Lines of one event-loop turn go out in one write per stream (as std-log.ts, for the same reason: a write per
// line is costly in Node on a busy server); pending lines are written synchronously at exit.
const pending = { out: '', err: '' };
const pendingFiles = new Map<LogFileKind, string>();
let scheduled = false;
let exitHook = false;

const FILE_OF: Record<LineLevel, LogFileKind> = {
  debug: 'access',
  info: 'access',
  error: 'error',
  severe: 'severe',
  slow: 'slow',
  stat: 'stat',
};

function flush(): void {
  scheduled = false;
  for (const [kind, text] of pendingFiles) {
    // a file that cannot be written any more: its lines go to stderr (files.ts said so once)
    if (!files?.write(kind, text)) pending.err += text;
  }
  pendingFiles.clear();
  if (pending.out) process.stdout.write(pending.out);
  if (pending.err) process.stderr.write(pending.err);
  pending.out = '';
  pending.err = '';
}

/** At exit nothing asynchronous runs: pending file lines are appended synchronously. */
function flushAtExit(): void {
  if (files) {
    for (const [kind, text] of pendingFiles) {
      try {
        appendFileSync(join(files.dir, LOG_FILES[kind]), text);
      } catch {
        pending.err += text;
      }
    }
    pendingFiles.clear();
  }
  flush();
}

function write(level: LineLevel, content: string, fields?: LineFields): void {
  if (NEEDS[level] < minLevel && level !== 'severe') return;
  if (level === 'stat' && !statOn) return;
  const line = formatLogxLine(level, content, fields);
  if (files) {
    const kind = FILE_OF[level];
    pendingFiles.set(kind, (pendingFiles.get(kind) ?? '') + line);
  } else if (level === 'info' || level === 'stat' || level === 'debug') pending.out += line;
  else pending.err += line;
  if (!exitHook) {
    exitHook = true;
    process.on('exit', flushAtExit);
  }
  if (!scheduled) {
    scheduled = true;
    setImmediate(flush);
  }
}

/** Writes what is pending and, in the file modes, waits (at most 3 s) until it is in the files. */
export async function flushLogx(): Promise<void> {
  flush();
  await files?.drained();
}

/**
 * go-zero's `logx.Close`: writes what is pending and, in the file modes, closes the files (waiting up to 3 s for
 * them to reach the disk); later lines go to the console until the next setup.
 */
export async function closeLogx(): Promise<void> {
  flush();
  const f = files;
  files = undefined;
  await f?.close();
}

/** logx's levels, for the library's own lines. */
export const logx = {
  debug: (content: string, fields?: LineFields) => write('debug', content, fields),
  info: (content: string, fields?: LineFields) => write('info', content, fields),
  error: (content: string, fields?: LineFields) => write('error', content, fields),
  severe: (content: string, fields?: LineFields) => write('severe', content, fields),
  slow: (content: string, fields?: LineFields) => write('slow', content, fields),
  stat: (content: string, fields?: LineFields) => write('stat', content, fields),
};
