// Run by src/submit-path.test.ts in a plain Node process (native ESM: no test runner's module transform adding
// functions of its own): traces MsgGrpc.submit() down to the grpc-js call and prints the library functions that ran.
// Every function of libs/ that runs from submit() until grpc-js is asked for the call is recorded through V8's
// precise coverage with call counts, taken inside that grpc-js call. Generated protobuf code (gen/) is the wire
// encoding, not a hop, and is left out. Observability is off (the default): no tracer provider, no metrics.
import { Session } from 'node:inspector';
import { TransSvcService } from '@dtm-gozero/proto/trans';
import { Channel } from '@grpc/grpc-js';
import { closeConnections, MsgGrpc } from '../src/index.ts';

interface ScriptCoverage {
  url: string;
  functions: { functionName: string; ranges: { startOffset: number; count: number }[] }[];
}

const session = new Session();
session.connect();

/** The in-thread inspector answers synchronously, so the coverage can be taken inside the call it measures. */
function post<T>(method: string, params: object = {}): T {
  let out: { err: Error | null; res: T } | undefined;
  session.post(method, params, (err, res) => {
    out = { err, res: res as T };
  });
  if (!out) throw new Error(`inspector ${method} did not answer synchronously`);
  if (out.err) throw out.err;
  return out.res;
}

/** The file of a library script, relative to libs/; undefined for anything else (tests, gen/, dependencies). */
function libFile(url: string): string | undefined {
  const m = /\/libs\/([^?]+)$/.exec(decodeURIComponent(url));
  const f = m?.[1];
  if (!f || f.includes('/gen/') || f.includes('node_modules') || f.includes('/test/')) return undefined;
  return f;
}

post('Profiler.enable');
post('Profiler.startPreciseCoverage', { callCount: true, detailed: false });

let taken: ScriptCoverage[] | undefined;
let stack = '';
const createCall = Channel.prototype.createCall;
// The grpc-js boundary: the first call after a reset takes the coverage and the stack.
Channel.prototype.createCall = function (this: Channel, ...args: Parameters<Channel['createCall']>) {
  if (taken === undefined) {
    taken = post<{ result: ScriptCoverage[] }>('Profiler.takePreciseCoverage').result;
    stack = new Error('at the grpc-js call').stack ?? '';
  }
  return createCall.apply(this, args);
};

/** The library functions (`file name`) that ran from `msg.submit()` to the grpc-js call. */
async function tracedSubmit(dtm: string): Promise<string[]> {
  const msg = new MsgGrpc(dtm, `hops-${Date.now()}`).add('etcd://127.0.0.1:2379/trans', TransSvcService.transOut, {
    Amount: 30n,
    UserID: 1n,
  });
  msg.options.callTimeoutMs = 5000;
  post('Profiler.takePreciseCoverage'); // resets the counters: what follows is this submit only
  taken = undefined;
  // nothing listens on port 1: dtm's answer is not what is measured, only the path to the call
  await msg.submit().catch(() => undefined);
  // set by the createCall above, which TypeScript's narrowing cannot see
  const coverage = taken as ScriptCoverage[] | undefined;
  if (coverage === undefined) throw new Error('the submit never reached grpc-js');
  const hops: string[] = [];
  for (const script of coverage) {
    const file = libFile(script.url);
    if (!file) continue;
    for (const f of script.functions) {
      const top = f.ranges[0];
      // a module's top level (offset 0, no name) ran when it was imported, not in this window
      if (top && top.count > 0 && !(top.startOffset === 0 && f.functionName === '')) {
        hops.push(`${file} ${f.functionName || '(anonymous)'}`);
      }
    }
  }
  return hops.sort();
}

const cold = await tracedSubmit('127.0.0.1:1');
const coldStack = stack;
const warm = await tracedSubmit('127.0.0.1:1');
post('Profiler.stopPreciseCoverage');
session.disconnect();
closeConnections();
process.stdout.write(`${JSON.stringify({ cold, warm, stack: coldStack })}\n`);
