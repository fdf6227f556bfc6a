// The timers connection health checks run on: Node's by default, a fake clock in tests.

export interface HealthScheduler {
  /** Runs `callback` after `ms`; the returned function cancels it. Never keeps the process alive. */
  setTimeout(callback: () => void, ms: number): () => void;
}

export const nodeHealthScheduler: HealthScheduler = {
  setTimeout(callback, ms) {
    const timer = setTimeout(callback, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
};
