// The dashboard's script (inlined into the page; its hash is allowed by the page's CSP). Plain ES2020 for the
// browser: no template literals, so it can live in this TypeScript string. Data comes from the API once, then
// every change arrives over the event stream; user-provided text is only ever set through textContent.
export const DASHBOARD_SCRIPT = `
(function () {
  'use strict';
  var STATUSES = ['running', 'compensating', 'completed', 'compensated', 'failed', 'rejected'];
  var TOKEN_KEY = 'sagastream.adminToken';
  var PAGE_SIZE = 50;
  // Dead letters can run into thousands: the panel shows this many and a link for the next ones.
  var DEAD_LETTER_PAGE = 20;
  var state = { token: sessionStorage.getItem(TOKEN_KEY) || '', sagas: [], selected: null, detail: null,
    deadLetters: [], deadLetterNext: null, deadLetterTotal: null, stats: null, source: null, knownSagas: {} };
  var timers = {};

  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (name) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) return;
      if (name === 'text') node.textContent = String(value);
      else if (name === 'class') node.className = value;
      else if (name.slice(0, 2) === 'on') node.addEventListener(name.slice(2), value);
      else if (name === 'style') Object.assign(node.style, value);
      else node.setAttribute(name, String(value));
    });
    (children || []).forEach(function (child) {
      if (child !== null && child !== undefined) node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
    });
    return node;
  }
  function replaceChildren(node, children) { node.textContent = ''; children.forEach(function (c) { node.appendChild(c); }); }
  function debounce(name, ms, fn) { clearTimeout(timers[name]); timers[name] = setTimeout(fn, ms); }
  function time(value) { return value ? new Date(value).toLocaleTimeString() : ''; }
  function duration(ms) {
    if (ms === null || ms === undefined || isNaN(ms)) return '';
    if (ms < 1000) return Math.round(ms) + ' ms';
    if (ms < 60000) return (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + ' s';
    return Math.floor(ms / 60000) + ' min ' + Math.round((ms % 60000) / 1000) + ' s';
  }
  function badge(status) { return el('span', { class: 'badge ' + status, text: status }); }

  function toast(message, isError) {
    var node = $('toast');
    node.textContent = message;
    node.className = isError ? 'error' : '';
    node.hidden = false;
    debounce('toast', isError ? 8000 : 3000, function () { node.hidden = true; });
  }

  function ApiError(status, code, message) { this.status = status; this.code = code; this.message = message; }

  function api(method, path) {
    var headers = { accept: 'application/json' };
    if (state.token) headers.authorization = 'Bearer ' + state.token;
    return fetch(path, { method: method, headers: headers, credentials: 'omit', cache: 'no-store' }).then(function (response) {
      if (response.status === 204) return null;
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (response.ok) return body;
        var error = (body && body.error) || {};
        throw new ApiError(response.status, error.code || 'HTTP_' + response.status, error.message || response.statusText);
      });
    });
  }

  function askToken(message) {
    if (state.source) { state.source.close(); state.source = null; }
    setConnection('off', 'token needed');
    $('auth-message').textContent = message;
    $('auth').hidden = false;
    $('auth-token').focus();
  }

  function failed(error) {
    if (error instanceof ApiError && error.status === 401) {
      askToken(state.token ? 'The stored token was refused: ' + error.message : error.message);
    } else {
      toast(error.message || String(error), true);
    }
  }

  function setConnection(kind, text) {
    var node = $('conn');
    node.className = 'conn ' + kind;
    node.textContent = text;
    node.setAttribute('data-state', kind === 'on' ? 'live' : text);
  }

  // ---- stats ---------------------------------------------------------------------------------------------
  function renderStats(stats) {
    state.stats = stats;
    replaceChildren($('counts'), STATUSES.map(function (status) {
      return el('div', { class: 'card', 'data-status': status, style: { borderTopColor: 'var(--' + status + ')' } }, [
        el('span', { class: 'label', text: status }),
        el('span', { class: 'value', 'data-count': status, text: stats.totals[status] || 0 })
      ]);
    }));
    $('cpm').textContent = String(stats.completionsPerMinute);
    $('dlq-count').textContent = String(stats.deadLetters);
    var lags = stats.watchers.filter(function (w) { return w.lagSeconds !== null; }).map(function (w) { return w.lagSeconds; });
    $('lag').textContent = lags.length ? Math.max.apply(null, lags).toFixed(1) + ' s' : 'n/a';
    replaceChildren($('queues').tBodies[0], stats.queues.map(function (q) {
      return el('tr', { 'data-queue': q.queue }, [el('td', { text: q.queue }), el('td', { text: q.waiting }),
        el('td', { text: q.active }), el('td', { text: q.delayed }), el('td', { text: q.failed })]);
    }));
    replaceChildren($('per-saga').tHead, [el('tr', null, [el('th', { text: 'saga' })].concat(STATUSES.map(function (s) {
      return el('th', { text: s });
    })))]);
    replaceChildren($('per-saga').tBodies[0], stats.sagas.map(function (row) {
      return el('tr', null, [el('td', { text: row.saga })].concat(STATUSES.map(function (s) {
        return el('td', { text: row.counts[s] || 0 });
      })));
    }));
    replaceChildren($('watchers'), stats.watchers.map(function (w) {
      return el('div', { class: 'watcher', text: 'watcher ' + w.saga + (w.partition ? '#' + w.partition : '') + ': ' + w.state + ', lease held by ' +
        (w.leaseHolder || 'nobody') + (w.lagSeconds !== null ? ', lag ' + w.lagSeconds.toFixed(1) + ' s' : '') });
    }));
    // In flight per saga version; a version no running worker loads says so (it waits for one that does).
    replaceChildren($('versions'), (stats.versions || []).filter(function (v) { return v.inFlight > 0 || v.retirable; }).map(function (v) {
      return el('div', { class: 'watcher', 'data-version': v.saga + '@' + v.version, text: v.saga + ' v' + v.version + ': ' +
        v.inFlight + ' in flight' + (v.waitingForVersion > 0 ? ', ' + v.waitingForVersion + ' waiting for version ' + v.version : '') +
        (v.retirable ? ', retirable' : '') });
    }));
    var select = $('filter-saga');
    stats.sagas.forEach(function (row) {
      if (state.knownSagas[row.saga]) return;
      state.knownSagas[row.saga] = true;
      select.appendChild(el('option', { value: row.saga, text: row.saga }));
    });
    // The panel shows a page, not every entry: reload when the total moved, not when it differs from the page.
    if (state.deadLetterTotal !== null && stats.deadLetters !== state.deadLetterTotal) debounce('dlq', 100, loadDeadLetters);
    state.deadLetterTotal = stats.deadLetters;
    renderDeadLetterCount();
  }
  function loadStats() { return api('GET', '/api/stats').then(renderStats); }

  // ---- saga list -----------------------------------------------------------------------------------------
  function matchesFilters(saga) {
    var sagaFilter = $('filter-saga').value, statusFilter = $('filter-status').value;
    return (!sagaFilter || saga.saga === sagaFilter) && (!statusFilter || saga.status === statusFilter);
  }
  function upsertSaga(saga) {
    var index = state.sagas.findIndex(function (s) { return s.id === saga.id; });
    if (index >= 0) {
      if (new Date(state.sagas[index].updatedAt) > new Date(saga.updatedAt)) return;
      state.sagas.splice(index, 1);
    }
    if (saga.deleted || !matchesFilters(saga)) return;
    state.sagas.push(saga);
    // Newest first, as the API lists them: by creation time, then id (ids are derived from keys, not time-ordered).
    state.sagas.sort(function (a, b) {
      if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? 1 : -1;
      return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
    });
    if (state.sagas.length > PAGE_SIZE) state.sagas.length = PAGE_SIZE;
  }
  function renderSagas() {
    var rows = state.sagas.map(function (saga) {
      return el('tr', { 'data-saga-id': saga.id, 'data-key': saga.key, 'data-status': saga.status,
        class: saga.id === state.selected ? 'selected' : '', title: saga.id,
        onclick: function () { select(saga.id); } }, [
        el('td', null, [badge(saga.status)]), el('td', { text: saga.saga + ' v' + saga.version, title: saga.saga + ' v' + saga.version }),
        el('td', { text: saga.key, title: saga.key }), el('td', { text: saga.step || '', title: saga.step || null }),
        el('td', { class: 'time', text: time(saga.updatedAt) })
      ]);
    });
    replaceChildren($('sagas').tBodies[0], rows);
    $('sagas-empty').hidden = rows.length > 0;
  }
  function loadSagas() {
    var query = ['limit=' + PAGE_SIZE];
    if ($('filter-saga').value) query.push('saga=' + encodeURIComponent($('filter-saga').value));
    if ($('filter-status').value) query.push('status=' + encodeURIComponent($('filter-status').value));
    return api('GET', '/api/sagas?' + query.join('&')).then(function (page) {
      var live = state.sagas;
      state.sagas = [];
      page.items.forEach(upsertSaga);
      // Events that arrived while the page was loading are newer than the page.
      live.forEach(upsertSaga);
      renderSagas();
    });
  }

  // ---- saga detail and timeline -------------------------------------------------------------------------
  function select(id) {
    state.selected = id;
    renderSagas();
    loadDetail();
  }
  function loadDetail() {
    if (!state.selected) return Promise.resolve();
    var id = state.selected;
    return api('GET', '/api/sagas/' + encodeURIComponent(id)).then(function (detail) {
      if (state.selected === id) renderDetail(detail);
    }).catch(failed);
  }
  function operate(method, path, done) {
    return api(method, path).then(function () { toast(done, false); }).catch(failed);
  }
  function renderTimeline(detail) {
    var start = new Date(detail.createdAt).getTime();
    var end = detail.endedAt ? new Date(detail.endedAt).getTime() : Date.now();
    detail.timeline.forEach(function (seg) { if (seg.endedAt) end = Math.max(end, new Date(seg.endedAt).getTime()); });
    var span = Math.max(end - start, 1);
    function pct(t) { return Math.min(100, Math.max(0, ((t - start) / span) * 100)); }
    // At least 1% wide so short attempts stay visible, and never past the end of the track.
    function width(from, to) { return Math.max(pct(to) - pct(from), 1); }
    var rows = detail.steps.map(function (step) {
      var bars = detail.timeline.filter(function (seg) { return seg.step === step.name && seg.startedAt; }).map(function (seg) {
        var from = new Date(seg.startedAt).getTime();
        var to = seg.endedAt ? new Date(seg.endedAt).getTime() : Date.now();
        // Only the first and the latest attempt's start are stored; a middle one is timed from the previous end.
        var took = (seg.startApproximate ? '~' : '') + duration(to - from);
        var label = (seg.phase === 'compensate' ? 'compensation ' : 'attempt ') + seg.attempt + ': ' + seg.outcome +
          ', ' + took + (seg.startApproximate ? ' (approximate start: includes the backoff wait)' : '');
        return el('div', { class: 'bar ' + seg.phase + ' ' + seg.outcome + (seg.startApproximate ? ' approx' : ''),
          title: label, 'data-phase': seg.phase, 'data-outcome': seg.outcome,
          'data-approximate': seg.startApproximate ? 'yes' : null,
          style: { left: Math.min(pct(from), 100 - width(from, to)) + '%', width: width(from, to) + '%' } },
          [el('span', { class: 'bar-label', text: took })]);
      });
      var sub = step.status + (step.attempts > 1 ? ' · ' + step.attempts + ' attempts' : '') +
        (step.compensation && step.compensation.status !== 'pending' ? ' · undo ' + step.compensation.status : '');
      return el('div', { class: 'tl-row', 'data-step': step.name }, [
        el('div', { class: 'tl-name', title: step.name }, [step.name, el('small', { text: sub })]),
        el('div', { class: 'tl-track' }, bars)
      ]);
    });
    // A parallel group's members sit together in one bracket, their bars side by side on the same time axis.
    var grouped = [];
    detail.steps.forEach(function (step, index) {
      var last = grouped[grouped.length - 1];
      if (step.group && last && last.group === step.group) { last.rows.push(rows[index]); return; }
      grouped.push({ group: step.group, rows: [rows[index]] });
    });
    rows = grouped.map(function (entry) {
      if (!entry.group) return entry.rows[0];
      return el('div', { class: 'tl-group', 'data-group': entry.group },
        [el('div', { class: 'tl-group-name', text: 'parallel · ' + entry.group })].concat(entry.rows));
    });
    var legend = el('div', { class: 'legend' }, [['completed', 'var(--completed)'], ['failed', 'var(--failed)'],
      ['timed out', 'var(--timed-out)'], ['cancelled', 'var(--cancelled)'], ['running', 'var(--running)'],
      ['compensated (lower lane)', 'var(--compensated)']
    ].map(function (item) { return el('span', null, [el('i', { style: { background: item[1] } }), item[0]]); }));
    if (detail.timeline.some(function (seg) { return seg.startApproximate; })) {
      legend.appendChild(el('span', { id: 'approximate-note',
        text: '~ approximate: a middle attempt is timed from the end of the one before (includes the backoff wait)' }));
    }
    legend.appendChild(el('span', { text: 'total ' + duration(end - start) }));
    return el('div', null, [el('div', { class: 'timeline', id: 'timeline' }, rows), legend]);
  }
  // A duration goes inside its bar when it fits, else beside it (right, or left) where it covers no other bar or
  // label of its lane and stays on the track; otherwise only the bar's tooltip has it. Never cut off.
  function placeBarLabels() {
    // Fractional boxes, not offsetLeft/offsetWidth: those are rounded, and a label placed by them could reach a
    // fraction of a pixel into the next bar. GAP keeps a placed label clear of its neighbours.
    var GAP = 1;
    Array.prototype.forEach.call(document.querySelectorAll('#timeline .tl-track'), function (track) {
      var origin = track.getBoundingClientRect().left;
      function span(node) {
        var box = node.getBoundingClientRect();
        return [box.left - origin, box.right - origin];
      }
      var bars = Array.prototype.slice.call(track.querySelectorAll('.bar'));
      var taken = { forward: [], compensate: [] };
      bars.forEach(function (bar) {
        var at = span(bar);
        taken[bar.getAttribute('data-phase')].push([at[0], at[1], bar]);
      });
      var trackWidth = track.clientWidth;
      bars.forEach(function (bar) {
        var label = bar.querySelector('.bar-label');
        label.className = 'bar-label';
        label.hidden = false;
        var lane = taken[bar.getAttribute('data-phase')];
        var at = span(bar), left = at[0], right = at[1], needed = label.getBoundingClientRect().width;
        // A very short attempt is drawn 1% wide and may reach into the next bar: a label inside must clear it too.
        function free(from, to) {
          return from >= 0 && to <= trackWidth &&
            lane.every(function (r) { return r[2] === bar || to + GAP <= r[0] || from >= r[1] + GAP; });
        }
        var place = needed <= right - left && free(left, left + needed) ? ['inside', left, left + needed]
          : free(right, right + needed) ? ['outside-right', right, right + needed]
          : free(left - needed, left) ? ['outside-left', left - needed, left] : null;
        if (place) { label.classList.add(place[0]); lane.push([place[1], place[2]]); }
        else label.hidden = true;
      });
    });
  }
  function renderDetail(detail) {
    state.detail = detail;
    $('detail-empty').hidden = true;
    var body = $('detail-body');
    body.hidden = false;
    var meta = [['id', detail.id], ['saga', detail.saga + ' v' + detail.version], ['key', detail.key],
      ['step', detail.step || '–'], ['created', new Date(detail.createdAt).toLocaleString()]];
    if (detail.expiresAt) meta.push(['expires', new Date(detail.expiresAt).toLocaleString()]);
    if (detail.waiting) meta.push(['waiting', detail.waiting.step + ' for ' + detail.waiting.for +
      (detail.waiting.filter ? ' ' + JSON.stringify(detail.waiting.filter) : '') + ' since ' +
      new Date(detail.waiting.since).toLocaleString() +
      (detail.waiting.timeoutAt ? ', until ' + new Date(detail.waiting.timeoutAt).toLocaleString() : '')]);
    if (detail.reason) meta.push(['reason', detail.reason]);
    if (detail.error) meta.push(['error', detail.error.code + ': ' + detail.error.message]);
    var actions = [];
    if (detail.status === 'running') actions.push(el('button', { class: 'danger', id: 'cancel-saga', text: 'Cancel',
      onclick: function () { operate('POST', '/api/sagas/' + detail.id + '/cancel', 'Cancelling ' + detail.id); } }));
    if (detail.status === 'failed' || detail.status === 'rejected') actions.push(el('button', { id: 'retry-saga',
      text: 'Retry', onclick: function () { operate('POST', '/api/sagas/' + detail.id + '/retry', 'Retrying ' + detail.id); } }));
    replaceChildren(body, [
      el('div', { class: 'panel-head' }, [badge(detail.status)]),
      el('dl', { class: 'meta' }, meta.reduce(function (list, pair) {
        return list.concat([el('dt', { text: pair[0] }), el('dd', { text: pair[1] })]);
      }, [])),
      el('div', { class: 'actions' }, actions),
      renderTimeline(detail),
      el('details', null, [el('summary', { text: 'input' }), el('pre', { text: JSON.stringify(detail.input, null, 2) })]),
      el('details', null, [el('summary', { text: 'history (' + detail.history.length + ')' }),
        el('pre', { text: detail.history.map(function (h) {
          return time(h.at) + '  ' + h.type + (h.step ? ' ' + h.step : '') + (h.attempt ? ' #' + h.attempt : '') +
            (h.message ? ' - ' + h.message : '');
        }).join('\\n') })])
    ]);
    placeBarLabels();
  }

  // ---- dead letters --------------------------------------------------------------------------------------
  function renderDeadLetters() {
    var rows = state.deadLetters.map(function (entry) {
      var discard = el('button', { class: 'danger', text: 'Discard', 'data-action': 'discard' });
      discard.addEventListener('click', function () {
        if (discard.getAttribute('data-armed') !== 'yes') {
          discard.setAttribute('data-armed', 'yes');
          discard.textContent = 'Confirm discard';
          return;
        }
        operate('DELETE', '/api/dead-letters/' + encodeURIComponent(entry.id), 'Discarded ' + entry.id).then(loadDeadLetters);
      });
      var retry = el('button', { text: 'Retry', 'data-action': 'retry', onclick: function () {
        retry.disabled = true;
        operate('POST', '/api/dead-letters/' + encodeURIComponent(entry.id) + '/retry', 'Retrying ' + entry.sagaId)
          .then(loadDeadLetters);
      } });
      return el('tr', { 'data-dead-letter-id': entry.id, 'data-saga-id': entry.sagaId }, [
        el('td', { text: entry.saga, title: entry.sagaId }), el('td', { text: entry.kind }), el('td', { text: entry.step || '' }),
        el('td', { text: entry.error.code + ': ' + entry.error.message, title: entry.error.message }),
        el('td', { text: entry.attempts }), el('td', { class: 'time', text: time(entry.at) }),
        el('td', null, [el('div', { class: 'actions' }, [retry, discard])])
      ]);
    });
    replaceChildren($('dead-letters').tBodies[0], rows);
    $('dlq-empty').hidden = rows.length > 0;
    renderDeadLetterCount();
  }
  function renderDeadLetterCount() {
    var partial = state.deadLetterNext !== null;
    $('dlq-more').hidden = !partial;
    var total = state.deadLetterTotal === null ? '' : ' of ' + state.deadLetterTotal;
    $('dlq-shown').textContent = partial ? 'showing ' + state.deadLetters.length + total : '';
  }
  function deadLetterPage(limit, after) {
    return api('GET', '/api/dead-letters?limit=' + limit + (after ? '&after=' + encodeURIComponent(after) : ''));
  }
  // Reloads as many as the panel shows (at least a page), so a retry or discard does not fold the list up.
  function loadDeadLetters() {
    var limit = Math.min(1000, Math.max(DEAD_LETTER_PAGE, state.deadLetters.length));
    return deadLetterPage(limit, null).then(function (page) {
      state.deadLetters = page.items;
      state.deadLetterNext = page.next;
      renderDeadLetters();
    }).catch(failed);
  }
  function loadMoreDeadLetters() {
    if (state.deadLetterNext === null) return Promise.resolve();
    return deadLetterPage(DEAD_LETTER_PAGE, state.deadLetterNext).then(function (page) {
      var known = {};
      state.deadLetters.forEach(function (entry) { known[entry.id] = true; });
      state.deadLetters = state.deadLetters.concat(page.items.filter(function (entry) { return !known[entry.id]; }));
      state.deadLetterNext = page.next;
      renderDeadLetters();
    }).catch(failed);
  }

  // ---- live updates --------------------------------------------------------------------------------------
  function openEvents() {
    if (state.source) state.source.close();
    var url = '/api/events' + (state.token ? '?token=' + encodeURIComponent(state.token) : '');
    var source = new EventSource(url);
    state.source = source;
    source.addEventListener('hello', function () {
      setConnection('on', 'live');
      // (Re)connected: changes made before the stream was subscribed never arrive as events, so load a fresh
      // snapshot once more (the first one is already on screen); later changes arrive as events.
      loadSnapshot().catch(failed);
    });
    source.addEventListener('saga', function (event) {
      var saga = JSON.parse(event.data);
      upsertSaga(saga);
      renderSagas();
      if (saga.id === state.selected) debounce('detail', 150, loadDetail);
    });
    source.addEventListener('stats', function (event) { renderStats(JSON.parse(event.data)); });
    source.onerror = function () {
      setConnection('off', 'reconnecting…');
      // A refused token cannot be seen on an EventSource; ask the API why.
      api('GET', '/api/stats').catch(failed);
    };
  }

  function loadSnapshot() {
    return Promise.all([loadStats(), loadSagas(), loadDeadLetters(), loadDetail()]);
  }

  // Everything loads at once; the event stream opens when the token was accepted (a refused one asks again).
  function start() {
    $('auth').hidden = true;
    $('forget-token').hidden = !state.token;
    loadSnapshot().then(openEvents).catch(failed);
  }

  STATUSES.forEach(function (s) { $('filter-status').appendChild(el('option', { value: s, text: s })); });
  $('filter-saga').addEventListener('change', function () { loadSagas().catch(failed); });
  $('filter-status').addEventListener('change', function () { loadSagas().catch(failed); });
  $('dlq-more').addEventListener('click', function () { loadMoreDeadLetters(); });
  window.addEventListener('resize', function () { debounce('labels', 150, placeBarLabels); });
  $('auth').addEventListener('submit', function (event) {
    event.preventDefault();
    state.token = $('auth-token').value.trim();
    $('auth-token').value = '';
    sessionStorage.setItem(TOKEN_KEY, state.token);
    start();
  });
  $('forget-token').addEventListener('click', function () {
    sessionStorage.removeItem(TOKEN_KEY);
    state.token = '';
    askToken('Token forgotten. Enter the admin token to continue.');
  });
  start();
})();
`;
