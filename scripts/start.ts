// `npm start`: etcd, dtm and trans in the foreground under concurrently. Ctrl-C stops trans first (it revokes
// its etcd registration), then etcd and dtm. Servers that already answer (e.g. after `npm run stack:up`) are
// reused, not started twice.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import {
  type Command,
  type ConcurrentlyCommandInput,
  createConcurrently,
  KillOthers,
  LogError,
  LogExit,
  Logger,
  LogOutput,
} from 'concurrently';

const root = join(import.meta.dirname, '..');
const stack = join(root, 'scripts/stack.sh');

const answers = (url: string, want: string): boolean => {
  try {
    const body = execFileSync('curl', ['-fsS', '-m', '2', url], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return body.includes(want);
  } catch {
    return false;
  }
};

// etcd and dtm run in sessions of their own (setsid), so the terminal's Ctrl-C reaches only trans; they are
// stopped once trans has exited, so that trans can still reach etcd to deregister.
const inputs: ConcurrentlyCommandInput[] = [];
if (!answers('http://127.0.0.1:2379/health', '"health":"true"')) {
  inputs.push({ name: 'etcd', command: `setsid bash ${stack} etcd`, prefixColor: 'blue' });
}
if (!answers('http://127.0.0.1:36789/api/ping', 'pong')) {
  inputs.push({ name: 'dtm', command: `setsid bash ${stack} dtm`, prefixColor: 'magenta' });
}
// trans waits until dtm is registered, so that `npm run app` works as soon as trans prints its banner.
inputs.push({ name: 'trans', command: `bash ${stack} wait && npm run --silent trans`, prefixColor: 'green' });

/** On SIGINT/SIGTERM/SIGHUP, stop trans only; KillOthers then stops the rest when trans exits. */
const stopTransFirst = {
  handle(commands: Command[]) {
    const trans = commands.find((c) => c.name === 'trans');
    const onSignal = (): void => trans?.kill('SIGTERM');
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, onSignal);
    return { commands };
  },
};

const logger = new Logger({ prefixFormat: 'name' });
const { result } = createConcurrently(inputs, {
  cwd: root,
  logger,
  outputStream: process.stdout,
  prefixColors: [],
  controllers: [
    new LogError({ logger }),
    new LogOutput({ logger }),
    new LogExit({ logger }),
    stopTransFirst,
    new KillOthers({ logger, conditions: ['success', 'failure'], killSignal: 'SIGTERM' }),
  ],
});
result.then(
  () => process.exit(0),
  (closed: { name: string; exitCode: number | string }[]) => {
    const trans = closed.find((c) => c.name === 'trans');
    process.exit(trans?.exitCode === 0 ? 0 : 1);
  },
);
