// A test inserts a trigger document right after the environment is created: every trigger must be followed
// (TriggerService.notYetWatching) by then, or that insert would start no saga.
import { setTimeout as sleep } from 'node:timers/promises';
import { SagastreamError } from '../errors/sagastream-error.js';
import type { TriggerService } from '../trigger/trigger-service.js';

const POLL_MS = 25;

/** @throws SagastreamError `WATCHER_NOT_READY` naming the watchers that are not streaming after `timeoutMs`. */
export async function waitUntilWatching(trigger: TriggerService, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const waiting = await trigger.notYetWatching();
    if (waiting.length === 0) return;
    if (Date.now() > deadline) {
      const which = waiting
        .map(
          (watcher) =>
            `${watcher.saga} (${watcher.state}${watcher.lastError ? `: ${watcher.lastError.message}` : ''})`,
        )
        .join(', ');
      throw new SagastreamError(
        'WATCHER_NOT_READY',
        `the trigger watchers of ${which} were not following their change streams after ${timeoutMs} ms; ` +
          'check that MongoDB is a replica set (change streams need one)',
      );
    }
    await sleep(POLL_MS);
  }
}
