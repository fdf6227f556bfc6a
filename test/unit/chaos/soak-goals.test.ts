import { describe, expect, it } from 'vitest';
import type { ProcessSample } from '../../chaos/process-probe.js';
import { judgeProcess, judgeSoak } from '../../chaos/soak-goals.js';

function sample(pid: number, rssMb: number, fds = 40): ProcessSample {
  return {
    pid,
    rssMb,
    rssMaxMb: rssMb,
    fds,
    fdKinds: null,
    watcherActive: null,
    eventLoopP99Ms: 5,
    heapUsedMb: 30,
  };
}

describe('soak goals', () => {
  it('judges RSS and descriptors from the sample after warm-up to the last one', () => {
    expect(judgeProcess({ start: sample(1, 150), end: sample(1, 165) })).toEqual({
      judged: true,
      rssChange: 0.1,
      fdsChange: 0,
      flat: true,
    });
    expect(judgeProcess({ start: sample(1, 150), end: sample(1, 166) })).toMatchObject({ flat: false });
    expect(judgeProcess({ start: sample(1, 150, 40), end: sample(1, 150, 45) })).toMatchObject({
      flat: false,
      fdsChange: 0.125,
    });
  });

  it('does not judge a process that was restarted or not sampled', () => {
    expect(judgeProcess({ start: sample(1, 150), end: sample(2, 300) })).toEqual({
      judged: false,
      why: 'restarted between the start and the end',
    });
    expect(judgeProcess({ end: sample(2, 300) })).toMatchObject({ judged: false });
  });

  it('is met only when every judged process is flat and every window is within 15 % of the first', () => {
    const steady = judgeSoak({ watcher: { start: sample(1, 150), end: sample(1, 155) } }, [6, 5.9, 6.1]);
    expect(steady).toMatchObject({ flat: true, steady: true, met: true, throughputDeviation: 0.017 });

    const slowing = judgeSoak({ watcher: { start: sample(1, 150), end: sample(1, 155) } }, [6, 5.9, 5]);
    expect(slowing).toMatchObject({ steady: false, met: false, throughputDeviation: 0.167 });

    const growing = judgeSoak(
      {
        watcher: { start: sample(1, 150), end: sample(1, 155) },
        mongo: { start: sample(3, 200), end: sample(3, 900) },
      },
      [6, 6],
    );
    expect(growing).toMatchObject({ flat: false, met: false });
    const excused = judgeSoak(
      {
        watcher: { start: sample(1, 150), end: sample(1, 155) },
        mongo: { start: sample(3, 200), end: sample(3, 900) },
      },
      [6, 6],
      { mongo: 'holds the data' },
    );
    expect(excused).toMatchObject({
      flat: true,
      met: true,
      processes: { mongo: { judged: false, why: 'holds the data' } },
    });
  });

  it('judges watchers that swapped roles by role: the leader across processes, and their sum', () => {
    const watcher = (pid: number, rssMb: number, leading: boolean, fds = 40): ProcessSample => ({
      ...sample(pid, rssMb, fds),
      watcherActive: leading,
    });
    // The measured case: watcher1 led at the start, watcher2 at the end; the former leader keeps a leader's heap.
    const swapped = judgeSoak(
      {
        watcher1: { start: watcher(1, 148.7, true), end: watcher(1, 122.4, false) },
        watcher2: { start: watcher(2, 107.5, false), end: watcher(2, 150.1, true) },
      },
      [6, 6],
    );
    expect(swapped.processes.watcher1).toEqual({
      judged: false,
      why: 'changed role (leader → standby): judged with the other watchers',
    });
    expect(swapped.processes['watchers (leader)']).toMatchObject({
      judged: true,
      rssChange: 0.009,
      flat: true,
    });
    expect(swapped.processes['watchers (sum)']).toMatchObject({ judged: true, rssChange: 0.064, flat: true });
    expect(swapped.met).toBe(true);

    // A leader that grows is caught across the swap, and so is a standby that grows (through the sum).
    const leaking = judgeSoak(
      {
        watcher1: { start: watcher(1, 148.7, true), end: watcher(1, 122.4, false) },
        watcher2: { start: watcher(2, 107.5, false), end: watcher(2, 180, true) },
      },
      [6, 6],
    );
    expect(leaking.processes['watchers (leader)']).toMatchObject({ flat: false });
    expect(leaking.met).toBe(false);
    const standbyLeaking = judgeSoak(
      {
        watcher1: { start: watcher(1, 148.7, true), end: watcher(1, 160, false) },
        watcher2: { start: watcher(2, 107.5, false), end: watcher(2, 150.1, true) },
      },
      [6, 6],
    );
    expect(standbyLeaking.processes['watchers (sum)']).toMatchObject({ flat: false });
    expect(standbyLeaking.met).toBe(false);

    // Without a swap each watcher is judged on its own and no role verdict is added.
    const kept = judgeSoak(
      {
        watcher1: { start: watcher(1, 148.7, true), end: watcher(1, 150, true) },
        watcher2: { start: watcher(2, 107.5, false), end: watcher(2, 108, false) },
      },
      [6, 6],
    );
    expect(Object.keys(kept.processes)).toEqual(['watcher1', 'watcher2']);
    expect(kept.met).toBe(true);
  });

  it('is not met when nothing could be judged or no window ran', () => {
    expect(judgeSoak({ worker: { start: sample(1, 150), end: sample(2, 150) } }, [6]).flat).toBe(false);
    expect(judgeSoak({ watcher: { start: sample(1, 150), end: sample(1, 150) } }, []).steady).toBe(false);
  });
});
