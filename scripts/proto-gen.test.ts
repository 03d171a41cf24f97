import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, test } from 'vitest';

test('committed generated code matches the .proto files', () => {
  const root = join(import.meta.dirname, '..');
  const out = execFileSync(process.execPath, [join(root, 'scripts/proto-gen.ts'), '--check'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  expect(out).toContain('generated code is up to date');
}, 60_000);
