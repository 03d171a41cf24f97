import { type ChildProcess, spawn } from 'node:child_process';
import { childEnv } from './child-env.ts';

/**
 * Spawns a server of the fixture (clean environment, stdin and stdout ignored): each stderr line goes to `log`
 * as `[name] …`, and the last `keep` lines stay in `tail` for the error when it dies before it is ready.
 */
export function spawnLogged(
  bin: string,
  args: string[],
  o: { cwd: string; name: string; tail: string[]; keep: number; log: (line: string) => void },
): { proc: ChildProcess; exited: Promise<void> } {
  const proc = spawn(bin, args, { cwd: o.cwd, env: childEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  let partial = '';
  proc.stderr?.on('data', (d: Buffer) => {
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      o.tail.push(line);
      if (o.tail.length > o.keep) o.tail.shift();
      o.log(`[${o.name}] ${line}`);
    }
  });
  return { proc, exited };
}
