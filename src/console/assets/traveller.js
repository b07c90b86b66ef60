// Traveller: the linked crossings of one person (both countries) as a
// timeline, with presence and overstay figures from the node's reports.
import { get, el, table } from './lib.js';

export async function viewTraveller(ctx) {
  const doc = el('input', { id: 'document', name: 'document', value: ctx.args[0] || '' });
  const form = el('form', { class: 'inline', id: 'traveller-form' }, el('label', {}, 'Document number', doc), el('button', { type: 'submit' }, 'Show'));
  const box = el('div', { id: 'traveller' });
  form.addEventListener('submit', (ev) => { ev.preventDefault(); location.hash = `#/traveller/${encodeURIComponent(doc.value.trim())}`; });
  ctx.main.replaceChildren(el('h1', {}, 'Traveller'), form, box);
  if (!ctx.args[0]) { doc.focus(); return; }
  const h = await get(`/v1/history?document=${encodeURIComponent(ctx.args[0])}&format=json`);
  const rows = h.rows || [];
  const summary = Object.entries(h).filter(([k, v]) => k !== 'rows' && typeof v !== 'object');
  box.append(
    summary.length ? el('p', { id: 'history-summary' }, summary.map(([k, v]) => `${k}: ${v}`).join('; ')) : null,
    el('h2', {}, `Timeline (${rows.length} crossings)`),
    el('ol', { class: 'timeline', id: 'timeline' }, rows.map((r) => el('li', {}, Object.entries(r).map(([k, v]) => `${k}: ${v ?? ''}`).join(' | ')))),
    rows.length ? table(Object.keys(rows[0]), rows, (r, c) => String(r[c] ?? '')) : el('p', {}, 'No crossing.'));
}
