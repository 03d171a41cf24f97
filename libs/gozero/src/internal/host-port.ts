/**
 * Splits `host:port` (`[v6]:port` for IPv6; the host may be empty, as in ListenOn `:8080`). Undefined when the
 * text is not of that form or the port is outside 0..65535. The one parser of the package's addresses.
 */
export function splitHostPort(addr: string): { host: string; port: number } | undefined {
  const m = /^(\[[0-9a-fA-F:.]*\]|[A-Za-z0-9._-]*):(\d{1,5})$/.exec(addr);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port > 65535) return undefined;
  return { host: (m[1] as string).replace(/^\[|\]$/g, ''), port };
}
