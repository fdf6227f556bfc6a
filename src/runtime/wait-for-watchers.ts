// A process that runs the watcher reports itself ready only once every trigger is covered: this process holds
// the lease and its change stream has answered, or another live process holds it. Orders inserted after the
// ready line are then never missed, even on a first start without a checkpoint.
import type { SagaLogger } from '../logging/saga-logger.js';
import type { TriggerService } from '../trigger/trigger-service.js';

const POLL_MS = 100;

export async function waitForWatchers(
  trigger: TriggerService,
  logger: SagaLogger,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const waiting = await trigger.notYetWatching();
    if (waiting.length === 0) return;
    if (Date.now() > deadline) {
      logger.warn(
        {
          watchers: trigger
            .status()
            .watchers.map(({ saga, state, lastError }) => ({ saga, state, lastError })),
        },
        'trigger watchers are not streaming yet; going on (see lastError)',
      );
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
