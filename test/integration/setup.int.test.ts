import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { root } from '@dtm-gozero/devkit';
import { expect, test } from 'vitest';

// `npm run setup` names the dtm it installed, and it is the version the README promises.
test('npm run setup reports dtm v1.19.0 and kube-apiserver v1.37.2, and the binaries say so themselves', () => {
  const out = execFileSync('bash', [join(root, 'scripts/setup.sh')], {
    env: { ...process.env, SETUP_SKIP_DB: '1' },
    encoding: 'utf8',
    timeout: 600_000,
  });
  expect(out).toMatch(/^dtm version: v1\.19\.0$/m);
  expect(execFileSync(join(root, '.cache/bin/dtm'), ['-v'], { encoding: 'utf8' })).toMatch(/^dtm version: v1\.19\.0$/m);
  // …and the kube-apiserver of the Kubernetes tests (scripts/setup-kube.sh), built or taken from the cache.
  expect(out).toMatch(/kube-apiserver: .*kube-apiserver already built|^Kubernetes v1\.37\.2$/m);
  expect(execFileSync(join(root, '.cache/bin/kube-apiserver'), ['--version'], { encoding: 'utf8' }).trim()).toBe(
    'Kubernetes v1.37.2',
  );
}, 600_000);
