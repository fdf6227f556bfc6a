// One saga as code sees it: its id, its stored state, its end (awaited on a change stream), and cancel.
import type { ChangeStreamDocument, Collection } from 'mongodb';
import { parseDuration, type DurationInput } from '../definition/index.js';
import { SagastreamError } from '../errors/index.js';
import type { SagaOperations } from '../engine/saga-operations.js';
import { isTerminal, type SagaDocument, type SagaStatus, type StoredError } from '../model/saga-document.js';

/** How a saga ended. `outputs` maps each completed step to what it returned; `error` is set unless it completed. */
export interface SagaResult {
  readonly sagaId: string;
  readonly status: Exclude<SagaStatus, 'running' | 'compensating'>;
  readonly outputs: Readonly<Record<string, unknown>>;
  readonly error?: StoredError;
}

export interface ResultOptions {
  /** How long to wait: `'30s'`, `'5m'` or milliseconds; default no limit. The saga goes on either way. */
  readonly timeout?: DurationInput;
  /** Stops waiting (rejecting with the signal's reason); the saga goes on. */
  readonly signal?: AbortSignal;
}

export function resultOf(saga: SagaDocument): SagaResult {
  const outputs: Record<string, unknown> = {};
  for (const step of saga.steps) if (step.status === 'completed') outputs[step.name] = step.output;
  return {
    sagaId: saga._id,
    status: saga.status as SagaResult['status'],
    outputs,
    ...(saga.status !== 'completed' && saga.error ? { error: saga.error } : {}),
  };
}

export class SagaHandle {
  constructor(
    /** The saga id. */
    readonly id: string,
    private readonly sagas: Collection<SagaDocument>,
    private readonly operations: SagaOperations,
  ) {}

  /**
   * Sends signal `name` with `data` to this saga: its `.waitFor({ signal: name })` step ends with `data`, now or when
   * the saga reaches it. @throws SagastreamError `INVALID_STATE` when the saga is not running or waits for no such
   * signal.
   */
  async signal(name: string, data?: unknown): Promise<void> {
    await this.operations.signal(this.id, name, data);
  }

  /** The saga as stored now (status, steps with their outputs, timeline); null if no such saga exists. */
  status(): Promise<SagaDocument | null> {
    return this.sagas.findOne({ _id: this.id });
  }

  /**
   * Resolves once the saga is `completed`, `compensated`, `failed` or `rejected`. It follows a change stream on
   * the sagas collection (opened before the saga is read, so no transition falls in between), not polling.
   * @throws SagastreamError `RESULT_TIMEOUT` after `timeout`; `SAGA_NOT_FOUND` when no such saga exists.
   */
  async result(options: ResultOptions = {}): Promise<SagaResult> {
    const timeoutMs = options.timeout === undefined ? undefined : parseDuration(options.timeout);
    const stream = this.sagas.watch<SagaDocument, ChangeStreamDocument<SagaDocument>>(
      [{ $match: { 'documentKey._id': this.id, operationType: { $in: ['update', 'replace', 'insert'] } } }],
      { fullDocument: 'updateLookup' },
    );
    let timer: NodeJS.Timeout | undefined;
    const stop = new AbortController();
    const onAbort = (): void => stop.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => {
        stop.abort(
          new SagastreamError('RESULT_TIMEOUT', `saga ${this.id} did not end within ${timeoutMs} ms`, {
            sagaId: this.id,
          }),
        );
      }, timeoutMs);
    }
    const aborted = new Promise<never>((_, reject) => {
      const fail = (): void => reject(stop.signal.reason as Error);
      if (stop.signal.aborted) fail();
      else stop.signal.addEventListener('abort', fail, { once: true });
    });
    try {
      // The first read opens the stream on the server; only then is the saga read, so a transition after that
      // read is in the stream, and one before it is in what the read returns.
      let change = await Promise.race([stream.tryNext(), aborted]);
      const current = await Promise.race([this.status(), aborted]);
      if (!current) {
        throw new SagastreamError('SAGA_NOT_FOUND', `saga ${this.id} does not exist`, { sagaId: this.id });
      }
      if (isTerminal(current.status)) return resultOf(current);
      for (;;) {
        const saga = change && 'fullDocument' in change ? change.fullDocument : undefined;
        if (saga && isTerminal(saga.status)) return resultOf(saga);
        change = await Promise.race([stream.next(), aborted]);
      }
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      await stream.close().catch(() => undefined);
    }
  }

  /** Compensates the saga's completed steps; it ends `compensated` with reason `cancelled`. */
  async cancel(): Promise<void> {
    await this.operations.cancel(this.id);
  }
}
