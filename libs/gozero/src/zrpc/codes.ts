import { status } from '@grpc/grpc-js';

/**
 * go-zero's `codes.Acceptable` (v1.10): the codes that count as a failure of the callee for the breaker. Every
 * other code is the callee answering, so dtm's ABORTED (FAILURE) and FAILED_PRECONDITION (ONGOING) never trip it.
 */
export function acceptable(code: status | undefined): boolean {
  switch (code) {
    case status.DEADLINE_EXCEEDED:
    case status.INTERNAL:
    case status.UNAVAILABLE:
    case status.DATA_LOSS:
    case status.UNIMPLEMENTED:
    case status.RESOURCE_EXHAUSTED:
      return false;
    default:
      return true;
  }
}

/** The gRPC code of a handler's or a call's error (none: OK; an error without a code: UNKNOWN, as grpc-js sends it). */
export function codeOf(err: unknown): status | undefined {
  if (err === null || err === undefined) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' ? (code as status) : status.UNKNOWN;
}
