// Pre-clearance: the flight manifests waiting, and one manifest screened:
// each passenger's decision (cleared / refer / do not board) with its reasons.
import { get, newest, el, table, pager } from './lib.js';

const enc = encodeURIComponent;

export async function viewFlights(ctx) {
  const names = await get('/console/api/flights');
  ctx.main.replaceChildren(el('h1', {}, 'Pre-clearance'),
    names.length ? el('ul', { id: 'manifests' }, names.map((n) => el('li', {}, el('a', { href: `#/flight/${enc(n)}` }, n))))
      : el('p', {}, 'No manifest in this node\'s preclear folder.'));
}

export async function viewFlight(ctx) {
  const name = ctx.args[0];
  const state = { offset: 0, decision: '' };
  const load = newest();
  const draw = async () => {
    const q = `offset=${state.offset}&limit=100${state.decision ? `&decision=${state.decision}` : ''}`;
    const r = await load(`/console/api/flights/${enc(name)}?${q}`);
    const sel = el('select', { id: 'decision' }, ['', 'cleared', 'refer', 'do_not_board'].map((d) => {
      const o = el('option', { value: d }, d || 'all');
      if (d === state.decision) o.selected = true;
      return o;
    }));
    sel.addEventListener('change', () => { state.decision = sel.value; state.offset = 0; draw(); });
    ctx.main.replaceChildren(el('h1', {}, `Manifest ${name}`),
      el('p', { id: 'flight-summary' }, `${r.passengers} passengers: ${r.cleared} cleared, ${r.refer} refer, ${r.do_not_board} do not board`,
        r.watchlist ? ' (names screened against the watchlist)' : ' (no watchlist in the folder)', '.'),
      el('label', {}, 'Decision', sel),
      table(['flight_id', 'passenger_seq', 'name', 'decision', 'reasons'], r.rows, (x, c) =>
        c === 'decision' ? el('span', { class: x.decision === 'cleared' ? 'ok' : 'bad' }, x.decision) : String(x[c] ?? '')),
      pager(r.total, r.offset, r.limit, (o) => { state.offset = o; draw(); }));
  };
  await draw();
}
