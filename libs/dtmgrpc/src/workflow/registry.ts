// Workflows over gRPC (dtm's `workflow.InitGrpc`, `Register2`, `ExecuteCtx` and the `workflow.Workflow` callback
// service): the named handlers of a service, how one is run against dtm, and the service dtm calls to resume one.
import { type Metadata, type Server, type ServerUnaryCall, type sendUnaryData, status } from '@grpc/grpc-js';
import { dtmCall } from '../conn.ts';
import { DtmError, DtmFailure, DtmInputError, DtmOngoing, isServiceError, toGrpcStatus } from '../errors.ts';
import { type DtmProgressesReply, DtmService } from '../gen/dtmgimp.ts';
import type { Empty } from '../gen/google/protobuf/empty.ts';
import { type WorkflowData, WorkflowService } from '../gen/workflow.ts';
import { Workflow } from './workflow.ts';

/** A workflow's body: steps on `wf`, then its result, bytes (stored by dtm with the outcome; anything else: none). */
export type WorkflowHandler<D = Buffer> = (wf: Workflow, data: D) => Promise<unknown>;

/** A message type of ts-proto's output (`AdjustInfo`): how a workflow's data is written and read back. */
export interface WorkflowDataType<D> {
  encode(message: D): { finish(): Uint8Array };
  decode(bytes: Uint8Array): D;
}

/** The data of a resumed workflow that no longer decodes as the registered type (the code changed under it). */
export class WorkflowDataError extends DtmInputError {
  override name = 'WorkflowDataError';
}

/** Per-run settings of `execute`. */
export interface ExecuteOptions {
  /** Aborts the run between steps; the workflow is then left for dtm to resume. */
  signal?: AbortSignal;
  /**
   * Options for this run only, set after the registered `custom`. A run resumed by dtm does not have them: put what
   * a resume must keep in `register`'s `custom`.
   */
  custom?: (wf: Workflow) => void;
}

interface Entry {
  handler: WorkflowHandler<unknown>;
  custom: ((wf: Workflow) => void) | undefined;
  dataType: WorkflowDataType<unknown> | undefined;
}

const WORKFLOW_PATH = '/workflow.Workflow/Execute';

/**
 * The workflows of one service (dtm's Go `workflow` package keeps them in a global; here they live in this object):
 * `register` them at startup, add the callback service to the service's gRPC server (`addTo(server)`), and
 * `execute` one by name and gid. dtm resumes an unfinished workflow by calling `<callbackHost>/workflow.Workflow/
 * Execute`, so `callbackHost` is how dtm reaches this server: a go-zero target (`etcd://127.0.0.1:2379/app`,
 * `host:port`).
 */
export class WorkflowRegistry {
  readonly dtm: string;
  readonly callbackUrl: string;
  readonly #entries = new Map<string, Entry>();
  readonly #running = new Set<string>();

  constructor(dtm: string, callbackHost: string) {
    if (!dtm) throw new DtmInputError('workflow: dtm address is empty; pass e.g. etcd://localhost:2379/dtmservice');
    if (typeof callbackHost !== 'string' || callbackHost === '') {
      throw new DtmInputError(
        'workflow: the callback host is empty; pass the target dtm calls this server at, e.g. etcd://127.0.0.1:2379/app or 127.0.0.1:9000',
      );
    }
    this.dtm = dtm;
    this.callbackUrl = callbackHost.replace(/\/+$/, '') + WORKFLOW_PATH;
  }

