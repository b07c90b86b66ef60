// The officers' web console: one module, hash routing, every datum from the
// node's JSON routes (docs/console.md). No inline script: the CSP forbids it.
import { api, el, table, setCsrf } from './lib.js';
import { viewCohorts, viewRun, viewCase, viewReviews } from './vetting.js';
import { viewTraveller, viewLinks } from './traveller.js';
import { viewAudit } from './audit.js';
import { viewFlights, viewFlight } from './flights.js';

const main = document.getElementById('main');
let session = null;

const views = {
  cohorts: { title: 'Vetting', fn: viewCohorts },
  reviews: { title: 'Review queue', fn: viewReviews },
  traveller: { title: 'Traveller', fn: viewTraveller },
  links: { title: 'Link reviews', fn: viewLinks },
  flights: { title: 'Pre-clearance', fn: viewFlights },
  audit: { title: 'Audit', fn: viewAudit },
};

function showLogin(message) {
  document.getElementById('nav').replaceChildren();
  document.getElementById('who').textContent = '';
  document.getElementById('logout').hidden = true;
  const user = el('input', { id: 'username', name: 'username', autocomplete: 'username', required: '' });
  const pass = el('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: '' });
  const err = el('p', { class: 'error', role: 'alert' }, message || '');
  const form = el('form', { id: 'login', class: 'inline' },
    el('label', {}, 'Officer', user), el('label', {}, 'Password', pass),
    el('button', { type: 'submit' }, 'Log in'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const r = await api('POST', '/console/api/login', { username: user.value, password: pass.value });
    if (r.ok) { await start(); } else { err.textContent = r.body.message || 'login failed'; }
  });
  main.replaceChildren(el('h1', {}, 'Log in'), form, err);
  user.focus();
}

async function start() {
  const r = await api('GET', '/console/api/session');
  if (!r.ok) { showLogin(''); return; }
  session = r.body;
  setCsrf(session.csrf);
  document.getElementById('who').textContent = `${session.officer} (${session.role}) - ${session.country}`;
  const lo = document.getElementById('logout');
  lo.hidden = false;
  const nav = document.getElementById('nav');
  nav.replaceChildren(...session.views.filter((v) => views[v]).map((v) => el('a', { href: `#/${v}` }, views[v].title)));
  route();
}

let poll = null;
let shown = 0; // the route whose view is on screen
// Each route draws into its own container: a view still loading when the
// officer (or the first route's redirect) moves on keeps drawing into its
// detached container and can never replace the newer view.
async function route() {
  if (poll) { clearInterval(poll); poll = null; }
  if (!session) return;
  const mine = ++shown;
  const current = () => mine === shown;
  const [, name, ...rest] = (location.hash || '#/').slice(1).split('/');
  const box = el('div', {}, el('p', {}, 'Loading...'));
  main.replaceChildren(box);
  const ctx = { main: box, session, args: rest.map(decodeURIComponent), setPoll: (f, ms) => { if (current()) poll = setInterval(f, ms); } };
  try {
    if (name === 'run') await viewRun(ctx);
    else if (name === 'case') await viewCase(ctx);
    else if (name === 'flight') await viewFlight(ctx);
    else if (views[name] && session.views.includes(name)) await views[name].fn(ctx);
    else if (session.views.length) { location.hash = `#/${session.views[0]}`; return; }
    else box.replaceChildren(el('p', {}, 'This role has no console view.'));
  } catch (e) {
    if (!current()) return;
    if (e.status === 401) { session = null; showLogin('Your session ended; log in again.'); return; }
    box.replaceChildren(el('p', { class: 'error', role: 'alert' }, `${e.message}`));
  }
  if (current()) main.focus();
}

document.getElementById('logout').addEventListener('click', async () => {
  await api('POST', '/console/api/logout');
  session = null;
  showLogin('Logged out.');
});
window.addEventListener('hashchange', route);
start();
export { table };
