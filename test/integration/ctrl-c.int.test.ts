// Ctrl-C at any moment of `bash scripts/demo.sh` and of `npm start` leaves nothing running and says what it stopped
// (issue #18): a first run measures how long the command takes, then one run per 0.5 s step across that time gets
// SIGINT delivered to its whole process group, as a terminal does. After each: every port of the run is free and each
// server the output says was started is also said to be stopped. Both run on free ports in folders of their own
// (stack.sh's STACK_* and DTM_CONF, the demo's DEMO_*_YAML, the app's DTM_TARGET / DTM_HTTP), so neither touches
// the fixed-port stack of `npm run stack:up` nor another test. CTRL_C_STEP_MS widens the step for a quicker run.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, freePorts, type Proc, root, runCommand } from '@dtm-gozero/devkit';
import { listeners } from '@dtm-gozero/devkit/docker';
import { afterAll, expect, test } from 'vitest';

const STEP_MS = Number(process.env.CTRL_C_STEP_MS) || 500;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A stack on free ports in a folder of its own: the env that moves stack.sh, dtm, trans and the app there. */
async function freeStack(): Promise<{ env: NodeJS.ProcessEnv; ports: number[]; transYaml: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'dtm-gozero-ctrl-c-'));
  dirs.push(dir);
  const ports = await freePorts(5);
  const [etcd, peer, http, grpc, trans] = ports as [number, number, number, number, number];
  const conf = readFileSync(join(root, 'infra/dtm/config.yml'), 'utf8')
    .replaceAll('etcd://localhost:2379/', `etcd://localhost:${etcd}/`)
    .replace('EndPoint: localhost:36790', `EndPoint: localhost:${grpc}`)
    .replace('HttpPort: 36789', `HttpPort: ${http}`)
    .replace('GrpcPort: 36790', `GrpcPort: ${grpc}`);
  const etcdYaml = `Etcd:\n  Hosts:\n    - 127.0.0.1:${etcd}\n  Key: trans\n`;
  writeFileSync(join(dir, 'dtm.yml'), conf);
  writeFileSync(join(dir, 'trans.yaml'), `Name: trans.rpc\nListenOn: 127.0.0.1:${trans}\n${etcdYaml}`);
  writeFileSync(join(dir, 'app.yaml'), etcdYaml);
  const env = {
    STACK_DIR: join(dir, 'stack'),
    DTM_CONF: join(dir, 'dtm.yml'),
    STACK_ETCD_PORT: String(etcd),
    STACK_ETCD_PEER_PORT: String(peer),
    DTM_TARGET: `etcd://localhost:${etcd}/dtmservice`,
    DTM_HTTP: `http://127.0.0.1:${http}`,
    DEMO_TRANS_YAML: join(dir, 'trans.yaml'),
    DEMO_APP_YAML: join(dir, 'app.yaml'),
  };
  return { env, ports, transYaml: join(dir, 'trans.yaml') };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolves once every writer of the command's output is gone (npm may exit before the script it ran). */
const outputClosed = (p: Proc): Promise<void> =>
  eventually(
    async () => (p.child.stdout?.closed && p.child.stderr?.closed ? true : undefined),
    90_000,
    'output closed',
  ).then(() => undefined);

type Command = (s: Awaited<ReturnType<typeof freeStack>>) => [string, string[]];
const demo: Command = () => ['bash', ['scripts/demo.sh']];
const npmStart: Command = (s) => ['npm', ['start', '--', '-f', s.transYaml]];

/** Runs the command, sends SIGINT to its group after `ms` (unless it ended first), checks what it leaves behind. */
async function interruptAt(command: Command, ms: number): Promise<string> {
  const s = await freeStack();
  const [cmd, args] = command(s);
  const p = runCommand(cmd, args, root, s.env, `${cmd} ${args.join(' ')}`, { group: true });
  const end = Date.now() + ms;
  while (Date.now() < end && p.child.exitCode === null) await sleep(20);
  const interrupted = p.child.exitCode === null;
  if (interrupted) process.kill(-(p.child.pid as number), 'SIGINT');
  await p.exited(90_000);
  await outputClosed(p);
  const out = p.stdout() + p.stderr();
  const at = `${cmd} interrupted at ${ms} ms:\n${out}`;
  const busy = s.ports.filter((port) => listeners().has(port));
  expect(busy, at).toEqual([]);
  for (const server of ['etcd', 'dtm']) {
    if (new RegExp(`^${server}: started`, 'm').test(out))
      expect(out, at).toMatch(new RegExp(`^${server}: stopped`, 'm'));
  }
  // Interrupted while trans ran (the demo stops trans itself before it prints trans's transcript: after that, the
  // Ctrl-C meets only the demo's own cleanup).
  if (interrupted && /Starting rpc server at/.test(out) && !/==> trans printed/.test(out))
    expect(out, at).toMatch(/trans stopped/);
  return out;
}

test('demo.sh: Ctrl-C at every 0.5 s of a whole run leaves no server and says what it stopped', async () => {
  const t0 = Date.now();
  const whole = await interruptAt(demo, 600_000); // the uninterrupted run: how long the demo takes
  expect(whole).toMatch(/demo: stopped what it started \(dtm etcd\)/);
  const total = Date.now() - t0;
  for (let ms = 0; ms < total; ms += STEP_MS) await interruptAt(demo, ms);
}, 1_800_000);

test('npm start: Ctrl-C at every 0.5 s until trans serves leaves no server and says what it stopped', async () => {
  // How long until trans serves: the run is then interrupted there too.
  const s = await freeStack();
  const [cmd, args] = npmStart(s);
  const t0 = Date.now();
  const p = runCommand(cmd, args, root, s.env, 'npm start', { group: true });
  await p.waitFor(/Starting rpc server at/, 120_000);
  const total = Date.now() - t0;
  process.kill(-(p.child.pid as number), 'SIGINT');
  await p.exited(90_000);
  await outputClosed(p);
  expect(p.stdout() + p.stderr()).toMatch(/npm start: stopped dtm and etcd/);
  for (let ms = 0; ms <= total + STEP_MS; ms += STEP_MS) await interruptAt(npmStart, ms);
}, 1_800_000);
