// Browser tests of the officers' web console (docs/console.md), run by
// tests/e2e/console_browser.sh against a node it started on synthetic data:
// headless Debian chromium driven by playwright-core, at 1280x800.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const base = process.env.CONSOLE_URL;
const shots = process.env.CONSOLE_SHOTS;
const run = process.env.CONSOLE_RUN;
const matchCase = process.env.CONSOLE_MATCH_CASE;
const doc = process.env.CONSOLE_DOCUMENT;
const linked = process.env.CONSOLE_LINKED;
const password = 'correct-horse';
let browser;

before(async () => {
  assert.ok(base && run && matchCase, 'CONSOLE_URL, CONSOLE_RUN, CONSOLE_MATCH_CASE');
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
});
after(async () => { await browser?.close(); });

async function fresh() {
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(m.text()); });
  return { ctx, page, errors };
}

async function login(page, user) {
  await page.goto(`${base}/console/`);
  await page.fill('#username', user);
  await page.fill('#password', password);
  await page.keyboard.press('Enter'); // by keyboard
  await page.waitForSelector('#logout:not([hidden])');
}

// Polls a predicate in the page (waitForFunction would eval a string, which
// the console's CSP rightly forbids).
async function until(page, fn, arg, ms = 20000) {
  const end = Date.now() + ms;
  for (;;) {
    if (await page.evaluate(fn, arg)) return;
    if (Date.now() > end) throw new Error(`timed out: ${fn} (${await page.textContent('main')})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function shot(page, name) {
  if (shots) await page.screenshot({ path: `${shots}/${name}.png`, fullPage: false });
}

test('a logged-out browser gets the login form and no data', async () => {
  const { ctx, page } = await fresh();
  await page.goto(`${base}/console/#/audit`);
  await page.waitForSelector('#login');
  const r = await page.evaluate(async () => (await fetch('/console/api/audit')).status);
  assert.equal(r, 401);
  const c = await page.evaluate(async () => (await fetch('/console/api/cohorts')).status);
  assert.equal(c, 401);
  await shot(page, 'login');
  await ctx.close();
});

test('vetting case: prints with minutiae, candidate pair, confirm into the R14 queue', async () => {
  const { ctx, page, errors } = await fresh();
  await login(page, 'adj');
  await page.goto(`${base}/console/#/cohorts`);
  await page.waitForSelector(`a[href="#/run/${run}"]`);
  await shot(page, 'cohorts');
  // the dashboard is live: a run that appears is shown without a reload
  cpSync(`${process.env.CONSOLE_VETTING}/${run}`, `${process.env.CONSOLE_VETTING}/${run}-copy`, { recursive: true });
  await page.waitForSelector(`a[href="#/run/${run}-copy"]`, { timeout: 10000 });
  await page.click(`a[href="#/run/${run}"]`);
  await page.waitForSelector(`a[href="#/case/${run}/${matchCase}"]`);
  await page.click(`a[href="#/case/${run}/${matchCase}"]`);
  await page.waitForSelector('#outcome');
  assert.equal(await page.textContent('#outcome'), 'match');
  // the overlay images decode (the node drew them)
  await until(page, () => { const i = document.querySelector('img.print'); return i && i.complete && i.naturalWidth > 0; }, null, { timeout: 20000 });
  await until(page, () => { const i = document.querySelector('#pair-img'); return i && i.complete && i.naturalWidth > 0; }, null, { timeout: 20000 });
  const w = await page.evaluate(() => document.querySelector('#pair-img').naturalWidth);
  const pw = await page.evaluate(() => document.querySelector('img.print').naturalWidth);
  assert.ok(w > pw, `pair image (${w}) wider than one print (${pw})`);
  await until(page, () => [...document.querySelectorAll('img.print')].every((i) => i.complete && i.naturalWidth > 0));
  await shot(page, 'case');
  await page.$eval('#pair', (n) => n.scrollIntoView());
  await shot(page, 'case-pair');
  // confirm with a reason
  await page.fill('#reason', 'same person: ten fingers agree');
  await page.click('#confirm');
  await until(page, () => /confirmed by adj/.test(document.querySelector('#decision-result').textContent));
  // a second decision is refused (never overwritten)
  await page.click('#reject');
  await until(page, () => /^409/.test(document.querySelector('#decision-result').textContent));
  // and the queue shows it
  await page.goto(`${base}/console/#/reviews`);
  await page.waitForSelector('table');
  const text = await page.textContent('table');
  assert.match(text, /confirmed/);
  assert.match(text, /ten fingers agree/);
  await shot(page, 'reviews');
  // the run's list reads the queue live: the case shows the decision
  // before any `perimeter vet refresh` wrote it into the case file
  await page.goto(`${base}/console/#/run/${run}`);
  await page.waitForSelector(`a[href="#/case/${run}/${matchCase}"]`);
  const row = await page.evaluate((h) => document.querySelector(`a[href="${h}"]`).closest('tr').textContent,
    `#/case/${run}/${matchCase}`);
  assert.match(row, /confirmed/);
  // a partner's candidate whose template this node does not hold: said plainly, no image
  const copyCase = `${process.env.CONSOLE_VETTING}/${run}-copy/cases/${matchCase}.json`;
  const c = JSON.parse(readFileSync(copyCase, 'utf8'));
  c.partner.candidates = [{ subject: '9999999', score: 48.5 }];
  writeFileSync(copyCase, JSON.stringify(c));
  await page.goto(`${base}/console/#/case/${run}-copy/${matchCase}`);
  await page.waitForSelector('#pair-none');
  assert.match(await page.textContent('#pair-none'), /9999999 is the partner's match.*never sends templates/);
  assert.equal(await page.$('#pair-img'), null);
  assert.match(await page.textContent('main'), /partner match: no template here/);
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('a wrong role is refused', async () => {
  const { ctx, page } = await fresh();
  await login(page, 'analyst');
  const nav = await page.textContent('#nav');
  assert.doesNotMatch(nav, /Vetting|Audit/);
  assert.match(nav, /Traveller/);
  const s = await page.evaluate(async (u) => {
    const sess = await (await fetch('/console/api/session')).json();
    const a = (await fetch(u.c)).status;
    const b = (await fetch('/console/api/audit')).status;
    const d = await fetch(u.d, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': sess.csrf }, body: JSON.stringify({ decision: 'reject', why: 'x' }) });
    return [a, b, d.status, (await d.json()).code];
  }, { c: `/console/api/cases/${matchCase}?run=${run}`, d: `/console/api/cases/${matchCase}/decision?run=${run}` });
  assert.deepEqual(s, [403, 403, 403, 'role_insufficient']);
  await ctx.close();
});

test('cross-site requests are refused: no CSRF token, a wrong one, a foreign Origin', async () => {
  const { ctx, page } = await fresh();
  await login(page, 'adj');
  const path = `/console/api/cases/${matchCase}/decision?run=${run}`;
  const r = await page.evaluate(async (p) => {
    const body = JSON.stringify({ decision: 'reject', why: 'x' });
    const h = { 'Content-Type': 'application/json' };
    const none = await fetch(p, { method: 'POST', headers: h, body });
    const wrong = await fetch(p, { method: 'POST', headers: { ...h, 'X-CSRF-Token': 'a'.repeat(64) }, body });
    return [none.status, (await none.json()).code, wrong.status, (await wrong.json()).code];
  }, path);
  assert.deepEqual(r, [403, 'csrf_failed', 403, 'csrf_failed']);
  // the same cookie and the right token, sent as from another site
  const csrf = await page.evaluate(async () => (await (await fetch('/console/api/session')).json()).csrf);
  const foreign = await ctx.request.post(`${base}${path}`, {
    headers: { Origin: 'https://evil.example', 'X-CSRF-Token': csrf, 'Content-Type': 'application/json' },
    data: { decision: 'reject', why: 'x' },
  });
  assert.equal(foreign.status(), 403);
  assert.equal((await foreign.json()).code, 'cross_site');
  // a page of another origin cannot even send the cookie (SameSite=Strict): logged out there
  await ctx.close();
});

test('traveller timeline of both countries, presence, link review accept', async () => {
  const { ctx, page, errors } = await fresh();
  await login(page, 'analyst');
  await page.goto(`${base}/console/#/traveller`);
  await page.fill('#document', doc);
  await page.keyboard.press('Enter');
  await page.waitForSelector('#timeline li, main .error');
  assert.equal(await page.$('main .error'), null, await page.textContent('main'));
  const items = await page.$$eval('#timeline li', (l) => l.map((x) => x.textContent));
  assert.ok(items.length >= 2, 'several crossings');
  assert.ok(items.some((t) => / CAN /.test(t)) && items.some((t) => / USA /.test(t)), 'both countries');
  assert.match(await page.textContent('#presence'), /\d+ days/);
  await shot(page, 'traveller');
  // accept the first open link pair of this traveller
  const accept = await page.$('button.link-accept');
  assert.ok(accept, 'a link of this traveller is under review');
  const id = await accept.getAttribute('data-id');
  await accept.click();
  await until(page, () => / accepted/.test(document.querySelector('#traveller table').textContent));
  await page.goto(`${base}/console/#/links`);
  await page.waitForSelector('#link-status');
  await page.selectOption('#link-status', 'accepted');
  await until(page, (i) => [...document.querySelectorAll('tbody tr td:first-child')].some((td) => td.textContent === i), id);
  await page.selectOption('#link-status', 'open');
  await page.waitForSelector('button.link-split');
  await shot(page, 'links');
  // a traveller the linker linked by itself: the link's evidence is shown
  assert.ok(linked, 'CONSOLE_LINKED');
  await page.goto(`${base}/console/#/traveller/id:${linked}`);
  await page.waitForSelector('#links-evidence .link-evidence, main .error');
  assert.equal(await page.$('main .error'), null, await page.textContent('main'));
  const ev = await page.$$eval('#links-evidence .link-evidence', (l) => l.map((x) => x.textContent));
  const auto = ev.find((t) => /^Automatic link: record \S+ with record \S+, score/.test(t));
  assert.ok(auto, `an automatic link with its evidence: ${ev.join(' | ')}`);
  assert.match(auto, /link threshold/);
  for (const f of ['name', 'dob', 'sex', 'citizenship', 'document']) assert.match(auto, new RegExp(f));
  await page.$eval('#links-evidence', (n) => n.scrollIntoView());
  await shot(page, 'traveller-links');
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('pre-clearance flight: each decision with its reasons', async () => {
  const { ctx, page, errors } = await fresh();
  await login(page, 'analyst');
  await page.goto(`${base}/console/#/flights`);
  await page.waitForSelector('#manifests a');
  await page.click('#manifests a');
  await page.waitForSelector('#flight-summary');
  assert.match(await page.textContent('#flight-summary'), /4 passengers: 2 cleared, 1 refer, 1 do not board/);
  const rows = await page.$$eval('tbody tr', (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
  const bySeq = Object.fromEntries(rows.map((r) => [r[1], r]));
  assert.equal(bySeq['2'][3], 'do_not_board');
  assert.match(bySeq['2'][4], /expired/);
  assert.equal(bySeq['3'][3], 'refer');
  assert.match(bySeq['3'][4], /watchlist|W1/);
  assert.equal(bySeq['4'][3], 'cleared');
  await shot(page, 'preclear');
  await page.selectOption('#decision', 'refer');
  await until(page, () => document.querySelectorAll('tbody tr').length === 1);
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('audit view: chain verified, filter, officer actions logged', async () => {
  const { ctx, page, errors } = await fresh();
  // the auditor's first view (the review queue, opened by the login) answers
  // late: it must not replace the audit view opened meanwhile (a stale view
  // drawing over a newer one made this test fail now and then)
  await page.route('**/v1/reviews*', async (r) => { await new Promise((s) => setTimeout(s, 1500)); await r.continue(); });
  const late = page.waitForEvent('requestfinished', { predicate: (q) => /\/v1\/reviews/.test(q.url()), timeout: 20000 });
  await login(page, 'auditor');
  await page.goto(`${base}/console/#/audit`);
  await page.waitForSelector('#chain');
  await late;
  await new Promise((s) => setTimeout(s, 300));
  assert.equal(await page.locator('#chain').count(), 1, 'the audit view is still shown after the late answer');
  assert.equal(await page.textContent('h1'), 'Disclosure log');
  await page.unroute('**/v1/reviews*');
  assert.match(await page.textContent('#chain'), /intact/);
  // a filter's page answering after the next filter's must not draw over it
  await page.route('**/console/api/audit?*kind=review*', async (r) => { await new Promise((s) => setTimeout(s, 1500)); await r.continue(); });
  const slow = page.waitForEvent('requestfinished', { predicate: (q) => /kind=review/.test(q.url()), timeout: 20000 });
  await page.fill('#f-kind', 'review');
  await page.click('#audit-filter button');
  await page.fill('#f-kind', 'officer_action');
  await page.click('#audit-filter button');
  await until(page, () => /decision/.test(document.querySelector('main').textContent));
  await slow;
  await new Promise((s) => setTimeout(s, 300));
  const kinds = await page.$$eval('#main h2 + table tbody tr td:nth-child(3)', (tds) => tds.map((t) => t.textContent));
  assert.ok(kinds.length > 0 && kinds.every((k) => k === 'officer_action'), `the newer filter's page stays: ${kinds}`);
  await page.unroute('**/console/api/audit?*kind=review*');
  await page.fill('#f-kind', 'review');
  await page.click('#audit-filter button');
  await until(page, () => /officer:adj/.test(document.querySelector('main').textContent));
  await page.fill('#f-kind', '');
  await page.click('#audit-filter button');
  await until(page, () => /of \d+/.test(document.querySelector('.pager').textContent));
  await shot(page, 'audit');
  // the subject access report of traveller 2 (R12)
  const [num, issuer] = [doc, process.env.CONSOLE_ISSUER];
  await page.fill('#sa-document', num);
  await page.fill('#sa-issuer', issuer);
  await page.click('#sa-form button');
  await until(page, () => /crossings \((\d+)\)/.test(document.querySelector('#subject-access').textContent));
  const n = await page.evaluate(() => Number(/crossings \((\d+)\)/.exec(document.querySelector('#subject-access').textContent)[1]));
  assert.ok(n >= 2, `the report lists the person's crossings (${n})`);
  await page.$eval('#subject-access', (x) => x.scrollIntoView());
  await shot(page, 'subject-access');
  assert.deepEqual(errors, []);
  await ctx.close();
});
