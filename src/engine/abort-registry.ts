// In-flight attempts of this process by saga, so a cancel or deadline seen on the saga collection can abort them.
export class AbortRegistry {
  private readonly bySaga = new Map<string, Set<AbortController>>();

  register(sagaId: string): { signal: AbortSignal; release(): void } {
    const controller = new AbortController();
    let set = this.bySaga.get(sagaId);
    if (!set) {
      set = new Set();
      this.bySaga.set(sagaId, set);
    }
    set.add(controller);
    return {
      signal: controller.signal,
      release: () => {
        set.delete(controller);
        if (set.size === 0) this.bySaga.delete(sagaId);
      },
    };
  }

  abort(sagaId: string, reason: string): number {
    const set = this.bySaga.get(sagaId);
    if (!set) return 0;
    for (const controller of set) controller.abort(new Error(reason));
    return set.size;
  }

  get inFlight(): number {
    let count = 0;
    for (const set of this.bySaga.values()) count += set.size;
    return count;
  }
}
