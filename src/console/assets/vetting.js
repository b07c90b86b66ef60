// Vetting: the cohort dashboard (live), a run's cases (paged on the server),
// one case (prints with minutiae, quality, candidates, the pair view, what the
// partner disclosed, confirm/reject into the R14 queue) and the review queue.
import { api, get, newest, el, table, pager } from './lib.js';

const enc = encodeURIComponent;

export async function viewCohorts(ctx) {
  const load = newest();
  const draw = async () => {
    const runs = await load('/console/api/cohorts');
    ctx.main.replaceChildren(el('h1', {}, 'Vetting runs'),
      runs.length ? table(['run', 'purpose', 'progress', 'match', 'no_match', 'refused', 'failed_capture'], runs, (r, c) => {
        const p = r.progress;
        if (c === 'run') return el('a', { href: `#/run/${enc(r.run)}` }, r.run);
        if (c === 'purpose') return r.purpose || '';
        if (c === 'progress') {
          const pct = p.applicants ? Math.round((100 * p.done) / p.applicants) : 0;
          return el('div', {}, `${p.done} of ${p.applicants} done, ${p.pending} pending`,
            el('div', { class: 'bar', role: 'progressbar', 'aria-valuenow': String(pct), 'aria-valuemin': '0', 'aria-valuemax': '100' }, el('div', { style: `width:${pct}%` })));
        }
        return String(p.outcomes[c] || 0);
      }) : el('p', {}, 'No vetting run in this node\'s vetting folder.'),
      el('p', { class: 'note' }, `Updated ${new Date().toLocaleTimeString()} (every 2 s).`));
  };
  await draw();
  ctx.setPoll(() => draw().catch(() => {}), 2000);
}

export async function viewRun(ctx) {
  const run = ctx.args[0];
  const state = { offset: 0, outcome: ctx.args[1] || '' };
  const load = newest();
  const draw = async () => {
    const q = `offset=${state.offset}&limit=50${state.outcome ? `&outcome=${enc(state.outcome)}` : ''}`;
    const r = await load(`/console/api/cohorts/${enc(run)}?${q}`);
    const sel = el('select', { id: 'outcome' }, ['', 'match', 'no_match', 'refused', 'failed_capture'].map((o) => {
      const opt = el('option', { value: o }, o || 'all');
      if (o === state.outcome) opt.selected = true;
      return opt;
    }));
    sel.addEventListener('change', () => { state.outcome = sel.value; state.offset = 0; draw(); });
    const p = r.progress;
    ctx.main.replaceChildren(el('h1', {}, `Run ${run}`),
      el('p', {}, `${r.purpose || ''}: ${p.done} of ${p.applicants} done, ${p.pending} pending; `,
        Object.entries(p.outcomes).map(([k, v]) => `${k} ${v}`).join(', ')),
      el('label', {}, 'Outcome', sel),
      table(['applicant', 'outcome', 'usable_fingers', 'best_score', 'review'], r.cases, (c, k) =>
        k === 'applicant' ? el('a', { href: `#/case/${enc(run)}/${enc(c.applicant)}` }, c.applicant)
          : k === 'best_score' ? (c.best_score ? c.best_score.toFixed(1) : '') : (c[k] ?? '')),
      pager(r.total, r.offset, r.limit, (o) => { state.offset = o; draw(); }));
  };
  await draw();
}

