// `expectEvents` (unified-test-format.md "expectedEventsForClient"): observed command events, in order.
import type { Document } from 'mongodb';
import type { EntityMap, ObservedCommandEvent } from './entity-map.js';
import { assertMatches } from './matcher.js';
import type { ExpectedEventsForClient } from './test-format.js';

function summarize(events: ObservedCommandEvent[]): string {
  return events.map((event) => `${event.type.replace('Event', '')}:${event.commandName}`).join(', ');
}

function assertEvent(
  expected: Document,
  actual: ObservedCommandEvent,
  entities: EntityMap,
  path: string,
): void {
  const [type, assertions] = Object.entries(expected)[0] ?? [];
  if (type !== actual.type)
    throw new Error(`${path}: expected ${String(type)}, got ${actual.type} (${actual.commandName})`);
  const spec = (assertions ?? {}) as Document;
  if (spec.commandName !== undefined && spec.commandName !== actual.commandName) {
    throw new Error(`${path}: expected commandName ${String(spec.commandName)}, got ${actual.commandName}`);
  }
  if (spec.databaseName !== undefined && spec.databaseName !== actual.databaseName) {
    throw new Error(
      `${path}: expected databaseName ${String(spec.databaseName)}, got ${actual.databaseName}`,
    );
  }
  if (spec.command !== undefined)
    assertMatches(spec.command, actual.command, entities, true, `${path}.command`);
  if (spec.reply !== undefined) assertMatches(spec.reply, actual.reply, entities, true, `${path}.reply`);
  if (spec.hasServiceId !== undefined && (actual.serviceId !== undefined) !== spec.hasServiceId) {
    throw new Error(`${path}: expected hasServiceId ${String(spec.hasServiceId)}`);
  }
  if (
    spec.hasServerConnectionId !== undefined &&
    (actual.serverConnectionId != null) !== spec.hasServerConnectionId
  ) {
    throw new Error(`${path}: expected hasServerConnectionId ${String(spec.hasServerConnectionId)}`);
  }
}

export function assertExpectedEvents(expectations: ExpectedEventsForClient[], entities: EntityMap): void {
  for (const expectation of expectations) {
    const eventType = expectation.eventType ?? 'command';
    if (eventType !== 'command')
      throw new Error(`${eventType} event assertions are not supported by this runner`);
    const actual = entities.getAs(expectation.client, 'client').events;
    const expected = expectation.events;
    const countOk = expectation.ignoreExtraEvents
      ? actual.length >= expected.length
      : actual.length === expected.length;
    if (!countOk) {
      throw new Error(
        `client ${expectation.client}: expected ${expected.length} events${expectation.ignoreExtraEvents ? ' or more' : ''}, ` +
          `observed ${actual.length}: [${summarize(actual)}]`,
      );
    }
    expected.forEach((event, index) =>
      assertEvent(event, actual[index]!, entities, `expectEvents[${expectation.client}][${index}]`),
    );
  }
}
