// GET /: the dashboard, one self-contained HTML page (inline CSS and script, no CDN, no build step). The page is
// a static shell without data; everything it shows comes from the token-protected API and event stream.
import { createHash } from 'node:crypto';
import { DASHBOARD_SCRIPT } from './dashboard-script.js';
import { DASHBOARD_STYLE } from './dashboard-style.js';
import { FAVICON_DATA_URL } from './favicon.js';

export interface DashboardPage {
  html: string;
  /** Allows exactly the inline script and style of this page (by hash), and requests to this origin only. */
  contentSecurityPolicy: string;
}

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

const BODY = `
<header>
  <h1>sagastream</h1>
  <span id="conn" class="conn off" data-state="connecting">connecting…</span>
  <span class="spacer"></span>
  <button id="forget-token" class="link" hidden>forget token</button>
</header>
<div id="toast" role="status" hidden></div>
<form id="auth" hidden>
  <p id="auth-message">This admin API needs its token (ADMIN_TOKEN). It is kept in this tab only.</p>
  <input id="auth-token" type="password" autocomplete="off" placeholder="admin token" aria-label="admin token">
  <button type="submit">Use token</button>
</form>
<main id="app">
  <section id="counts" class="cards" aria-label="sagas by status"></section>
  <section class="cards small" aria-label="throughput">
    <div class="card"><span class="label">completions / min</span><span id="cpm" class="value">–</span></div>
    <div class="card"><span class="label">dead letters</span><span id="dlq-count" class="value">–</span></div>
    <div class="card"><span class="label">watcher lag</span><span id="lag" class="value">–</span></div>
  </section>
  <div class="columns">
    <section class="panel" aria-labelledby="sagas-title">
      <div class="panel-head">
        <h2 id="sagas-title">Newest sagas</h2>
        <select id="filter-saga" aria-label="saga"><option value="">all sagas</option></select>
        <select id="filter-status" aria-label="status"><option value="">all statuses</option></select>
      </div>
      <table id="sagas"><colgroup><col class="c-status"><col class="c-saga"><col><col class="c-step"><col class="c-time">
      </colgroup><thead><tr><th>status</th><th>saga</th><th>key</th><th>step</th><th>updated</th></tr></thead>
      <tbody></tbody></table>
      <p id="sagas-empty" class="muted">No sagas yet.</p>
    </section>
    <section class="panel" id="detail" aria-labelledby="detail-title">
      <div class="panel-head"><h2 id="detail-title">Saga</h2></div>
      <p class="muted" id="detail-empty">Select a saga to see its step timeline.</p>
      <div id="detail-body" hidden></div>
    </section>
  </div>
  <section class="panel" aria-labelledby="dlq-title">
    <div class="panel-head"><h2 id="dlq-title">Dead letters</h2></div>
    <table id="dead-letters"><thead><tr><th>saga</th><th>kind</th><th>step</th><th>error</th><th>attempts</th>
    <th>at</th><th></th></tr></thead><tbody></tbody></table>
    <p id="dlq-empty" class="muted">No dead letters.</p>
    <p class="more"><span id="dlq-shown" class="muted"></span>
    <button id="dlq-more" class="more-link" hidden>show more</button></p>
  </section>
  <div class="columns">
    <section class="panel" aria-labelledby="queues-title">
      <div class="panel-head"><h2 id="queues-title">Queues</h2></div>
      <table id="queues"><thead><tr><th>queue</th><th>waiting</th><th>active</th><th>delayed</th><th>failed</th></tr>
      </thead><tbody></tbody></table>
    </section>
    <section class="panel" aria-labelledby="per-saga-title">
      <div class="panel-head"><h2 id="per-saga-title">By saga</h2></div>
      <table id="per-saga"><thead></thead><tbody></tbody></table>
      <div id="watchers"></div>
      <div id="versions"></div>
    </section>
  </div>
</main>`;

export function dashboardPage(): DashboardPage {
  const html =
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    '<title>sagastream</title>' +
    `<link rel="icon" type="image/svg+xml" href="${FAVICON_DATA_URL}">` +
    `<style>${DASHBOARD_STYLE}</style></head><body>${BODY}` +
    `<script>${DASHBOARD_SCRIPT}</script></body></html>\n`;
  const contentSecurityPolicy = [
    "default-src 'none'",
    `script-src ${sha256(DASHBOARD_SCRIPT)}`,
    `style-src ${sha256(DASHBOARD_STYLE)}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return { html, contentSecurityPolicy };
}
