// For unit tests: a dtm address nothing listens on. A call that reaches the network fails there with a connection
// error (UNAVAILABLE), so a test can tell "refused before sending" (DtmInputError) from "tried to send".
import { createServer } from 'node:net';

/** `127.0.0.1:<port>` of a loopback port that was free a moment ago and is closed again. */
export async function closedLoopbackTarget(): Promise<string> {
  const server = createServer();
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      if (addr && typeof addr === 'object') resolve(addr.port);
      else reject(new Error(`unexpected server address ${String(addr)}`));
    });
  });
  await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
  return `127.0.0.1:${port}`;
}
