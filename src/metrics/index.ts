// Prometheus metrics of a sagastream process: the engine's SagaMetrics sink and the listener that serves it.
export {
  PrometheusSagaMetrics,
  prometheusSagaMetricsOptionsSchema,
  type PrometheusSagaMetricsOptions,
} from './prometheus-saga-metrics.js';
export {
  metricsServerOptionsSchema,
  startMetricsServer,
  type MetricsServer,
  type MetricsServerOptions,
  type MetricsSource,
} from './metrics-server.js';
