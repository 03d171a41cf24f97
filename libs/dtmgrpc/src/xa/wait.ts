// The bound of every wait of an XA phase on its database, shared by the MySQL and Postgres phases.
import { DtmError } from '../errors.ts';

/**
 * Bound of each wait of an XA phase on the database (a pooled connection, XA COMMIT / ROLLBACK / RECOVER), under
 * dtm's 3 s RequestTimeout: past it the branch answers a retriable error instead of holding dtm's call open.
 */
export const XA_WAIT_MS = 2500;

/** `p`, or a retriable DtmError after XA_WAIT_MS; `onLate` gets a value that arrives after that (to release it). */
export function bounded<T>(p: Promise<T>, what: string, onLate?: (v: T) => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let late = false;
  p.then((v) => late && onLate?.(v)).catch(() => undefined);
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        late = true;
        reject(new DtmError(`${what}: no answer within ${XA_WAIT_MS} ms; dtm retries the branch`));
      }, XA_WAIT_MS);
    }),
  ]).finally(() => clearTimeout(timer));
}
