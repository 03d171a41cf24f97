// The bench's bare grpc-js server, the Node counterpart of go-ceiling: every method of trans.proto's TransSvc answered
// at once with an empty message, no go-zero interceptors, no logging, no etcd client (the bench registers it). What a
// Node process with grpc-js costs before any code of ours: its CPU per call and RSS beside our trans's show how much
// of our trans is ours and how much is the platform's (issue #22).
//
// Run as JavaScript the bench emits (node:module's stripTypeScriptTypes), with the Node flags of our trans, so that it
// loads no type stripping: `node bare-node.mjs <file URL of @grpc/grpc-js> <method path>…`. Only node: built-ins
// are imported here; grpc-js comes from the URL, because the emitted file lives outside the repository.
import type * as Grpc from '@grpc/grpc-js';

const [grpcUrl, ...paths] = process.argv.slice(2);
if (!grpcUrl || paths.length === 0) {
  process.stderr.write('usage: node bare-node.mjs <file URL of @grpc/grpc-js> </package.Service/Method>…\n');
  process.exit(2);
}
const grpc = (await import(grpcUrl)) as typeof Grpc;

const raw = (b: Buffer): Buffer => b;
const empty = Buffer.alloc(0);
const definition: Record<string, Grpc.MethodDefinition<Buffer, Buffer>> = {};
const handlers: Grpc.UntypedServiceImplementation = {};
for (const path of paths) {
  const name = path.slice(path.lastIndexOf('/') + 1);
  definition[name] = {
    path,
    requestStream: false,
    responseStream: false,
    requestSerialize: raw,
    requestDeserialize: raw,
    responseSerialize: raw,
    responseDeserialize: raw,
  };
  handlers[name] = (_call: Grpc.ServerUnaryCall<Buffer, Buffer>, done: Grpc.sendUnaryData<Buffer>) => done(null, empty);
}

const server = new grpc.Server();
server.addService(definition, handlers);
server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) {
    process.stderr.write(`bare grpc-js server: listen on 127.0.0.1:0: ${err.message}\n`);
    process.exit(1);
  }
  // The line every trans of the bench prints once it serves (go-zero's wording).
  process.stdout.write(`Starting rpc server at 127.0.0.1:${port}...\n`);
});
for (const sig of ['SIGTERM', 'SIGINT'] as const)
  process.on(sig, () => {
    server.forceShutdown();
    process.exit(0);
  });
