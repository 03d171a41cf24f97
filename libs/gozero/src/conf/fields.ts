// A mapping of a config file being read, with go-zero's case-insensitive keys: what config.ts, service-conf.ts and
// observability.ts read their keys through (its own module, so those three do not import each other in a circle).
import { ConfigError } from './errors.ts';

export type Raw = Record<string, unknown>;

/** go-zero's case-insensitive key look-up. */
export function get(obj: Raw, key: string): unknown {
  if (key in obj) return obj[key];
  const lower = key.toLowerCase();
  for (const k of Object.keys(obj)) if (k.toLowerCase() === lower) return obj[k];
  return undefined;
}

/** A mapping of a config file being read; errors name the file and the key's full path. */
export class Fields {
  readonly file: string;
  readonly obj: Raw;
  readonly path: string;

  constructor(file: string, obj: Raw, path: string) {
    this.file = file;
    this.obj = obj;
    this.path = path;
  }

  private where(key: string): string {
    return this.path ? `${this.path}.${key}` : key;
  }

  fail(key: string, problem: string, fix: string): never {
    throw new ConfigError(`config ${this.file}: ${this.where(key)} ${problem}; ${fix}`);
  }

  string(key: string, opts: { required?: boolean; example?: string } = {}): string | undefined {
    const v = get(this.obj, key);
    if (v === undefined || v === null || v === '') {
      if (opts.required) this.fail(key, 'is missing', `add it, e.g. "${key}: ${opts.example ?? '...'}"`);
      return undefined;
    }
    if (typeof v !== 'string' && typeof v !== 'number')
      this.fail(key, `must be a string, got ${JSON.stringify(v)}`, 'fix its value');
    return String(v);
  }

  int(key: string, def: number, what = 'milliseconds'): number {
    const v = get(this.obj, key);
    if (v === undefined || v === null) return def;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      this.fail(key, `must be a non-negative integer (${what}), got ${JSON.stringify(v)}`, 'fix its value');
    }
    return v;
  }

  bool(key: string, def: boolean): boolean {
    const v = get(this.obj, key);
    if (v === undefined || v === null) return def;
    if (typeof v !== 'boolean') this.fail(key, `must be true or false, got ${JSON.stringify(v)}`, 'fix its value');
    return v;
  }

  stringList(key: string): string[] | undefined {
    const v = get(this.obj, key);
    if (v === undefined || v === null) return undefined;
    // go-zero's []string does not take a lone string (Go's loader refuses it): say so instead of guessing.
    if (!Array.isArray(v)) {
      this.fail(
        key,
        `must be a list of "host:port" strings, got the single value ${JSON.stringify(v)}`,
        `write it as a YAML list, e.g. "${key}: [${typeof v === 'string' ? v : '127.0.0.1:2379'}]"`,
      );
    }
    const list = v as unknown[];
    for (const item of list) {
      if (typeof item !== 'string' || item === '') {
        this.fail(key, `must be a list of "host:port" strings, got ${JSON.stringify(v)}`, 'fix its value');
      }
    }
    return list as string[];
  }

  sub(key: string): Fields | undefined {
    const v = get(this.obj, key);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'object' || Array.isArray(v))
      this.fail(key, 'must be a mapping', `indent its fields under "${key}:"`);
    return new Fields(this.file, v as Raw, this.where(key));
  }

  number(key: string, def: number): number {
    const v = get(this.obj, key);
    if (v === undefined || v === null) return def;
    if (typeof v !== 'number' || !Number.isFinite(v))
      this.fail(key, `must be a number, got ${JSON.stringify(v)}`, 'fix its value');
    return v;
  }

  /** A `map[string]string`: a mapping of string (or number) values. */
  stringMap(key: string): Record<string, string> {
    const m = this.sub(key);
    const out: Record<string, string> = {};
    for (const k of Object.keys(m?.obj ?? {})) out[k] = m?.string(k) ?? '';
    return out;
  }
}