export async function viewCase(ctx) {
  const [run, app] = ctx.args;
  const c = await get(`/console/api/cases/${enc(app)}?run=${enc(run)}`);
  const base = `/console/api/cases/${enc(app)}`;
  const partner = c.partner || {};
  const cands = partner.candidates || [];
  const prints = el('div', { class: 'prints' }, (c.fingers || []).filter((f) => f.status === 'ok').map((f) =>
    el('figure', {}, el('img', { src: `${base}/print.png?run=${enc(run)}&finger=${f.position}`, alt: `finger ${f.position} with its minutiae`, class: 'print' }),
      el('figcaption', {}, `finger ${f.position}: quality ${f.quality}, ${f.minutiae} minutiae`))));
  const pairBox = el('div', { class: 'pair', id: 'pair' });
  const showPair = (subject, finger) => {
    pairBox.replaceChildren(el('h3', {}, `Finger ${finger}: applicant (left), candidate ${subject} (right), paired minutiae joined`),
      el('img', { id: 'pair-img', src: `${base}/pair.png?run=${enc(run)}&finger=${finger}&candidate=${enc(subject)}`, alt: `applicant and candidate ${subject}, finger ${finger}, paired minutiae joined by lines` }));
  };
  const held = c.candidate_templates || {};
  const candTable = table(['subject', 'score', 'fingers held'], cands, (r, k) => {
    if (k === 'score') return r.score.toFixed(1);
    if (k === 'subject') return r.subject;
    const fs = held[r.subject] || [];
    return fs.length ? el('span', {}, fs.map((f) => {
      const b = el('button', { type: 'button', class: 'pairbtn' }, `finger ${f}`);
      b.addEventListener('click', () => showPair(r.subject, f));
      return b;
    })) : 'partner match: no template here';
  });
  const reason = el('textarea', { id: 'reason', rows: '2', cols: '60', maxlength: '256' });
  const out = el('p', { id: 'decision-result', role: 'status' });
  const decide = async (decision) => {
    if (!reason.value.trim()) { out.textContent = 'Give a reason.'; return; }
    const r = await api('POST', `${base}/decision?run=${enc(run)}`, { decision, why: reason.value.trim() });
    out.textContent = r.ok ? `Review ${r.body.review}: ${r.body.status} by ${r.body.officer}` : `${r.status}: ${r.body.message}`;
  };
  const confirmB = el('button', { type: 'button', id: 'confirm' }, 'Confirm match');
  const rejectB = el('button', { type: 'button', id: 'reject' }, 'Reject match');
  confirmB.addEventListener('click', () => decide('confirm'));
  rejectB.addEventListener('click', () => decide('reject'));
  const disclosed = partner.disclosed ? Object.entries(partner.disclosed) : [];
  ctx.main.replaceChildren(
    el('h1', {}, `Case ${app}`),
    el('p', {}, `Run ${run}, transaction ${c.transaction_id}, purpose ${c.purpose}, outcome `, el('strong', { id: 'outcome' }, c.outcome),
      `, ${c.usable_fingers} usable fingers. Name and date of birth stay here (sent to partner: ${c.biographics ? c.biographics.sent_to_partner : false}).`),
    el('h2', {}, 'Applicant prints (decoded on the node, minutiae drawn)'), prints,
    el('div', { class: 'grid' },
      el('section', {}, el('h2', {}, 'Candidates'), cands.length ? candTable : el('p', {}, 'No candidate.')),
      el('section', {}, el('h2', {}, 'What the partner disclosed'),
        el('p', {}, `Under purpose ${partner.disclosed_under_purpose || '-'}; result ${partner.result || '-'}${partner.rule ? `, refused by ${partner.rule}: ${partner.reason}` : ''}.`),
        disclosed.length ? table(['field', 'value'], disclosed.map(([f, v]) => ({ field: f, value: typeof v === 'object' ? JSON.stringify(v) : String(v) }))) : el('p', {}, 'Nothing disclosed.'))),
    pairBox,
    c.outcome === 'match' ? el('section', {}, el('h2', {}, 'Adjudication (R14)'),
      el('label', {}, 'Reason', reason), el('p', {}, confirmB, ' ', rejectB), out) : null);
  const first = cands.find((r) => (held[r.subject] || []).length);
  if (first) showPair(first.subject, held[first.subject][0]);
  else if (cands.length) {
    pairBox.replaceChildren(el('h3', {}, 'Side by side'),
      el('p', { id: 'pair-none' }, `No side-by-side view: ${cands.map((r) => r.subject).join(', ')} ${cands.length > 1 ? 'are' : 'is'} the partner's match, `
        + 'and the partner never sends templates, so this node holds no template of the candidate to pair the minutiae with.'));
  }
}

export async function viewReviews(ctx) {
  const state = { status: 'all' };
  const load = newest();
  const draw = async () => {
    const r = await load(`/v1/reviews?status=${state.status}`);
    const sel = el('select', { id: 'review-status' }, ['all', 'pending', 'confirmed', 'rejected'].map((s) => {
      const o = el('option', { value: s }, s);
      if (s === state.status) o.selected = true;
      return o;
    }));
    sel.addEventListener('change', () => { state.status = sel.value; draw(); });
    ctx.main.replaceChildren(el('h1', {}, 'R14 review queue'), el('label', {}, 'Status', sel),
      table(['id', 'status', 'subject_ref', 'purpose', 'partner', 'evidence', 'officer', 'why'], r.reviews, (x, k) => String(x[k] ?? '')));
  };
  await draw();
}
