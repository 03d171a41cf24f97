// The fuzz command's flags, and how it finds the seed and path of a failure in fast-check's own output.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { DEFAULT_RUNS, failedFiles, failures, parseFuzzArgs, SUITES } from '../../tools/fuzz/args.ts';

const seed7 = () => 7;

describe('npm run fuzz flags', () => {
  test('defaults: the three suites, the long setting, a fresh seed', () => {
    expect(parseFuzzArgs([], seed7)).toEqual({ runs: DEFAULT_RUNS, seed: 7, files: SUITES });
  });

  test('--runs, --seed (negative too, as fast-check prints it), --path with its one test file', () => {
    expect(
      parseFuzzArgs(['--runs', '2000', '--seed=-123', '--path', '12:0', 'test/property/barrier.int.test.ts'], seed7),
    ).toEqual({ runs: 2000, seed: -123, path: '12:0', files: ['test/property/barrier.int.test.ts'] });
  });

  test.each([
    [['--runs', '0'], /--runs "0" is not a whole number from 1 to 1000000/],
    [['--runs', '1e3'], /--runs "1e3" is not a whole number/],
    [['--seed', '4294967296'], /--seed "4294967296" is not a whole number from -2147483648 to 2147483647/],
    [['--path', 'x', 'f.ts'], /--path "x" is not a fast-check path such as 12:0:3/],
    [['--path', '3'], /--path replays one property: name its test file too/],
    [['--bogus'], /Unknown option '--bogus'.*usage: npm run fuzz --/],
  ])('%j is refused with the usage', (argv, message) => {
    expect(() => parseFuzzArgs(argv, seed7)).toThrow(message);
  });

  test('finds the seed and path in the message of a real fast-check failure', () => {
    let message = '';
    try {
      fc.assert(
        fc.property(fc.nat(), (n) => n < 50),
        { seed: 42 },
      );
    } catch (err) {
      message = (err as Error).message;
    }
    const [found, ...more] = failures(`some vitest output\n${message}\nmore output`);
    expect(more).toEqual([]);
    expect(found?.seed).toBe(42);
    // the path it found replays the failure
    expect(() =>
      fc.assert(
        fc.property(fc.nat(), (n) => n < 50),
        { seed: 42, path: found?.path, endOnFailure: true },
      ),
    ).toThrow(/Property failed after 1 tests/);
  });

  test('names the failed test files from vitest’s FAIL lines, colours and all', () => {
    const out = [
      '\u001b[41m\u001b[1m FAIL \u001b[22m\u001b[49m \u001b[30m\u001b[45m integration \u001b[49m\u001b[39m test/property/dtm.int.test.ts\u001b[2m > \u001b[22mtrans on MariaDB',
      ' FAIL  integration  test/property/dtm.int.test.ts > trans on PostgreSQL',
      ' FAIL  test/fuzz/inputs.test.ts > DSNs',
      '(node:1) [TAG_RESOLVE_FAILED] YAMLWarning: not a FAIL line',
    ].join('\n');
    expect(failedFiles(out)).toEqual(['test/property/dtm.int.test.ts', 'test/fuzz/inputs.test.ts']);
  });
});
