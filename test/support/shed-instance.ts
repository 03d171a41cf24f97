// A TransSvc server in a process of its own for the load-shedding test: node shed-instance.ts <port> <Mode> <CpuThreshold>
// TransOut answers after Amount ms; TransIn sets how many worker threads spin (Amount; 0 stops them): the CPU
// burn is in this process, whose CPU the shedder reads.
import { Worker } from 'node:worker_threads';
import { RpcServer } from '@dtm-gozero/gozero';
import { type AdjustInfo, TransSvcService } from '@dtm-gozero/proto/trans';
import type { ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';

const [port, mode, threshold] = process.argv.slice(2) as [string, string, string];
let burners: Worker[] = [];

const transOut = (call: ServerUnaryCall<AdjustInfo, unknown>, cb: sendUnaryData<unknown>): void => {
  setTimeout(() => cb(null, {}), Number(call.request.Amount));
};
const transIn = (call: ServerUnaryCall<AdjustInfo, unknown>, cb: sendUnaryData<unknown>): void => {
  const want = Number(call.request.Amount);
  for (const w of burners.splice(want)) void w.terminate();
  while (burners.length < want) burners.push(new Worker('for (;;) {}', { eval: true }));
  cb(null, {});
};

const s = new RpcServer(
  { Name: 'shed', ListenOn: `127.0.0.1:${port}`, Mode: mode, Timeout: 0, CpuThreshold: Number(threshold) },
  (server) => server.addService(TransSvcService, { transOut, transIn }),
);
process.once('SIGTERM', () => {
  for (const w of burners) void w.terminate();
  burners = [];
  void s.stop(0).finally(() => process.exit(0));
});
await s.start();
console.log('serving');
