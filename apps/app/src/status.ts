import { bankSourceOf } from '@dtm-gozero/bank';
import { registerResolvers } from '@dtm-gozero/gozero';
import { Client, credentials, status as grpcStatus, type MethodDefinition } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';

/**
 * Asks dtm's HTTP API for a transaction's status until it is final (`succeed` or `failed`), within `ms`; returns
 * the last status seen. `dtmHttp` may list several instances, comma-separated (a dtm cluster shares one store, so
 * any instance answers for every gid): one that does not answer is skipped for the next. Throws, naming the fix, when
 * none answers or one is not dtm's: the printed status is what dtm stored, never a guess.
 */
export async function queryFinalStatus(dtmHttp: string, gid: string, ms = 15_000): Promise<string> {
  const urls = dtmHttp
    .split(',')
    .map((u) => u.trim().replace(/\/+$/, ''))
    .filter((u) => u !== '');
  const end = Date.now() + ms;
  let last = 'unknown';
  const unusable = (at: string, why: string, cause?: unknown): Error =>
    new Error(
      `dtm's HTTP API at ${at} ${why}, so the status of ${gid} cannot be read; pass --dtm-http <url>[,<url>…] ` +
        "(or DTM_HTTP) with dtm's HttpPort, e.g. http://localhost:36789",
      { cause },
    );
  if (urls.length === 0) throw unusable(JSON.stringify(dtmHttp), 'is not a URL');
  let at = 0; // the instance that answered last: asked first next time
  while (Date.now() < end) {
    let res: Response | undefined;
    const refused: string[] = [];
    for (let i = 0; i < urls.length && res === undefined; i++) {
      const url = urls[(at + i) % urls.length] as string;
      try {
        res = await fetch(`${url}/api/dtmsvr/query?gid=${encodeURIComponent(gid)}`, {
          signal: AbortSignal.timeout(3000),
        });
        at = (at + i) % urls.length;
      } catch (err) {
        // fetch says only "fetch failed"; its cause names the reason (ECONNREFUSED, ENOTFOUND, "bad port"…).
        const e = err as Error & { cause?: { code?: string; message?: string } };
        refused.push(e.cause?.code ?? e.cause?.message ?? e.message);
        if (refused.length === urls.length)
          throw unusable(urls.join(', '), `does not answer (${refused.join('; ')})`, err);
      }
    }
    const answered = urls[at] as string;
    let body: { transaction?: { status?: string } | null };
    try {
      if (!res?.ok) throw new Error(`HTTP ${res?.status}`);
      body = (await res.json()) as { transaction?: { status?: string } | null };
    } catch (err) {
      throw unusable(answered, `answers, but not as dtm's query API (${(err as Error).message})`, err);
    }
    last = body.transaction?.status ?? 'unknown';
    if (last === 'succeed' || last === 'failed') return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  return last;
}

/**
 * The final status, from dtm's HTTP API or, when that API does not answer, from what Submit/Abort answered: every
 * mode sets WaitResult, so an OK Submit means dtm finished the transaction `succeed`, and a FAILURE means it rolled
 * it back (`failed`). Only when neither tells does it throw: then the money's fate is unknown here, and the message
 * says so. The app's exit code must follow the money, not the availability of a read-only API.
 */
export async function finalStatus(
  dtmHttp: string,
  gid: string,
  answered: 'succeed' | 'failed' | undefined,
  ms?: number,
): Promise<string> {
  try {
    return await queryFinalStatus(dtmHttp, gid, ms);
  } catch (err) {
    if (answered === undefined) {
      throw new OutcomeUnknown(
        `${(err as Error).message}; dtm's gRPC answer did not say either, so the outcome of ${gid} is unknown here`,
        {
          cause: err,
        },
      );
    }
    console.error(
      `app: ${(err as Error).message}; printing ${answered}, dtm's answer to the call (WaitResult: dtm finished the transaction)`,
    );
    return answered;
  }
}

/** Neither dtm's HTTP API nor its gRPC answer told how a transaction ended: exit code 3, not "failed". */
export class OutcomeUnknown extends Error {}

// grpc.health.v1.Health/Check for one service name: trans reports `trans.Bank` SERVING when it keeps balances. The
// messages are grpc-health-check's definition (protobufjs), not bytes encoded by hand.
const BANK_HEALTH = 'trans.Bank';
const healthCheck = healthService.Check as MethodDefinition<{ service: string }, { status: string }>;

/**
 * Whether the trans behind `target` keeps balances (a database in its YAML). A trans that only logs would take a
 * credit and drop it, so the money-moving commands ask first, before anything is debited. Throws when trans cannot
 * tell (health service off, no answer within 3 s).
 */
export async function transKeepsBalances(target: string): Promise<boolean> {
  registerResolvers();
  const client = new Client(target, credentials.createInsecure());
  try {
    const status = await new Promise<string>((resolve, reject) => {
      client.makeUnaryRequest(
        healthCheck.path,
        healthCheck.requestSerialize,
        healthCheck.responseDeserialize,
        { service: BANK_HEALTH },
        { deadline: Date.now() + 3000 },
        (err, v) => (err ? reject(err) : resolve(v?.status ?? 'UNKNOWN')),
      );
    });
    return status === 'SERVING';
  } catch (err) {
    const e = err as { code?: number; details?: string; message?: string };
    if (e.code === grpcStatus.NOT_FOUND) return false; // an older or log-only trans: no such service name
    const code = e.code === undefined ? '' : `${grpcStatus[e.code] ?? e.code}: `;
    throw new Error(
      `cannot tell whether trans at ${target} keeps balances (grpc.health.v1.Health/Check: ${code}${e.details ?? e.message}); ` +
        'nothing was moved — start trans as the bank (`npm run trans -- -f apps/trans/etc/bank.yaml`), with its ' +
        'health service on (Health: true, the default)',
      { cause: err },
    );
  } finally {
    client.close();
  }
}

/** The bank's database from trans's YAML; a file that cannot be read is named as the flag that gave it. */
export function bankSource(file: string, defaultBank: string): ReturnType<typeof bankSourceOf> {
  try {
    return bankSourceOf(file);
  } catch (err) {
    if (!(err instanceof Error)) throw err;
    throw new Error(
      err.message.replace('with -f <file>', `with --bank <file> (trans's YAML, default ${defaultBank})`),
      {
        cause: err,
      },
    );
  }
}

/**
 * Refuses, before any money moves, a transfer through a trans that only logs: it would take the credit (and the
 * debit) and drop them, while the app's msg step or dtm's success say the money moved.
 */
export async function requireBank(busiServer: string): Promise<void> {
  if (!(await transKeepsBalances(busiServer))) {
    throw new Error(
      `trans at ${busiServer} keeps no balances (no Mysql or Postgres section in its YAML: it only logs), so it ` +
        'would drop the credit; nothing was moved — start trans as the bank with ' +
        '`npm run trans -- -f apps/trans/etc/bank.yaml` (the same database as --bank)',
    );
  }
}
