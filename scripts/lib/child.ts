// The process runner as scripts/bench.ts and the helpers it shares (twins.ts, observability.ts) know it: the one
// runner of @dtm-gozero/devkit, with the child process also under its old name `proc`. Once the bench has moved to
// tools/bench, point these at @dtm-gozero/devkit (`.proc` → `.child`) and delete this file.
import type { ChildProcess } from 'node:child_process';
import { type Proc, type StartOptions, start as startProc } from '@dtm-gozero/devkit';

export { bin, freePort, root, tempFile } from '@dtm-gozero/devkit';

export type Child = Proc & { readonly proc: ChildProcess };

export function start(name: string, cmd: string, args: string[], opts: StartOptions = {}): Child {
  const p = startProc(name, cmd, args, opts);
  return { ...p, proc: p.child };
}
