// Whether a lease holder can do its work: a check (a PING of its Redis, say) run before it takes a lease and
// before every renewal. A watcher or sweeper whose check fails stays out of the lease, so one that can work
// leads; the change between failing and passing is logged once each way, never once per check.
import type { SagaLogger } from '../logging/saga-logger.js';

export class HolderHealth {
  /** Why the last check failed, while it fails. */
  private failure: string | null = null;

  constructor(
    private readonly checkWork: () => Promise<void>,
    private readonly logger: SagaLogger,
    /** What the holder cannot do while the check fails, for the log line: 'lead the trigger'. */
    private readonly role: string,
  ) {}

  /** Throws what the check threw: for `LeaseOptions.healthCheck`. */
  async check(): Promise<void> {
    await this.checkWork();
  }

  /** True when the check passes; false (logged once until it passes again) when it throws. */
  async passes(): Promise<boolean> {
    try {
      await this.checkWork();
    } catch (error) {
      if (this.failure === null) {
        this.logger.warn(
          { err: error },
          `Redis does not answer; this process does not ${this.role} meanwhile`,
        );
      }
      this.failure = error instanceof Error ? error.message : String(error);
      return false;
    }
    if (this.failure !== null) this.logger.info(`Redis answers again; this process can ${this.role}`);
    this.failure = null;
    return true;
  }

  /** The last failure's message while the check fails, else null. */
  get lastFailure(): string | null {
    return this.failure;
  }
}
