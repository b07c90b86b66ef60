// Traveller: one person's linked crossings in both countries as a timeline,
// days of presence, overstay flags, every link of their records with its
// evidence (the linker's own and accepted reviews), and the linkage review
// pairs involving them with the evidence (accept / split); the review queue paged.
import { api, get, newest, el, table, pager } from './lib.js';

const enc = encodeURIComponent;

function decideButtons(r, after) {
  if (r.status !== 'open') return r.status;
  const out = el('span', { role: 'status' });
  const mk = (d, label) => {
    const b = el('button', { type: 'button', class: `link-${d}`, 'data-id': String(r.id) }, label);
    b.addEventListener('click', async () => {
      const x = await api('POST', `/console/api/link-reviews/${r.id}`, { decision: d });
      out.textContent = x.ok ? ` ${x.body.status}` : ` ${x.status}: ${x.body.message}`;
      if (x.ok && after) after();
    });
    return b;
  };
  return el('span', {}, mk('accept', 'Accept (same person)'), ' ', mk('split', 'Split (two people)'), out);
}

export async function viewTraveller(ctx) {
  const key = ctx.args[0] || '';
  const doc = el('input', { id: 'document', name: 'document', value: key.startsWith('doc:') ? key.slice(4) : '' });
  const tid = el('input', { id: 'traveller-id', name: 'traveller', inputmode: 'numeric', value: key.startsWith('id:') ? key.slice(3) : '' });
  const form = el('form', { class: 'inline', id: 'traveller-form' }, el('label', {}, 'Document number', doc), el('label', {}, 'or traveller id', tid), el('button', { type: 'submit' }, 'Show'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    location.hash = tid.value.trim() ? `#/traveller/id:${enc(tid.value.trim())}` : `#/traveller/doc:${enc(doc.value.trim())}`;
  });
  const box = el('div', { id: 'traveller' });
  ctx.main.replaceChildren(el('h1', {}, 'Traveller'), form, box);
  if (!key) { doc.focus(); return; }
  const url = key.startsWith('id:') ? `/console/api/travellers/${enc(key.slice(3))}` : `/console/api/travellers/-?document=${enc(key.slice(4))}`;
  const t = await get(url);
  const rows = t.history.rows || [];
  const p = t.presence || {};
  const flags = t.overstays || [];
  box.append(
    el('h2', {}, `Traveller ${t.traveller}`),
    el('p', { id: 'presence' }, `Presence ${p.window_from} to ${p.window_to}: ${p.days_present} days`,
      p.days_min !== p.days_max ? ` (between ${p.days_min} and ${p.days_max}: gaps in the records ${String(p.uncertain).split(';').slice(0, 3).join('; ')}...)` : '',
      `; ${p.meets === 'yes' ? 'meets' : 'does not meet'} ${p.required} days.`),
    el('p', { id: 'overstay' }, flags.length ? el('span', { class: 'bad' }, `Overstay: ${flags.map((f) => `${f.days_over} days over a ${f.stay_days}-day stay from ${f.entry} (${f.stay_basis}, ${f.status})`).join('; ')}`)
      : el('span', { class: 'ok' }, 'No overstay as of today.')),
    el('h2', {}, `Timeline: ${rows.length} crossings, both countries`),
    el('ol', { class: 'timeline', id: 'timeline' }, rows.map((r) => el('li', {},
      el('strong', {}, `${r.direction} ${r.reporting_country}`), ` ${r.timestamp} at port ${r.port} - ${r.surname}, ${r.given_names} (${r.document}) record ${r.record_id}`,
      r.reconciled_with ? ` - reconciled with ${r.reconciled_with}` : ''))),
    el('h2', {}, 'Linked records and the evidence for each link'),
    (t.links || []).length ? el('div', { id: 'links-evidence' }, t.links.map((l) => el('section', { class: 'link-evidence' },
      el('h3', {}, `${l.how === 'merge' ? 'Merge' : l.how === 'review' ? 'Accepted review' : 'Automatic link'}: record ${l.record || l.crossing} with record ${l.candidate_record || l.candidate_crossing}, score ${l.score.toFixed(2)}`),
      el('p', {}, `${l.rule}${l.at ? `, ${l.at}` : ''}${l.run ? ` (link run ${l.run})` : ''}.`),
      table(['field', 'level', 'weight'], l.fields, (f, c) => c === 'weight' ? (typeof f.weight === 'number' ? f.weight.toFixed(2) : '') : String(f[c] ?? '')))))
      : el('p', { id: 'links-evidence-none' }, 'No link made by comparison: the crossings of this traveller carry the same identity fields (joined without a comparison).'),
    el('h2', {}, 'Links under review (with the evidence)'),
    t.link_reviews.length ? table(['id', 'crossing', 'candidate_traveller', 'score', 'evidence', 'status'], t.link_reviews, (r, c) =>
      c === 'status' ? decideButtons(r) : c === 'score' ? r.score.toFixed(1) : String(r[c])) : el('p', {}, 'No link of this traveller is under review.'));
}

export async function viewLinks(ctx) {
  const state = { offset: 0, status: 'open' };
  const load = newest();
  const draw = async () => {
    const r = await load(`/console/api/link-reviews?status=${state.status}&offset=${state.offset}&limit=50`);
    const sel = el('select', { id: 'link-status' }, ['open', 'accepted', 'rejected', 'all'].map((s) => {
      const o = el('option', { value: s }, s);
      if (s === state.status) o.selected = true;
      return o;
    }));
    sel.addEventListener('change', () => { state.status = sel.value; state.offset = 0; draw(); });
    ctx.main.replaceChildren(el('h1', {}, 'Linkage review queue'), el('label', {}, 'Status', sel),
      table(['id', 'traveller', 'candidate_traveller', 'score', 'evidence', 'status'], r.reviews, (x, c) =>
        c === 'status' ? decideButtons(x) : c === 'score' ? x.score.toFixed(1)
          : c.endsWith('traveller') ? el('a', { href: `#/traveller/id:${x[c]}` }, String(x[c])) : String(x[c])),
      pager(r.total, r.offset, r.limit, (o) => { state.offset = o; draw(); }));
  };
  await draw();
}
