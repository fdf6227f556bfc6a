import { describe, expect, it } from 'vitest';
import type { ProcessSample } from '../../chaos/process-probe.js';
import { judgeProcess, judgeSoak } from '../../chaos/soak-goals.js';

function sample(pid: number, rssMb: number, fds = 40): ProcessSample {
  return { pid, rssMb, rssMaxMb: rssMb, fds, eventLoopP99Ms: 5, heapUsedMb: 30 };
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

  it('is not met when nothing could be judged or no window ran', () => {
    expect(judgeSoak({ worker: { start: sample(1, 150), end: sample(2, 150) } }, [6]).flat).toBe(false);
    expect(judgeSoak({ watcher: { start: sample(1, 150), end: sample(1, 150) } }, []).steady).toBe(false);
  });
});
