// The fuzz command's flags: how many cases each property runs, the seed that makes the run repeatable, the path of
// one failing case to replay, and which test files to run (default: the property, fuzz and hostile suites).
import { parseArgs } from 'node:util';

export const USAGE =
  'usage: npm run fuzz -- [--runs N] [--seed S] [--path P] [test files…] ' +
  '(default: 500 runs of test/property, test/fuzz and test/hostile)';

export const DEFAULT_RUNS = 500;
export const SUITES = ['test/property/', 'test/fuzz/', 'test/hostile/'];

export interface FuzzArgs {
  runs: number;
  seed: number;
  path?: string;
  files: string[];
}

/** Parses the flags; every error names the flag and what it takes. `randomSeed` picks a seed when none is given. */
export function parseFuzzArgs(argv: string[], randomSeed: () => number): FuzzArgs {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    throw new Error(`${(err as Error).message}; ${USAGE}`);
  }
  const { values, positionals } = parsed;
  const int = (flag: string, v: string | undefined, min: number, max: number): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!/^-?[0-9]+$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new Error(`--${flag} ${JSON.stringify(v)} is not a whole number from ${min} to ${max}; ${USAGE}`);
    }
    return n;
  };
  const runs = int('runs', values.runs, 1, 1_000_000) ?? DEFAULT_RUNS;
  // fast-check seeds are 32-bit integers
  const seed = int('seed', values.seed, -(2 ** 31), 2 ** 31 - 1) ?? randomSeed();
  if (values.path !== undefined && !/^[0-9]+(:[0-9]+)*$/.test(values.path)) {
    throw new Error(`--path ${JSON.stringify(values.path)} is not a fast-check path such as 12:0:3; ${USAGE}`);
  }
  if (values.path !== undefined && positionals.length !== 1) {
    throw new Error(`--path replays one property: name its test file too, e.g. test/property/barrier.int.test.ts`);
  }
  return {
    runs,
    seed,
    ...(values.path === undefined ? {} : { path: values.path }),
    files: positionals.length ? positionals : SUITES,
  };
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: { runs: { type: 'string' }, seed: { type: 'string' }, path: { type: 'string' } },
  });
}

/** The `{ seed: S, path: "P" … }` lines fast-check prints for each failing property, from the run's output. */
export function failures(output: string): { seed: number; path: string }[] {
  return [...output.matchAll(/\{ seed: (-?[0-9]+), path: "([0-9:]+)"/g)].map((m) => ({
    seed: Number(m[1]),
    path: m[2] as string,
  }));
}

/** The test files vitest reports as failed (its `FAIL <project> <file> > <test>` lines), each once. */
export function failedFiles(output: string): string[] {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes in vitest's output
  const plain = output.replace(/\u001b\[[0-9;]*m/g, '');
  return [...new Set([...plain.matchAll(/^\s*FAIL\s+(?:\S+\s+)?(\S+\.test\.ts)/gm)].map((m) => m[1] as string))];
}
