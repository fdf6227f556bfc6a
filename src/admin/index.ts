// The admin HTTP server: JSON API, live dashboard (GET /), Prometheus metrics (GET /metrics).
export {
  ADMIN_BODY_LIMIT_BYTES,
  EVENT_STREAM_MAX_BUFFERED_BYTES,
  startAdminServer,
  type AdminServer,
  type AdminServerOptions,
} from './admin-server.js';
export type { AdminBackend } from './admin-backend.js';
export { checkReadiness, type ReadinessReport } from './readiness.js';
export {
  watcherName,
  type AdminStats,
  type QueueDepth,
  type StatusCounts,
  type WatcherReport,
} from './system-status.js';
export { type VersionReport, type WaitingForVersion } from './version-reports.js';
export { type SagaSummary, type TimelineSegment } from './saga-views.js';
export { MAX_DEAD_LETTER_PAGE_SIZE } from './dead-letter-routes.js';
