// `npm run trace -- <gid> [--jaeger http://localhost:16686] [-o trace-<gid>.html]`: the trace of one global
// transaction (found in Jaeger by the dtm.gid tag dtmgrpc puts on the caller's span), written as an HTML waterfall
// (the Jaeger that setup builds has no UI of its own: docs/observability.md).
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { findTraces } from './lib/observability.ts';
import { traceHtml } from './lib/trace-html.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    jaeger: { type: 'string', default: 'http://localhost:16686' },
    o: { type: 'string', short: 'o' },
    service: { type: 'string', default: 'app' },
  },
});
const gid = positionals[0];
if (!gid || positionals.length > 1) {
  console.error('usage: npm run trace -- <gid> [--jaeger http://localhost:16686] [--service app] [-o file.html]');
  process.exit(2);
}
try {
  const traces = await findTraces(values.jaeger as string, {
    service: values.service as string,
    tags: JSON.stringify({ 'dtm.gid': gid }),
  });
  const t = traces[0];
  if (!t) {
    throw new Error(
      `no trace with dtm.gid=${gid} from service ${values.service} in ${values.jaeger}; was Telemetry on (apps/app/etc/config-observe.yaml)?`,
    );
  }
  const out = resolve(process.env.INIT_CWD ?? process.cwd(), values.o ?? `trace-${gid}.html`);
  writeFileSync(out, traceHtml(t));
  console.log(`${t.spans.length} spans of trace ${t.traceID} → ${out}`);
} catch (err) {
  console.error(`trace: ${(err as Error).message}`);
  process.exit(1);
}
