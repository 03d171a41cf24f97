/**
 * A `k8s://` target as go-zero's kube resolver reads it: `k8s://<namespace>/<service>[:<port>]`, the namespace
 * empty for `default` (`k8s:///svc:8080`). The port is the pods' port (go-zero dials pod IPs, never the service's
 * cluster IP); a port *name* (`k8s://ns/svc:grpc`) is our addition, resolved per EndpointSlice, and no port means
 * each slice's first port (go-zero: the first port of the Endpoints).
 */
export interface KubeTarget {
  namespace: string;
  service: string;
  /** A port number, a port name, or undefined for the first port. */
  port: number | string | undefined;
}

/** A DNS-1123 label: what Kubernetes allows as a namespace, a service name and a port name. */
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Parses the authority and path of a `k8s://` target; returns an error message (naming the expected form) instead
 * of throwing, so that target.ts and the grpc-js resolver can each raise their own error type.
 */
export function parseKubeTarget(authority: string, path: string): KubeTarget | string {
  const target = `k8s://${authority}/${path}`;
  const form = 'write k8s://<namespace>/<service>:<port> (e.g. k8s://default/trans:8080)';
  const namespace = authority === '' ? 'default' : authority;
  if (!LABEL.test(namespace) || namespace.length > 63)
    return `target "${target}": namespace "${authority}" is not a Kubernetes name (lower-case letters, digits, "-"); ${form}`;
  const rest = path.replace(/^\/+|\/+$/g, '');
  if (rest === '') return `target "${target}" names no service; ${form}`;
  const i = rest.indexOf(':');
  const service = i < 0 ? rest : rest.slice(0, i);
  const portText = i < 0 ? undefined : rest.slice(i + 1);
  if (!LABEL.test(service) || service.length > 63)
    return `target "${target}": service "${service}" is not a Kubernetes service name (lower-case letters, digits, "-"; no "/" or ".", the namespace goes before the "/"); ${form}`;
  if (portText === undefined) return { namespace, service, port: undefined };
  if (/^\d+$/.test(portText)) {
    const port = Number(portText);
    if (port < 1 || port > 65535) return `target "${target}": port ${portText} is outside 1..65535; ${form}`;
    return { namespace, service, port };
  }
  if (LABEL.test(portText) && portText.length <= 15 && /[a-z]/.test(portText))
    return { namespace, service, port: portText };
  return `target "${target}": port "${portText}" is neither a number nor a port name; ${form}`;
}

/** The target back as text (the default namespace spelled out). */
export function formatKubeTarget(t: KubeTarget): string {
  return `k8s://${t.namespace}/${t.service}${t.port === undefined ? '' : `:${t.port}`}`;
}
