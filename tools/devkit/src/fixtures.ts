// Scripts that tests run in a process of their own (so that they can kill it); each file's head says its arguments.
import { join } from 'node:path';

const at = (name: string): string => join(import.meta.dirname, 'fixtures', name);

/** A TransSvc instance registered in etcd: `<name> <port> <etcd conf JSON> <ttl s>`. */
export const GOZERO_INSTANCE = at('gozero-instance.ts');
/** A TransSvc server that burns CPU on request, for the load shedder: `<port> <Mode> <CpuThreshold>`. */
export const SHED_INSTANCE = at('shed-instance.ts');
/** A direct:/// client while its server drains and comes back: `<port>`. */
export const DIRECT_DRAIN = at('direct-drain.ts');
/** A service with one workflow, killed mid-run: `<port> [<gid> pause]` (settings in WF_DTM, WF_BUSI, WF_MYSQL). */
export const WORKFLOW_SERVICE = at('workflow-service.ts');
