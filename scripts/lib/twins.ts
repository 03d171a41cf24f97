// The TypeScript apps and their Go twins under interop/ (go-zero trans, dtm Go client app), started the same way.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { bin, eventually, freePort, type Proc, root, start, tempFile, until } from '@dtm-gozero/devkit';
import { Etcd3 } from 'etcd3';

/** `go`: the twins built with go-zero v1.4 (dtm's); `go110`: the same sources built with go-zero v1.10. */
export type Lang = 'ts' | 'go' | 'go110';

/** The Go twin binary `name` (go-trans, go-app) of the go-zero build `lang` names. */
const goBin = (name: string, lang: Lang): string => join(bin, lang === 'go110' ? `${name}-v110` : name);

/** Builds the Go twins and the go-zero client (cached: a no-op when nothing changed); throws with the build's output. */
export function buildGo(): string {
  const lines: string[] = [];
  for (const script of ['interop/gozero/build.sh', 'interop/go-client/build.sh']) {
    const r = spawnSync('bash', [join(root, script)], { cwd: root, encoding: 'utf8', timeout: 900_000 });
    if (r.status !== 0)
      throw new Error(`${script} failed (status ${r.status}, ${r.error ?? r.signal ?? ''}):\n${r.stdout}\n${r.stderr}`);
    lines.push(r.stdout.trim());
  }
  return lines.join('\n');
}

/** Resolves once something is registered under `key/` in etcd. */
export async function waitRegistered(hosts: string[], key: string, ms = 10_000): Promise<string[]> {
  const etcd = new Etcd3({ hosts: hosts.map((h) => `http://${h}`), dialTimeout: 2000 });
  try {
    return await eventually(
      async () => {
        const vals = Object.values(await etcd.getAll().prefix(`${key}/`).strings());
        return vals.length > 0 ? vals : undefined;
      },
      ms,
      `something registered under ${key}/ in etcd ${hosts.join(',')}`,
      50,
    );
  } finally {
    etcd.close();
  }
}

export interface Trans {
  child: Proc;
  port: number;
  lang: Lang;
}

/** apps/trans (ts) or interop/gozero/trans (go) on a free port, registered under `key`; resolves once registered. */
export async function startTrans(
  lang: Lang,
  hosts: string[],
  key: string,
  opts: {
    keep?: number | undefined;
    env?: NodeJS.ProcessEnv | undefined;
    /** More YAML for the config (e.g. the bank's `Mysql:\n  DataSource: …`). */
    yaml?: string | undefined;
    /** ts: Node flags before the script, and the script (default: the sources, apps/trans/src/trans.ts). */
    nodeArgs?: string[] | undefined;
    script?: string | undefined;
  } = {},
): Promise<Trans> {
  const { keep, env } = opts;
  const port = await freePort();
  const config = tempFile('trans.yaml', gozeroYaml(hosts, key, `127.0.0.1:${port}`) + (opts.yaml ?? ''));
  const child =
    lang === 'ts'
      ? start(
          `ts trans :${port}`,
          process.execPath,
          [...(opts.nodeArgs ?? []), opts.script ?? join(root, 'apps/trans/src/trans.ts'), '-f', config],
          {
            cwd: join(root, 'apps/trans'),
            keep,
            env,
          },
        )
      : start(`${lang} trans :${port}`, goBin('go-trans', lang), ['-f', config], { keep });
  await child.waitFor(/Starting rpc server at/, 20_000);
  // Both print the banner around registration (go-zero: before it): wait for this instance's address.
  await until(
    async () => (await waitRegistered(hosts, key, 10_000)).includes(`127.0.0.1:${port}`),
    10_000,
    `${child.name}: 127.0.0.1:${port} registered under ${key}/`,
  );
  return { child, port, lang };
}

export interface DtmAddrs {
  dtmTarget: string;
  dtmHttp: string;
}

/** apps/app (ts) or interop/gozero/app (go), default run (msg + tcc) against trans under `key`. */
export function runApp(lang: Lang, hosts: string[], key: string, dtm: DtmAddrs): Proc {
  const config = tempFile('config.yaml', gozeroYaml(hosts, key));
  const args = ['-f', config, '--dtm', dtm.dtmTarget, '--dtm-http', dtm.dtmHttp];
  return lang === 'ts'
    ? start('ts app', process.execPath, [join(root, 'apps/app/src/main.ts'), ...args], { cwd: join(root, 'apps/app') })
    : start(`${lang} app`, goBin('go-app', lang), args);
}

const STAMPED = /^\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2} (.*)$/;

/** trans's log.Printf lines without their timestamps; throws on a line that is not one (a stray message). */
export function transcript(stderr: string): string[] {
  return (
    stderr
      .split('\n')
      // go-zero's own logx lines (JSON, e.g. a slowcall on a loaded machine) are not the example's transcript
      .filter((l) => l !== '' && !l.startsWith('{"@timestamp"'))
      .map((l) => {
        const m = STAMPED.exec(l);
        if (!m) throw new Error(`not a log.Printf line: ${JSON.stringify(l)}`);
        return m[1] as string;
      })
  );
}

/** A go-zero YAML: `Etcd` with these hosts and key, plus ListenOn when given (a server's config). */
export function gozeroYaml(hosts: string[], key: string, listenOn?: string): string {
  const h = hosts.map((x) => `    - ${x}\n`).join('');
  return `${listenOn ? `Name: trans.rpc\nListenOn: ${listenOn}\n` : ''}Etcd:\n  Hosts:\n${h}  Key: ${key}\n`;
}
