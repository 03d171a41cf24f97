import { expect, test } from 'vitest';
import { splitHostPort } from './host-port.ts';

test('splitHostPort: host:port, [v6]:port, an empty host; undefined otherwise', () => {
  expect(splitHostPort('127.0.0.1:2379')).toEqual({ host: '127.0.0.1', port: 2379 });
  expect(splitHostPort('localhost:36790')).toEqual({ host: 'localhost', port: 36790 });
  expect(splitHostPort('[::1]:9')).toEqual({ host: '::1', port: 9 });
  expect(splitHostPort(':8080')).toEqual({ host: '', port: 8080 });
  for (const bad of ['50081', 'h:65536', 'h:', 'a b:1', 'h/x:1', 'a,b:1', 'h:1:2', '']) {
    expect(splitHostPort(bad), bad).toBeUndefined();
  }
});
