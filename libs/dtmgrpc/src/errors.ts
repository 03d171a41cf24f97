import { type ServiceError, status } from '@grpc/grpc-js';

/** Base class of errors this client throws; `code` is the gRPC status when one was received. */
export class DtmError extends Error {
  override name = 'DtmError';
  readonly code: status | undefined;

  constructor(message: string, options: { cause?: unknown; code?: status } = {}) {
    super(message, { cause: options.cause });
    this.code = options.code;
  }
}

/** dtm's FAILURE: from a branch it means "roll back"; from dtm it means the request was refused for good. */
export class DtmFailure extends DtmError {
  override name = 'DtmFailure';

  constructor(message = 'FAILURE', options: { cause?: unknown; code?: status } = {}) {
    super(message, options);
  }
}

/**
 * A global transaction dtm rolled back (saga: an action refused, its compensations done or — retried by dtm until
 * done — decided; TCC/XA: a try or phase 1 refused and the abort accepted). Nothing of it stays applied. Still a
 * DtmFailure, so `instanceof DtmFailure` keeps working.
 */
export class DtmRolledBack extends DtmFailure {
  override name = 'DtmRolledBack';
  readonly gid: string;

  constructor(gid: string, message: string, options: { cause?: unknown; code?: status } = {}) {
    super(message, options);
    this.gid = gid;
  }
}

/**
 * A global transaction that was not finished when the call returned: dtm keeps it and retries its branches until
 * it ends (a branch unreachable, a confirm/commit failing, a msg branch not yet done). Its outcome is still open —
 * neither refund nor retry on it; ask dtm for the gid's final status. `dtmSaid` is dtm's own answer.
 */
export class DtmUnfinished extends DtmError {
  override name = 'DtmUnfinished';
  readonly gid: string;
  readonly dtmSaid: string;

  constructor(gid: string, message: string, dtmSaid: string, options: { cause?: unknown; code?: status } = {}) {
    super(message, options);
    this.gid = gid;
    this.dtmSaid = dtmSaid;
  }
}

/** dtm's ONGOING: not finished yet, try again later (dtm retries at the same interval). */
export class DtmOngoing extends DtmError {
  override name = 'DtmOngoing';

  constructor(message = 'ONGOING', options: { cause?: unknown; code?: status } = {}) {
    super(message, options);
  }
}

/** dtm's DUPLICATED: the msg barrier already holds this gid's row (a repeated doAndSubmit, or a decided back-check). */
export class DtmDuplicated extends DtmError {
  override name = 'DtmDuplicated';

  constructor(message = 'DUPLICATED', options: { cause?: unknown; code?: status } = {}) {
    super(message, options);
  }
}

/** Bad input given to this client (empty gid, no branches, a malformed URL, …); nothing was sent. */
export class DtmInputError extends DtmError {
  override name = 'DtmInputError';
}

export function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as Partial<ServiceError>).code === 'number' && 'details' in err;
}

/**
 * Maps a gRPC status to dtm's result words as dtm's Go client does: ABORTED → FAILURE (message ONGOING →
 * ONGOING), FAILED_PRECONDITION → ONGOING, anything else stays a plain error to retry.
 */
export function fromGrpcError(err: unknown, context: string): Error {
  if (!isServiceError(err)) return err instanceof Error ? err : new DtmError(`${context}: ${String(err)}`);
  // grpc-js ends an unreachable server's details with "Resolution note: " even when it has no note: cut that.
  const details = (err.details || err.message).replace(/\.?\s*Resolution note:\s*$/, '');
  if (err.code === status.ABORTED) {
    if (details === 'ONGOING') return new DtmOngoing(`${context}: ONGOING`, { cause: err, code: err.code });
    return new DtmFailure(`${context}: ${details}`, { cause: err, code: err.code });
  }
  if (err.code === status.FAILED_PRECONDITION)
    return new DtmOngoing(`${context}: ${details}`, { cause: err, code: err.code });
  return new DtmError(`${context}: ${status[err.code] ?? err.code} ${details}`, { cause: err, code: err.code });
}

/** dtm does not know the topic (never subscribed, or deleted), or the URL is not subscribed to it. */
export class DtmTopicError extends DtmError {
  override name = 'DtmTopicError';
}

// dtm's words for a topic or subscriber it does not have (DTM:dtmsvr/topics.go, trans_type_msg.go).
const TOPIC_NOT_FOUND = /no such a topic|no such an url|topic not found|this topic is empty/;

/**
 * Explains a failed call to dtm (`what`: e.g. `Submit`, `subscribe 'orders'`): a topic or subscriber dtm lacks as
 * DtmTopicError; unreachable/unregistered dtm with a hint; dtm's own refusals keep their words (fromGrpcError).
 */
export function dtmCallError(dtm: string, what: string, err: unknown): Error {
  if (isServiceError(err)) {
    if (TOPIC_NOT_FOUND.test(err.details)) {
      return new DtmTopicError(`dtm ${what} via ${dtm}: ${err.details.trim()} (subscribe a URL to the topic first)`, {
        cause: err,
        code: err.code,
      });
    }
    if (err.code === status.UNAVAILABLE || err.code === status.DEADLINE_EXCEEDED) {
      return fromGrpcError(
        err,
        `dtm ${what} via ${dtm} failed (is dtm running and registered? or pass its direct address)`,
      );
    }
  }
  return fromGrpcError(err, `dtm ${what} via ${dtm}`);
}

/** The gRPC status a branch handler should answer for an error, so that dtm reads it right. */
export function toGrpcStatus(err: unknown): { code: status; details: string } {
  if (err instanceof DtmFailure) return { code: status.ABORTED, details: err.message || 'FAILURE' };
  if (err instanceof DtmOngoing) return { code: status.FAILED_PRECONDITION, details: err.message || 'ONGOING' };
  // a call dtm did not make (no dtm metadata, a payload no branch could take): not UNKNOWN, which dtm retries
  if (err instanceof DtmInputError) return { code: status.INVALID_ARGUMENT, details: err.message };
  if (isServiceError(err)) return { code: err.code, details: err.details };
  return { code: status.UNKNOWN, details: err instanceof Error ? err.message : String(err) };
}
