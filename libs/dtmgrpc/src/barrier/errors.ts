// Result errors of the sub-transaction barrier. Kept free of imports so they can later move into the client's
// shared errors module unchanged. A gRPC handler answers them as dtm expects:
//   DtmFailure → status ABORTED ("roll back" / QueryPrepared: the local transaction never committed),
//   DtmOngoing → status FAILED_PRECONDITION ("not yet, ask again"),
//   DtmDuplicated → the msg barrier already holds a row for this gid (a repeated DoAndSubmit, or QueryPrepared
//   already decided "rollback"); treat it as a failure of the local step.

/** dtm's FAILURE. */
export class DtmFailure extends Error {
  override name = 'DtmFailure';

  constructor(message = 'FAILURE', options?: ErrorOptions) {
    super(message, options);
  }
}

/** dtm's ONGOING. */
export class DtmOngoing extends Error {
  override name = 'DtmOngoing';

  constructor(message = 'ONGOING', options?: ErrorOptions) {
    super(message, options);
  }
}

/** dtm's DUPLICATED: only the msg barrier (op `msg`) reports it. */
export class DtmDuplicated extends Error {
  override name = 'DtmDuplicated';

  constructor(message = 'DUPLICATED', options?: ErrorOptions) {
    super(message, options);
  }
}
