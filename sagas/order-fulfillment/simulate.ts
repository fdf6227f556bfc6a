// Misbehaviour on request: an order's `simulate` field makes a step fail, hang or fail to compensate, so demos
// and tests can show retries, timeouts, compensation and dead letters with real data.
import type { CompensationContext, StepContext } from '../../src/index.js';
import type { Order, OrderStep } from './order-schema.js';

/** Whether this attempt is one of the first `failTimes` (all of them when unset). */
function misbehaves(ctx: StepContext<Order, object>): boolean {
  const failTimes = ctx.input.simulate?.failTimes;
  return failTimes === undefined || ctx.attempt <= failTimes;
}

function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    const abort = (): void => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    if (signal.aborted) abort();
    else signal.addEventListener('abort', abort, { once: true });
  });
}

/** Called first in every step: hangs until the timeout for `hangAt`, throws for `failAt`. */
export async function simulateStep(ctx: StepContext<Order, object>, step: OrderStep): Promise<void> {
  const simulate = ctx.input.simulate;
  if (simulate === undefined || !misbehaves(ctx)) return;
  if (simulate.hangAt === step) await untilAborted(ctx.signal);
  if (simulate.failAt === step) {
    throw new Error(`simulated failure of ${step} (attempt ${ctx.attempt})`);
  }
}

/** Called first in every compensation: throws on every attempt for `failCompensationAt`. */
export function simulateCompensation(
  ctx: CompensationContext<Order, object, unknown>,
  step: OrderStep,
): Promise<void> {
  if (ctx.input.simulate?.failCompensationAt === step) {
    return Promise.reject(new Error(`simulated failure compensating ${step} (attempt ${ctx.attempt})`));
  }
  return Promise.resolve();
}
