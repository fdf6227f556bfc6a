// The Prometheus sink counts what the engine reports, with step durations from the injected clock.
import { describe, expect, it } from 'vitest';
import { PrometheusSagaMetrics } from '../../../src/metrics/index.js';
import { sample } from '../../prometheus-samples.js';

describe('PrometheusSagaMetrics', () => {
  it('observes each attempt once with the time the clock says it took', async () => {
    let nowMs = 1_000;
    const metrics = new PrometheusSagaMetrics({ processMetrics: false, now: () => nowMs });
    const first = metrics.stepAttemptStarted('orders', 'charge');
    nowMs += 250;
    first('failed');
    const second = metrics.stepAttemptStarted('orders', 'charge');
    nowMs += 2_000;
    second('completed');
    metrics.stepRetried('orders', 'charge', 'forward');

    const text = await metrics.render();
    const charge = { saga: 'orders', step: 'charge' };
    expect(sample(text, 'sagastream_step_duration_seconds_count', { ...charge, outcome: 'failed' })).toBe(1);
    expect(sample(text, 'sagastream_step_duration_seconds_sum', { ...charge, outcome: 'failed' })).toBe(0.25);
    expect(sample(text, 'sagastream_step_duration_seconds_sum', { ...charge, outcome: 'completed' })).toBe(2);
    expect(
      sample(text, 'sagastream_step_duration_seconds_bucket', { ...charge, outcome: 'completed', le: '2.5' }),
    ).toBe(1);
    expect(
      sample(text, 'sagastream_step_duration_seconds_bucket', { ...charge, outcome: 'completed', le: '1' }),
    ).toBe(0);
    expect(sample(text, 'sagastream_step_retries_total', { ...charge, phase: 'forward' })).toBe(1);
    expect(text).not.toContain('process_cpu_user_seconds_total');
  });

  it('counts starts and each kind of end by saga', async () => {
    const metrics = new PrometheusSagaMetrics({ processMetrics: false });
    metrics.sagasStarted('orders', 3);
    metrics.sagasEnded('orders', 'rejected', 1);
    metrics.sagasEnded('orders', 'completed', 1);
    metrics.sagasEnded('orders', 'completed', 1);
    metrics.sagasEnded('refunds', 'failed', 1);
    const text = await metrics.render();
    expect(sample(text, 'sagastream_sagas_started_total', { saga: 'orders' })).toBe(3);
    expect(sample(text, 'sagastream_sagas_rejected_total', { saga: 'orders' })).toBe(1);
    expect(sample(text, 'sagastream_sagas_completed_total', { saga: 'orders' })).toBe(2);
    expect(sample(text, 'sagastream_sagas_failed_total', { saga: 'refunds' })).toBe(1);
    expect(sample(text, 'sagastream_sagas_compensated_total', { saga: 'orders' })).toBeUndefined();
  });

  it('reports lag only while the watcher is active', async () => {
    const metrics = new PrometheusSagaMetrics();
    metrics.watcherActive('orders', true);
    metrics.watcherLag('orders', 1.5);
    let text = await metrics.render();
    expect(sample(text, 'sagastream_watcher_active', { saga: 'orders' })).toBe(1);
    expect(sample(text, 'sagastream_watcher_lag_seconds', { saga: 'orders' })).toBe(1.5);
    expect(text).toContain('process_cpu_user_seconds_total');

    metrics.watcherActive('orders', false);
    text = await metrics.render();
    expect(sample(text, 'sagastream_watcher_active', { saga: 'orders' })).toBe(0);
    expect(sample(text, 'sagastream_watcher_lag_seconds', { saga: 'orders' })).toBeUndefined();
  });

  it('shows each connection group up or down and counts its reconnects', async () => {
    const metrics = new PrometheusSagaMetrics({ processMetrics: false });
    const worker = { target: 'redis', role: 'worker' };
    metrics.connectionUp('redis', 'worker', true);
    metrics.connectionUp('redis', 'worker', false);
    let text = await metrics.render();
    expect(sample(text, 'sagastream_connection_up', worker)).toBe(0);
    expect(sample(text, 'sagastream_connection_reconnects_total', worker)).toBeUndefined();

    metrics.connectionReconnected('redis', 'worker');
    metrics.connectionUp('redis', 'worker', true);
    metrics.connectionUp('mongodb', 'client', true);
    text = await metrics.render();
    expect(sample(text, 'sagastream_connection_up', worker)).toBe(1);
    expect(sample(text, 'sagastream_connection_reconnects_total', worker)).toBe(1);
    expect(sample(text, 'sagastream_connection_up', { target: 'mongodb', role: 'client' })).toBe(1);
  });
});
