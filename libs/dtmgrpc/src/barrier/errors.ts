// The barrier's result errors are the client's own (one class per dtm result word, shared by every module).
export { DtmDuplicated, DtmFailure, DtmOngoing } from '../errors.ts';