  /**
   * Registers a workflow under `name` (the Go client's `Register2`). `custom` sets options before each run (wait
   * result, timeout to fail, retry interval, branch headers, compensateErrorBranch…). With `dataType` the handler
   * gets the decoded message and `execute` takes one.
   */
  register(name: string, handler: WorkflowHandler<Buffer>, custom?: (wf: Workflow) => void): this;
  register<D>(
    name: string,
    handler: WorkflowHandler<D>,
    custom: ((wf: Workflow) => void) | undefined,
    dataType: WorkflowDataType<D>,
  ): this;
  register<D>(
    name: string,
    handler: WorkflowHandler<D>,
    custom?: (wf: Workflow) => void,
    dataType?: WorkflowDataType<D>,
  ): this {
    if (typeof name !== 'string' || name === '') throw new DtmInputError('workflow: the name is empty');
    if (typeof handler !== 'function') throw new DtmInputError(`workflow '${name}': the handler is not a function`);
    if (this.#entries.has(name)) {
      throw new DtmInputError(`workflow '${name}' is registered already; register each name once, at startup`);
    }
    this.#entries.set(name, {
      handler: handler as WorkflowHandler<unknown>,
      custom,
      dataType: dataType as WorkflowDataType<unknown> | undefined,
    });
    return this;
  }

  /** The names registered so far. */
  get names(): string[] {
    return [...this.#entries.keys()];
  }

  /**
   * Runs the workflow `name` as global transaction `gid` (the Go client's `ExecuteCtx`): a new gid starts it, a
   * known one resumes it (finished steps are replayed from dtm, not run again; a finished workflow returns at once).
   * Resolves with the handler's result. Rejects with DtmFailure when it rolled back; any other error leaves the
   * workflow to dtm, which resumes it through the callback service.
   */
  async execute(name: string, gid: string, data: Uint8Array | unknown, opts: ExecuteOptions = {}): Promise<Buffer> {
    const entry = this.#entries.get(name);
    if (!entry) {
      throw new DtmInputError(
        `workflow '${name}' is not registered (registered: ${this.names.join(', ') || 'none'}); register it at startup, before execute or the callback service runs`,
      );
    }
    let bytes: Uint8Array;
    if (entry.dataType) {
      try {
        bytes = data instanceof Uint8Array ? data : entry.dataType.encode(data).finish();
      } catch (err) {
        throw new DtmInputError(`workflow '${name}': data does not encode: ${(err as Error).message}`, { cause: err });
      }
      if (!(data instanceof Uint8Array)) {
        // Data the type wrote but cannot read back could never run, nor be resumed by dtm: refuse it before dtm
        // stores it (a gid dtm never saw, not one left unfinished).
        try {
          entry.dataType.decode(bytes);
        } catch (err) {
          throw new WorkflowDataError(
            `workflow '${name}' ${gid}: its data, as the registered type encodes it, does not decode back: ${(err as Error).message}; nothing was sent to dtm — make the type's encode and decode agree`,
            { cause: err },
          );
        }
      }
    } else if (data instanceof Uint8Array) bytes = data;
    else
      throw new DtmInputError(`workflow '${name}': data must be bytes (Uint8Array) unless registered with a dataType`);
    opts.signal?.throwIfAborted();
    const key = `${gid}\0${name}`;
    if (this.#running.has(key)) {
      throw new DtmOngoing(`workflow '${name}' ${gid} is running in this process already; dtm retries it later`);
    }
    this.#running.add(key);
    try {
      return await this.#run(
        opts.custom,
        entry,
        name,
        gid,
        Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        opts.signal,
      );
    } finally {
      this.#running.delete(key);
    }
  }

  async #run(
    custom: ExecuteOptions['custom'],
    entry: Entry,
    name: string,
    gid: string,
    data: Buffer,
    signal: AbortSignal | undefined,
  ): Promise<Buffer> {
    let arg: unknown = data;
    if (entry.dataType) {
      try {
        arg = entry.dataType.decode(data);
      } catch (err) {
        throw new WorkflowDataError(
          `workflow '${name}' ${gid}: its data (${data.length} bytes) no longer decodes as the registered type: ${(err as Error).message}; nothing was run — fix the type, or stop the workflow in dtm`,
          { cause: err },
        );
      }
    }
    const wf = new Workflow(this.dtm, name, gid, signal);
    entry.custom?.(wf);
    custom?.(wf);
    // Submit carries them too, as the Go client's: dtm stores the submitted request over the prepared one.
    const stored = {
      QueryPrepared: this.callbackUrl,
      CustomedData: JSON.stringify({ name, data: data.toString('base64') }),
    };
    const prepare = wf.dtmRequest(stored);
    const reply: DtmProgressesReply = await dtmCall(
      this.dtm,
      DtmService.prepareWorkflow,
      prepare,
      `PrepareWorkflow (workflow '${name}' ${gid})`,
      { timeoutMs: wf.options.callTimeoutMs },
    );
    const st = reply.Transaction?.Status;
    if (st === 'succeed') return Buffer.from(reply.Transaction?.Result ?? '', 'base64');
    if (st === 'failed') throw new DtmFailure(reply.Transaction?.RollbackReason || `workflow '${name}' ${gid} failed`);
    wf.loadProgresses(reply.Progresses);

    let result: Buffer = Buffer.alloc(0);
    let failure: DtmFailure | undefined;
    let badInput: DtmInputError | undefined;
    try {
      const r = await entry.handler(wf, arg);
      if (r instanceof Uint8Array) result = Buffer.from(r.buffer, r.byteOffset, r.byteLength);
    } catch (err) {
      const mapped = wf.mapError(err, `workflow '${name}' ${gid}`);
      if (mapped instanceof DtmInputError) {
        // The handler misuses the API (a streaming descriptor, a step without newBranch…): every resume would stop
        // at the same place, so roll back what was done and end the workflow instead of leaving it to dtm.
        badInput = mapped;
        failure = new DtmFailure(mapped.message, { cause: mapped });
      } else if (mapped instanceof DtmFailure) failure = mapped;
      else throw handlerError(name, gid, mapped);
    }
    await wf.runPhase2(failure !== undefined);
    await wf.callDtm('submit', {
      ...stored,
      ReqExtra: {
        status: failure ? 'failed' : 'succeed',
        rollback_reason: failure ? failure.message : '',
        result: result.toString('base64'),
      },
    });
    if (badInput) throw badInput;
    if (failure) throw failure;
    return result;
  }

  /** The callback service's implementation, for any grpc-js server: `server.addService(WorkflowService, impl)`. */
  serviceImplementation(): { execute: (call: ServerUnaryCall<WorkflowData, Empty>, cb: sendUnaryData<Empty>) => void } {
    return {
      execute: (call, cb) => {
        const md: Metadata = call.metadata;
        const gid = md.get('dtm-gid')[0]?.toString() ?? '';
        const name = md.get('dtm-op')[0]?.toString() ?? '';
        if (!gid || !name) {
          cb({
            code: status.INVALID_ARGUMENT,
            details: 'workflow.Workflow/Execute: not a dtm call (no dtm-gid / dtm-op metadata)',
          });
          return;
        }
        this.execute(name, gid, call.request.Data).then(
          () => cb(null, {}),
          (err: unknown) => {
            const s = toGrpcStatus(err);
            // Bad input (unregistered name, undecodable data) will not heal by itself: say so with its own code.
            cb(err instanceof DtmInputError ? { code: status.INVALID_ARGUMENT, details: s.details } : s);
          },
        );
      },
    };
  }

  /** Adds the callback service (`workflow.Workflow`) to a grpc-js server, e.g. in RpcServer's register function. */
  addTo(server: Server): this {
    server.addService(WorkflowService, this.serviceImplementation());
    return this;
  }
}

/** A handler's error that is not dtm's: the workflow stays unfinished, for dtm to resume; say so. */
function handlerError(name: string, gid: string, err: unknown): Error {
  if (err instanceof DtmError) return err;
  if (isServiceError(err)) return err;
  return new DtmError(
    `workflow '${name}' ${gid}: the handler threw ${err instanceof Error ? err.name : typeof err} (${err instanceof Error ? err.message : String(err)}); the workflow is left unfinished and dtm resumes it — throw DtmFailure to roll it back`,
    { cause: err },
  );
}
