// Helpers: the fetch wrapper (CSRF header on state-changing requests) and DOM builders.
let csrf = '';
export function setCsrf(t) { csrf = t; }

export async function api(method, path, body) {
  const headers = {};
  if (method !== 'GET') headers['X-CSRF-Token'] = csrf;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  let data = null;
  try { data = await r.json(); } catch { data = {}; }
  return { ok: r.ok, status: r.status, body: data };
}

// GET that throws (with .status) on an error answer.
export async function get(path) {
  const r = await api('GET', path);
  if (!r.ok) { const e = new Error(`${r.status}: ${r.body.message || r.body.code || 'error'}`); e.status = r.status; throw e; }
  return r.body;
}

// A GET for a view that redraws (filter, page, poll): only the answer to the
// newest request is delivered; an older one still in flight is dropped (its
// promise never settles), so a slow page never draws over a newer one.
export function newest() {
  let n = 0;
  const never = () => new Promise(() => {});
  return (path) => {
    const mine = ++n;
    return get(path).then((r) => (mine === n ? r : never()), (e) => { if (mine === n) throw e; return never(); });
  };
}

export function el(tag, attrs, ...kids) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'style') n.style.cssText = v; // CSSOM: allowed by the CSP, unlike a style attribute
    else n.setAttribute(k, v);
  }
  for (const k of kids.flat()) if (k !== null && k !== undefined) n.append(k instanceof Node ? k : String(k));
  return n;
}

export function table(cols, rows, cell) {
  return el('table', {}, el('thead', {}, el('tr', {}, cols.map((c) => el('th', { scope: 'col' }, c)))),
    el('tbody', {}, rows.map((r) => el('tr', {}, cols.map((c) => el('td', {}, cell ? cell(r, c) : r[c]))))));
}

export function pager(total, offset, limit, go) {
  const prev = el('button', { type: 'button' }, 'Previous');
  const next = el('button', { type: 'button' }, 'Next');
  if (offset <= 0) prev.disabled = true;
  if (offset + limit >= total) next.disabled = true;
  prev.addEventListener('click', () => go(Math.max(0, offset - limit)));
  next.addEventListener('click', () => go(offset + limit));
  return el('p', { class: 'pager' }, prev, ` ${total ? offset + 1 : 0}-${Math.min(total, offset + limit)} of ${total} `, next);
}
