// Span and trace ids for the OpenTelemetry SDK that let sagastream record a saga's root span at the saga's end,
// in another process, under the ids its children already name as their parent (see ARCHITECTURE.md).

/** The ids the next span started in this call stack must take; held on globalThis, so two copies of sagastream agree. */
interface PinnedIds {
  traceId?: string;
  spanId?: string;
}

const SLOT = Symbol.for('sagastream.tracing.pinnedIds');

interface PinnedSlot {
  [SLOT]?: PinnedIds;
}

const slot = globalThis as PinnedSlot;

/**
 * Runs `create` (a synchronous `tracer.startSpan`) with the ids the span it starts must have. The SDK asks its id
 * generator inside `startSpan`, synchronously, so nothing else can take them; each id is used once.
 */
export function withPinnedIds<T>(ids: { traceId: string; spanId: string }, create: () => T): T {
  slot[SLOT] = { ...ids };
  try {
    return create();
  } finally {
    slot[SLOT] = undefined;
  }
}

function randomHex(bytes: number): string {
  let hex = '';
  for (let index = 0; index < bytes / 4; index++) {
    hex += ((Math.random() * 0x1_0000_0000) >>> 0).toString(16).padStart(8, '0');
  }
  // All zeros is the invalid id.
  return /^0+$/.test(hex) ? `${hex.slice(0, -1)}1` : hex;
}

/**
 * OpenTelemetry's `IdGenerator` for the SDK of a process running sagastream: random ids, except while sagastream
 * records a saga's root span. The CLI installs it; pass it as `idGenerator` when you set up the SDK yourself
 * (`new NodeSDK({ idGenerator: new SagaIdGenerator(), ... })`). Without it, a saga's root span is recorded as a
 * child of the root its trace names (README, Tracing).
 */
export class SagaIdGenerator {
  generateTraceId(): string {
    const pinned = slot[SLOT];
    const id = pinned?.traceId;
    if (pinned && id !== undefined) {
      pinned.traceId = undefined;
      return id;
    }
    return randomHex(16);
  }

  generateSpanId(): string {
    const pinned = slot[SLOT];
    const id = pinned?.spanId;
    if (pinned && id !== undefined) {
      pinned.spanId = undefined;
      return id;
    }
    return randomHex(8);
  }
}
