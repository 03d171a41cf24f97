// A newRpcClient with a direct:/// target (Endpoints) while its server drains an in-flight call, then comes back
// on the same port: node direct-drain.ts <port>. Prints "stopped", then "back <instance>"; a resolver that
// answers every re-resolution ask at once starves the event loop and prints neither.
import { closeEtcdClients, newRpcClient } from '@dtm-gozero/gozero';
import { callOnce, instance } from './gozero.ts';

const port = Number(process.argv[2]);
const a = instance('a', port, undefined, { delayMs: 3000, timeoutMs: 10_000 });
await a.start();
const c = await newRpcClient({ Endpoints: [`127.0.0.1:${port}`], NonBlock: false, Timeout: 10_000 });
const inflight = callOnce(c, 10_000).catch((err: Error) => err.message);
await new Promise((r) => setTimeout(r, 200));
await a.stop(300);
console.log('stopped');
await inflight;
const b = instance('b', port, undefined, { timeoutMs: 10_000 });
await b.start();
for (let i = 0; ; i++) {
  try {
    console.log(`back ${await callOnce(c, 1000)}`);
    break;
  } catch (err) {
    if (i > 50) throw err;
    await new Promise((r) => setTimeout(r, 200));
  }
}
c.close();
await b.stop(0);
closeEtcdClients();
