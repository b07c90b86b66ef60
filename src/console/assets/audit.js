// Audit: the disclosure log filtered by kind/purpose/rule/period and paged on
// the server, the chain's verification and the partners' last checkpoints.
import { get, newest, el, table, pager } from './lib.js';

export async function viewAudit(ctx) {
  const state = { offset: 0, kind: '', purpose: '', rule: '', from: '', to: '' };
  const input = (id, label, type) => el('label', {}, label, el('input', { id: `f-${id}`, name: id, type: type || 'text' }));
  const form = el('form', { class: 'inline', id: 'audit-filter' }, input('kind', 'Kind'), input('purpose', 'Purpose'), input('rule', 'Rule'),
    input('from', 'From', 'date'), input('to', 'To', 'date'), el('button', { type: 'submit' }, 'Filter'));
  const box = el('div', {});
  const load = newest();
  const secs = (d, end) => (d ? String(Math.floor(Date.parse(d + (end ? 'T23:59:59Z' : 'T00:00:00Z')) / 1000)) : '');
  const draw = async () => {
    const p = new URLSearchParams({ offset: String(state.offset), limit: '50' });
    for (const k of ['kind', 'purpose', 'rule']) if (state[k]) p.set(k, state[k]);
    if (state.from) p.set('from', secs(state.from, false));
    if (state.to) p.set('to', secs(state.to, true));
    const r = await load(`/console/api/audit?${p}`);
    const v = r.verify;
    box.replaceChildren(
      el('p', { id: 'chain' }, 'Chain: ', el('span', { class: v.intact ? 'ok' : 'bad' }, v.intact ? 'intact' : `BROKEN at entry ${v.bad_seq}`),
        ` - ${v.entries} entries, ${v.checkpoints_matched} own checkpoints matched. ${v.intact ? '' : v.what}`),
      table(['partner', 'last signed checkpoint'], r.partners, (x, k) => k === 'partner' ? x.code
        : x.last ? `${x.last.count} entries at ${new Date(x.last.time * 1000).toISOString()}, signature ${x.last.signature}` : (x.error || 'none received yet')),
      el('h2', {}, 'Entries (newest first)'),
      table(['seq', 'time', 'kind', 'actor', 'partner', 'purpose', 'rule', 'txn', 'fields', 'detail'], r.entries, (e, k) =>
        k === 'time' ? new Date(e.time * 1000).toISOString() : k === 'fields' ? e.fields.join(', ') : String(e[k] ?? '')),
      pager(r.total, r.offset, r.limit, (o) => { state.offset = o; draw(); }));
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    for (const k of ['kind', 'purpose', 'rule', 'from', 'to']) state[k] = form.querySelector(`#f-${k}`).value.trim();
    state.offset = 0;
    draw();
  });
  ctx.main.replaceChildren(el('h1', {}, 'Disclosure log'), form, box, subjectAccess());
  await draw();
}

// The subject access report (R12): a person's own crossings, the disclosures
// naming their records, what was received about them, reviews.
function subjectAccess() {
  const doc = el('input', { id: 'sa-document', name: 'document' });
  const iss = el('input', { id: 'sa-issuer', name: 'issuer', maxlength: '3', size: '4' });
  const out = el('div', { id: 'subject-access' });
  const form = el('form', { class: 'inline', id: 'sa-form' }, el('label', {}, 'Document number', doc), el('label', {}, 'Issuer', iss), el('button', { type: 'submit' }, 'Report'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    out.replaceChildren('Loading...');
    try {
      const r = await get(`/v1/subject-access?document=${encodeURIComponent(doc.value.trim())}&issuer=${encodeURIComponent(iss.value.trim())}`);
      out.replaceChildren(...Object.entries(r).map(([k, v]) => {
        if (Array.isArray(v)) {
          const cols = v.length ? Object.keys(v[0]) : [];
          return el('section', {}, el('h3', {}, `${k} (${v.length})`), v.length ? table(cols, v.slice(0, 200), (x, c) => (typeof x[c] === 'object' ? JSON.stringify(x[c]) : String(x[c] ?? ''))) : el('p', {}, 'none'));
        }
        return el('p', {}, `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`);
      }));
    } catch (e) {
      out.replaceChildren(el('p', { class: 'error', role: 'alert' }, e.message));
    }
  });
  return el('section', {}, el('h2', {}, 'Subject access report (R12)'), form, out);
}
