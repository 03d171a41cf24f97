// The branch servers under test: our trans (from dist/ as production runs it, or from its sources, with the probe),
// go-zero's twin and the bare grpc-js server (bare-node.ts, with our trans's flags and the probe), each on a free port
// and registered in etcd.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Proc, root, start, tempFile } from '@dtm-gozero/devkit';
import { closeEtcdClients, Publisher } from '@dtm-gozero/gozero';
import { TransSvcService } from '@dtm-gozero/proto/trans';
import { startTrans, type Trans } from '../../../scripts/lib/twins.ts';
import { emitJs, probeScript, TransProbe } from './trans-probe.ts';

/**
 * How production runs trans (package.json's trans:prod and the Dockerfile say the same; trans.test.ts checks): the
 * compiled packages; semi-spaces of 4 MiB, so that a call's short-lived objects die young instead of being promoted;
 * and a 512 MiB old generation: under ~2 GiB V8 picks a small factor (~1.4×) for how far its heap may grow past the
 * live data between full GCs, instead of ~4× (V8's src/heap/heap-controller). With V8's default, the pages V8 kept
 * and the memory malloc'd outside its heap grew under steady load until RSS passed 390 MiB in 3 minutes. Chosen by
 * measurement (docs/performance-memory.md): at concurrency 64 the RSS peak fell from 157–184 to 118–126 MiB, and
 * over a soak it levels off. Live data beyond 512 MiB would end trans with V8's out-of-memory error; trans's is
 * ~16 MiB.
 */
export const PROD_NODE_ARGS = ['--conditions=dtm-gozero-dist', '--max-semi-space-size=4', '--max-old-space-size=512'];
export const TRANS_SOURCES = ['dist', 'src'] as const;
export type TransSource = (typeof TRANS_SOURCES)[number];
/** trans logs a line per call: keep only the tail of each child's output in memory. */
export const LOG_KEEP = 64 * 1024;

/** `npm run build` (incremental: seconds when nothing changed), so that our trans runs the current code from dist/. */
export function buildDist(): void {
  const r = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0)
    throw new Error(
      `npm run build failed (status ${r.status}${r.error ? `, ${r.error.message}` : ''}), so our trans cannot run from dist/; fix the build or pass --trans src:\n${r.stdout}${r.stderr}`,
    );
}

export interface TransRunOptions {
  source: TransSource;
  /** More Node/V8 flags for our trans (after PROD_NODE_ARGS when from dist/). */
  nodeOptions: string[];
  /** --cpu-prof DIR: our trans writes its profile under DIR/trans when it exits on SIGTERM. */
  cpuProf: string | undefined;
  /** More YAML for our trans (the xa bank's database). */
  yaml: string | undefined;
}

/** Starts the trans of each language for one run; our trans carries the probe, whose figures go to `probeFile`. */
export interface TransLauncher {
  /** The Node flags our trans runs with (the report records them). */
  nodeArgs: string[];
  probeFile: string;
  start(lang: 'ts' | 'go', hosts: string[], key: string): Promise<Trans>;
  /** The bare grpc-js server, registered under `key`; `stop` takes the registration back, then stops it. */
  startBare(hosts: string[], key: string): Promise<{ child: Proc; probe: TransProbe; stop(): Promise<void> }>;
}

export function transLauncher(o: TransRunOptions): TransLauncher {
  if (o.source === 'dist') buildDist();
  const probeFile = tempFile('trans-runtime.json', '{"seq":0}');
  const nodeArgs = [...(o.source === 'dist' ? PROD_NODE_ARGS : []), ...o.nodeOptions];
  const probe = pathToFileURL(probeScript()).href;
  return {
    nodeArgs,
    probeFile,
    start: (lang, hosts, key) =>
      lang === 'go'
        ? startTrans('go', hosts, key, { keep: LOG_KEEP })
        : startTrans('ts', hosts, key, {
            keep: LOG_KEEP,
            env: {
              BENCH_PROBE_FILE: probeFile,
              ...(o.cpuProf ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${o.cpuProf}/trans` } : {}),
            },
            yaml: o.yaml,
            nodeArgs: [...nodeArgs, '--import', probe],
            script: o.source === 'dist' ? join(root, 'apps/trans/dist/trans.js') : undefined,
          }),
    startBare: async (hosts, key) => {
      const file = tempFile('bare-runtime.json', '{"seq":0}');
      const paths = Object.values(TransSvcService).map((m) => m.path);
      const child = start(
        'bare grpc-js server',
        process.execPath,
        [
          ...nodeArgs,
          '--import',
          probe,
          emitJs('bare-node.ts', 'bare-node.mjs'),
          import.meta.resolve('@grpc/grpc-js'),
          ...paths,
        ],
        { env: { BENCH_PROBE_FILE: file }, keep: LOG_KEEP },
      );
      let pub: Publisher | undefined;
      const stop = async (): Promise<void> => {
        // etcd may be gone already: the lease then ends with its TTL.
        await pub?.stop().catch(() => undefined);
        closeEtcdClients();
        await child.stop();
      };
      try {
        const serving = /Starting rpc server at (\S+)\.\.\./;
        await child.waitFor(serving, 15_000);
        const addr = serving.exec(child.stdout())?.[1] as string;
        // As go-zero's Publisher registers a trans: <key>/<lease id> = host:port, on a 10 s lease kept alive.
        pub = new Publisher({ Hosts: hosts, Key: key }, addr);
        await pub.keepAlive();
      } catch (err) {
        await stop();
        throw err;
      }
      return { child, probe: new TransProbe(child.pid, file, 'the bare grpc-js server'), stop };
    },
  };
}
