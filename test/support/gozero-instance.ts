// A TransSvc instance in a process of its own, for tests that kill it: node gozero-instance.ts <name> <port> <etcd conf JSON> <ttl s>
import { closeEtcdClients } from '@dtm-gozero/gozero';
import { instance } from './gozero.ts';

const [name, port, etcd, ttl] = process.argv.slice(2) as [string, string, string, string];
const s = instance(name, Number(port), JSON.parse(etcd), { ttlSeconds: Number(ttl) });
process.once('SIGTERM', () => {
  void s.stop().finally(() => {
    closeEtcdClients();
    process.exit(0);
  });
});
await s.start();
console.log(`registered ${s.registeredKey}`);
