import { expect, test } from 'vitest';
import { parseOptions } from './options.ts';

test('bench options: defaults, and bad input named with the fix', () => {
  const o = parseOptions([]);
  expect(o).toMatchObject({
    compare: false,
    levels: [1, 16, 64],
    durationS: 6,
    rounds: 1,
    mode: 'msg',
    store: 'boltdb',
    gid: 'local',
  });
  expect(parseOptions(['--gid', 'dtm']).gid).toBe('dtm');
  expect(() => parseOptions(['--gid', 'uuid'])).toThrow(/--gid uuid: want local or dtm/);
  expect(parseOptions(['--compare']).rounds).toBe(2);
  expect(() => parseOptions(['--store', 'sqlite'])).toThrow(/--store sqlite: want one of boltdb, redis, mysql/);
  expect(() => parseOptions(['--levels', '1,x'])).toThrow(/--levels x: want a number ≥ 1/);
  expect(() => parseOptions(['--mode', 'at'])).toThrow(/--mode at: want one of msg, tcc, saga, xa/);
  expect(parseOptions(['--mode', 'xa', '--levels', '1,4'])).toMatchObject({
    mode: 'xa',
    compare: false,
    levels: [1, 4],
  });
  expect(() => parseOptions(['--duration', '0'])).toThrow(/--duration 0/);
  expect(() => parseOptions(['--etcd', '127.0.0.1:2379'])).toThrow(/--etcd and --dtm go together/);
  expect(() => parseOptions(['--nope'])).toThrow(/Unknown option '--nope'[\s\S]*usage: npm run bench/);
});

test('--compare --mode xa is refused: the Go twins have no XA branches', () => {
  for (const args of [
    ['--compare', '--mode', 'xa'],
    ['--mode', 'xa', '--compare'],
  ])
    expect(() => parseOptions(args)).toThrow(
      /--compare --mode xa: the Go twins .* have no XA branches.*run --mode xa without --compare/,
    );
});

test('--compare is like for like (NewGid) with a localGid row, so --gid goes with it no more; --trans dist by default', () => {
  expect(parseOptions(['--compare'])).toMatchObject({ gid: 'dtm', trans: 'dist', transNodeOptions: [] });
  expect(() => parseOptions(['--compare', '--gid', 'local'])).toThrow(
    /--compare --gid local: --compare runs both \(NewGid \+ Submit as its headline, localGid as a labelled row\); drop --gid/,
  );
  expect(parseOptions(['--trans', 'src', '--trans-node-options=--max-semi-space-size=16 --trace-gc'])).toMatchObject({
    trans: 'src',
    transNodeOptions: ['--max-semi-space-size=16', '--trace-gc'],
  });
  expect(() => parseOptions(['--trans', 'js'])).toThrow(/--trans js: want dist or src/);
  expect(parseOptions([]).appNodeOptions).toEqual([]);
  expect(parseOptions(['--app-node-options=--max-semi-space-size=4  --max-old-space-size=512'])).toMatchObject({
    appNodeOptions: ['--max-semi-space-size=4', '--max-old-space-size=512'],
  });
});

test('--client connect: our trans driven through Connect (msg, NewGid gids); --compare runs it as a row of its own', () => {
  expect(parseOptions([]).client).toBe('grpc-js');
  expect(parseOptions(['--compare']).client).toBe('grpc-js');
  expect(parseOptions(['--client', 'connect'])).toMatchObject({ client: 'connect', gid: 'dtm', mode: 'msg' });
  expect(parseOptions(['--client', 'connect', '--gid', 'dtm']).gid).toBe('dtm');
  expect(() => parseOptions(['--client', 'nice-grpc'])).toThrow(/--client nice-grpc: want grpc-js or connect/);
  expect(() => parseOptions(['--client', 'connect', '--mode', 'tcc'])).toThrow(
    /--client connect --mode tcc: the Connect client makes msg transactions only/,
  );
  expect(() => parseOptions(['--client', 'connect', '--gid', 'local'])).toThrow(
    /--client connect --gid local: the Connect client takes its gids from dtm's NewGid .*drop --gid/,
  );
  expect(() => parseOptions(['--compare', '--client', 'connect'])).toThrow(
    /--compare --client connect: --compare runs both \(grpc-js as its headline, Connect as a labelled row\); drop --client/,
  );
});
