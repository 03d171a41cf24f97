// Tracing and metrics on a real RpcServer and newRpcClient (in-process, no etcd): go-zero's span names,
// attributes and parent links through W3C traceparent/baggage; go-zero's metric names on the DevServer; a taken
// DevServer port; an unreachable collector.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { freePort, tempFile } from '@dtm-gozero/devkit';
import { TransSvcService } from '@dtm-gozero/proto/trans';
import { type Client, type ServerUnaryCall, type sendUnaryData, status } from '@grpc/grpc-js';
import { context, propagation, trace } from '@opentelemetry/api';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, expect, test } from 'vitest';
import type { RpcServerConf } from '../conf/config.ts';
import { telemetryConf } from '../conf/observability.ts';
import { DevServerError } from '../devserver/server.ts';
import { newRpcClient } from '../zrpc/client.ts';
import { RpcServer } from '../zrpc/server.ts';
import { activeTraceHeaders, createExporter, currentTraceIds, flushAgent, WarningExporter } from './agent.ts';

const spansFile = tempFile('spans.jsonl', '');
const seen: { baggage?: string; ids?: { trace: string; span: string } | undefined }[] = [];
const handler = (call: ServerUnaryCall<{ Amount: bigint }, unknown>, cb: sendUnaryData<unknown>): void => {
  seen.push({
    baggage: propagation.getBaggage(context.active())?.getEntry('user')?.value,
    ids: currentTraceIds(),
  });
  if (call.request.Amount > 100n) cb({ code: status.ABORTED, details: 'FAILURE' });
  else cb(null, {});
};

function conf(port: number, devPort: number): RpcServerConf {
  return {
    Name: 'trans.rpc',
    ListenOn: `127.0.0.1:${port}`,
    Mode: 'test',
    Timeout: 2000,
    Telemetry: telemetryConf({ Name: 'trans.rpc', Endpoint: spansFile, Batcher: 'file' }),
    DevServer: {
      Enabled: true,
      Host: '127.0.0.1',
      Port: devPort,
      MetricsPath: '/metrics',
      HealthPath: '/healthz',
      EnableMetrics: true,
      EnablePprof: true,
      HealthResponse: 'OK',
    },
  };
}

const register = (s: import('@grpc/grpc-js').Server) =>
  s.addService(TransSvcService, { transIn: handler, transOut: handler });

function transOut(client: Client, amount: bigint): Promise<void> {
  return new Promise((resolve, reject) =>
    client.makeUnaryRequest(
      TransSvcService.transOut.path,
      TransSvcService.transOut.requestSerialize,
      TransSvcService.transOut.responseDeserialize,
      { Amount: amount, UserID: 1n },
      (err) => (err ? reject(err) : resolve()),
    ),
  );
}

interface FileSpan {
  Name: string;
  SpanContext: { TraceID: string; SpanID: string };
  Parent: { SpanID: string };
  SpanKind: number;
  Attributes: Record<string, unknown>;
  Status: { code: number; message?: string };
  Resource: Record<string, unknown>;
}

const [port, devPort] = [await freePort(), await freePort()];
const server = new RpcServer(conf(port, devPort), register);
await server.start();
const client = await newRpcClient({ Endpoints: [`127.0.0.1:${port}`], NonBlock: false, Timeout: 2000 });
afterAll(async () => {
  client.close();
  await server.stop(500);
});

