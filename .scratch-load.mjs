const { register } = await import('tsx/esm/api'); register();
const cjs = await import('tsx/cjs/api'); cjs.register();
for (const f of process.argv.slice(2)) {
  try { const m = await import(new URL(f, 'file:///tmp/lt/').href); const ns = m.default && m.default.__esModule ? m.default : m; const r = ns.default && ns.default.list ? ns.default : ns.registry ?? ns.default?.registry; console.log(f, r.list()); } catch (e) { console.log(f, 'ERR', e.message.split('\n')[0]); }
}
