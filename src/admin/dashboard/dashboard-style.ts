// The dashboard's stylesheet (inlined into the page; its hash is allowed by the page's CSP).
export const DASHBOARD_STYLE = `
:root { --bg: #f6f7f9; --panel: #fff; --text: #1f2933; --muted: #6b7785; --line: #e3e7ec;
  --running: #2563eb; --compensating: #9333ea; --completed: #16a34a; --compensated: #0891b2;
  --failed: #dc2626; --rejected: #ea580c; --timed-out: #d97706; --cancelled: #64748b; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg);
  color: var(--text); }
header { display: flex; align-items: center; gap: 12px; padding: 10px 20px; background: #111827; color: #f9fafb; }
header h1 { font-size: 17px; margin: 0; letter-spacing: .02em; }
.spacer { flex: 1; }
.conn { font-size: 12px; padding: 2px 8px; border-radius: 10px; background: #374151; }
.conn::before { content: "● "; }
.conn.on { color: #86efac; } .conn.off { color: #fca5a5; }
main { padding: 16px 20px; display: flex; flex-direction: column; gap: 16px; }
.cards { display: grid; grid-template-columns: repeat(6, minmax(0, 1fr)); gap: 10px; }
.cards.small { grid-template-columns: repeat(3, minmax(0, 1fr)); }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px;
  display: flex; flex-direction: column; border-top: 3px solid var(--line); }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 24px; font-weight: 600; font-variant-numeric: tabular-nums; }
.columns { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 16px; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px;
  overflow: auto; }
.panel-head { display: flex; align-items: center; gap: 8px; margin-bottom: 8px; }
.panel-head h2 { font-size: 15px; margin: 0; flex: 1; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th { text-align: left; font-weight: 600; color: var(--muted); font-size: 12px; border-bottom: 1px solid var(--line);
  padding: 4px 6px; }
td { padding: 5px 6px; border-bottom: 1px solid var(--line); vertical-align: top; max-width: 280px;
  overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
/* Fixed columns: a long key or step is cut with an ellipsis (its tooltip has it), never the time. */
#sagas { table-layout: fixed; }
#sagas .c-status { width: 8.5em; } #sagas .c-saga { width: 15%; } #sagas .c-step { width: 15%; }
#sagas .c-time { width: 7.5em; }
td.time { overflow: visible; text-overflow: clip; }
#sagas tbody tr { cursor: pointer; }
#sagas tbody tr:hover, #sagas tbody tr.selected { background: #eef2ff; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; color: #fff;
  background: var(--muted); }
.badge.running { background: var(--running); } .badge.compensating { background: var(--compensating); }
.badge.completed { background: var(--completed); } .badge.compensated { background: var(--compensated); }
.badge.failed { background: var(--failed); } .badge.rejected { background: var(--rejected); }
.muted { color: var(--muted); }
button { font: inherit; border: 1px solid #cbd2d9; background: #fff; border-radius: 6px; padding: 3px 10px;
  cursor: pointer; }
button:hover { background: #f1f5f9; }
button.danger { color: var(--failed); border-color: #fecaca; }
button.link { background: none; border: none; color: #cbd5e1; text-decoration: underline; }
.more { display: flex; gap: 10px; align-items: baseline; margin: 8px 0 0; }
button.more-link { background: none; border: none; padding: 0; color: var(--running); text-decoration: underline; }
select, input { font: inherit; padding: 3px 6px; border: 1px solid #cbd2d9; border-radius: 6px; }
#auth { margin: 16px 20px; padding: 14px; background: #fffbeb; border: 1px solid #fde68a; border-radius: 8px; }
#toast { position: fixed; right: 20px; bottom: 20px; max-width: 420px; padding: 10px 14px; border-radius: 8px;
  background: #111827; color: #f9fafb; box-shadow: 0 4px 16px rgba(0,0,0,.2); z-index: 10; }
#toast.error { background: #7f1d1d; }
.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0 0 10px; }
.meta dt { color: var(--muted); } .meta dd { margin: 0; overflow-wrap: anywhere; }
.actions { display: flex; gap: 8px; margin-bottom: 10px; }
.timeline { display: flex; flex-direction: column; gap: 6px; margin: 8px 0; }
.tl-group { display: flex; flex-direction: column; gap: 6px; border-left: 3px solid var(--muted); padding-left: 6px; }
.tl-group-name { font-size: 12px; color: var(--muted); }
.tl-row { display: grid; grid-template-columns: minmax(90px, 170px) 1fr; gap: 8px; align-items: center; }
/* Step names and their status lines wrap rather than being cut. */
.tl-name { overflow-wrap: anywhere; line-height: 1.25; }
.tl-name small { display: block; color: var(--muted); }
.tl-track { position: relative; height: 34px; background: repeating-linear-gradient(90deg, #f8fafc 0 10%,
  #f1f5f9 10% 20%); border-radius: 4px; }
.bar { position: absolute; height: 14px; border-radius: 3px; min-width: 3px; font-size: 10px; line-height: 14px; }
.bar-label { position: absolute; top: 0; white-space: nowrap; visibility: hidden; padding: 0 3px; }
.bar-label.inside { left: 0; color: #fff; visibility: visible; }
.bar-label.outside-right { left: 100%; color: var(--text); visibility: visible; }
.bar-label.outside-left { right: 100%; color: var(--text); visibility: visible; }
.bar.forward { top: 2px; } .bar.compensate { top: 18px; background-image: repeating-linear-gradient(45deg,
  rgba(255,255,255,.25) 0 4px, transparent 4px 8px); }
.bar.completed { background-color: var(--completed); } .bar.failed { background-color: var(--failed); }
.bar.timed-out { background-color: var(--timed-out); } .bar.running { background-color: var(--running); }
.bar.cancelled { background-color: var(--cancelled); }
.bar.compensate.completed { background-color: var(--compensated); }
.bar.approx { opacity: .75; }
.legend { display: flex; gap: 12px; flex-wrap: wrap; font-size: 12px; color: var(--muted); }
.legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; }
pre { background: #f8fafc; border: 1px solid var(--line); border-radius: 6px; padding: 8px; overflow: auto;
  max-height: 220px; font-size: 12px; }
details summary { cursor: pointer; color: var(--muted); margin-top: 6px; }
.watcher { font-size: 12px; color: var(--muted); margin-top: 8px; }
@media (max-width: 1000px) { .columns { grid-template-columns: 1fr; } .cards { grid-template-columns: repeat(3, 1fr); } }
`;