test('one trace: caller span → client span → server span, with go-zero names and attributes; baggage arrives', async () => {
  const bag = propagation.createBaggage({ user: { value: 'u1' } });
  let traceId = '';
  let headers: Record<string, string> = {};
  await context.with(propagation.setBaggage(context.active(), bag), () =>
    trace.getTracer('test').startActiveSpan('app', async (root) => {
      traceId = root.spanContext().traceId;
      headers = activeTraceHeaders();
      await transOut(client, 1n);
      await expect(transOut(client, 1000n)).rejects.toMatchObject({ code: status.ABORTED });
      root.end();
    }),
  );
  expect(headers.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
  expect(headers.baggage).toBe('user=u1');
  expect(seen.map((s) => s.baggage)).toEqual(['u1', 'u1']);
  expect(seen[0]?.ids?.trace).toBe(traceId);

  await flushAgent(); // the batch into the file
  const spans = readFileSync(spansFile, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as FileSpan);
  const byKind = (kind: number) => spans.filter((s) => s.SpanKind === kind);
  const [srvOk, srvFail] = byKind(1); // SERVER
  const [cliOk, cliFail] = byKind(2); // CLIENT
  const root = spans.find((s) => s.Name === 'app');
  for (const s of [srvOk, srvFail, cliOk, cliFail, root]) expect(s?.SpanContext.TraceID).toBe(traceId);
  expect(srvOk?.Name).toBe('trans.TransSvc/TransOut');
  expect(srvOk?.Attributes).toMatchObject({
    'rpc.system': 'grpc',
    'rpc.service': 'trans.TransSvc',
    'rpc.method': 'TransOut',
    'rpc.grpc.status_code': 0,
    'net.peer.ip': '127.0.0.1',
  });
  expect(srvOk?.Resource['service.name']).toBe('trans.rpc');
  expect(srvOk?.Parent.SpanID).toBe(cliOk?.SpanContext.SpanID);
  expect(cliOk?.Parent.SpanID).toBe(root?.SpanContext.SpanID);
  expect(srvFail?.Attributes['rpc.grpc.status_code']).toBe(status.ABORTED);
  expect(srvFail?.Status).toMatchObject({ code: 2, message: 'FAILURE' }); // SpanStatusCode.ERROR
  expect(cliFail?.Status).toMatchObject({ code: 2, message: 'FAILURE' });
});

test("DevServer: go-zero's metric names, labels and buckets; /healthz, the route list and a CPU profile", async () => {
  const base = `http://127.0.0.1:${devPort}`;
  const text = await (await fetch(`${base}/metrics`)).text();
  const m = 'method="/trans.TransSvc/TransOut"';
  expect(text).toContain(`rpc_server_requests_code_total{${m},code="0"} 1`);
  expect(text).toContain(`rpc_server_requests_code_total{${m},code="10"} 1`);
  expect(text).toContain(`rpc_client_requests_code_total{${m},code="0"} 1`);
  for (const le of [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2000, 5000]) {
    expect(text).toContain(`rpc_server_requests_duration_ms_bucket{le="${le}",${m}}`);
  }
  expect(text).toContain('rpc_client_requests_duration_ms_count{method="/trans.TransSvc/TransOut"} 2');
  expect(text).toContain('process_cpu_user_seconds_total');
  const health = await fetch(`${base}/healthz`);
  expect([health.status, await health.text()]).toEqual([200, 'OK']);
  expect(await (await fetch(base)).json()).toEqual([
    '/',
    '/healthz',
    '/metrics',
    '/debug/pprof/heap',
    '/debug/pprof/profile',
  ]);
  const prof = (await (await fetch(`${base}/debug/pprof/profile?seconds=0.2`)).json()) as { nodes: unknown[] };
  expect(prof.nodes.length).toBeGreaterThan(0);
  expect((await fetch(`${base}/debug/pprof/profile?seconds=-1`)).status).toBe(400);
});

test('a taken DevServer port: a clear error naming DevServer.Port, and the gRPC port is not left bound', async () => {
  const [p, taken] = [await freePort(), await freePort()];
  const blocker = createServer().listen(taken, '127.0.0.1');
  await new Promise((r) => blocker.once('listening', r));
  try {
    const s = new RpcServer({ ...conf(p, taken), Telemetry: undefined }, register);
    const err = await s.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DevServerError);
    expect((err as Error).message).toBe(
      `DevServer.Port ${taken}: the port is already in use (127.0.0.1:${taken}); stop the other process or set another DevServer.Port (or DevServer.Enabled: false)`,
    );
    const probe = createServer().listen(p, '127.0.0.1');
    await new Promise((resolve, reject) => probe.once('listening', resolve).once('error', reject));
    probe.close();
  } finally {
    blocker.close();
  }
});

test('an unreachable collector: one warning naming Batcher and Endpoint, then at most one a minute', async () => {
  const closed = await freePort();
  const lines: string[] = [];
  const exporter = new WarningExporter(
    createExporter(telemetryConf({ Name: 'x', Endpoint: `127.0.0.1:${closed}` })),
    `otlpgrpc 127.0.0.1:${closed}`,
    (l) => lines.push(l),
  );
  const span = new TracerProvider().getTracer('t').startSpan('s');
  span.end();
  const exportOnce = () => new Promise<number>((r) => exporter.export([span as never], (res) => r(res.code)));
  expect(await exportOnce()).toBe(1); // FAILED
  expect(await exportOnce()).toBe(1);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(
    new RegExp(
      `^telemetry: cannot export spans to otlpgrpc 127\\.0\\.0\\.1:${closed} \\(.+\\); 1 span\\(s\\) dropped so far, the service keeps serving — check Telemetry\\.Endpoint`,
    ),
  );
  await exporter.shutdown();
}, 60_000);
