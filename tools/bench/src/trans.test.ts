import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from '@dtm-gozero/devkit';
import { expect, test } from 'vitest';
import { PROD_NODE_ARGS } from './trans.ts';

test('production runs trans with the flags the bench measures: package.json trans:prod and the Dockerfile agree', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  expect(pkg.scripts['trans:prod']).toContain(`${PROD_NODE_ARGS.join(' ')} apps/trans/dist/trans.js`);
  const cmd = /^CMD (\[.*"apps\/trans\/dist\/trans\.js".*\])$/m.exec(readFileSync(join(root, 'Dockerfile'), 'utf8'));
  expect(cmd, 'the Dockerfile starts apps/trans/dist/trans.js').not.toBeNull();
  expect(JSON.parse(cmd?.[1] as string)).toEqual([
    'node',
    ...PROD_NODE_ARGS,
    'apps/trans/dist/trans.js',
    '-f',
    'apps/trans/etc/trans.yaml',
  ]);
});
