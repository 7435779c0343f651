// edgekv ui in Debian's chromium, headless (ui_test.sh starts the world and the server).
// Usage: node ui.test.mjs push|kv URL OUT_DIR POP_URL
//   (push: a PoP another key is written at; kv: the PoP that caches the key)
//  -- exits 1 with the reason when a check fails.
// It clicks and types as a student would, reads the page's own state (window.ekv and the
// nodes' data- attributes), saves screenshots in OUT_DIR and prints the delay from a PoP
// serving the write to the page showing it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import puppeteer from 'puppeteer-core';

const [mode, url, out, readAt] = process.argv.slice(2);
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'edgekv-chromium-'));
const errors = [];
let browser;

function check(ok, what) {
  if (!ok) throw new Error(what);
  console.log('  ok: ' + what);
}

const colours = (page) => page.$$eval('#nodes .node', (els) =>
  Object.fromEntries(els.map((e) => [e.dataset.name,
    {colour: e.dataset.colour, seq: +e.dataset.seq, fault: e.dataset.fault}])));

// The selected node's panel as {row name: text}.
// (one evaluation: the page rebuilds the panel every 500 ms)
const panel = (page) => page.evaluate(() =>
  Object.fromEntries([...document.querySelectorAll('#sel-info dt')]
    .map((dt) => [dt.textContent, dt.nextElementSibling.textContent])));

async function shot(page, name) {
  await new Promise((r) => setTimeout(r, 400)); // the timeline redraws 150 ms after a change
  await page.screenshot({path: path.join(out, name), fullPage: true});
  console.log('  screenshot ' + path.join(out, name));
}

async function open() {
  const page = await browser.newPage();
  await page.setViewport({width: 1280, height: 860});
  page.on('pageerror', (e) => errors.push(e.message));
  // the bad fault below is answered 400 on purpose; any other failed load is an error
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().includes('status of 400')) errors.push(m.text());
  });
  await page.goto(url, {waitUntil: 'load'});
  await page.waitForFunction(() => window.ekv && window.ekv.ready &&
    document.querySelectorAll('#nodes .node[data-colour]').length ===
      window.ekv.world.nodes.length, {timeout: 10000});
  check(await page.$$eval('#land path', (p) => p.length === 1 && p[0].getAttribute('d').length
    > 10000), 'the map draws the land');
  return page;
}

async function write(page, key, value, via) {
  await page.$eval('#key', (e) => { e.value = ''; });
  await page.type('#key', key);
  await page.$eval('#value', (e) => { e.value = ''; });
  await page.type('#value', value);
  await page.select('#via', via);
  await page.click('#write');
}

// Clicks node `name` on the map, then its control `action`, and waits for the mark.
async function fault(page, name, action, mark) {
  await page.$eval(`#nodes .node[data-name="${name}"]`,
    (e) => e.dispatchEvent(new MouseEvent('click', {bubbles: true})));
  await page.click(`#controls button[data-action="${action}"]`);
  await page.waitForFunction((n, m) =>
    document.querySelector(`#nodes .node[data-name="${n}"]`).dataset.fault === m,
  {timeout: 8000}, name, mark);
}

async function push() {
  const page = await open();
  await write(page, 'lesson', 'v1', 'c');
  await page.waitForFunction(() => {
    const w = window.ekv.head.wave_seq;
    return w && [...document.querySelectorAll('#nodes .node')]
      .every((e) => e.dataset.colour === 'newest' && +e.dataset.seq === w);
  }, {timeout: 10000});
  const c = await colours(page);
  check(Object.keys(c).length === 4, 'every PoP shows the write made from the page: ' +
    JSON.stringify(c));
  const lat = await page.evaluate(() => window.ekv.latency);
  check(lat.length === 4, 'the page timed each PoP');
  console.log('  page shows a PoP serving the write after (ms): ' +
    lat.map((v) => v.toFixed(1)).join(' ') + ' (goal < 200)');
  await page.waitForFunction(() => document.querySelectorAll('#timeline .arrive').length === 4,
    {timeout: 3000}).catch(() => {});
  const rows = await page.$$eval('#timeline .arrive', (l) => l.length);
  check(rows === 4, 'the timeline has an arrival for every PoP');
  await shot(page, 'ui-push.png');
  await fault(page, 'b', 'partition', 'partitioned');
  check(await page.$$eval('#nodes .ring[visibility="visible"]', (r) => r.length === 1),
    'partition marks b on the map, and only b');
  check((await page.$eval('#sel-info', (e) => e.textContent)).includes('partitioned'),
    'the panel says b is partitioned');
  check((await panel(page)).cache === 'cached, no expiry; cut off from pushes',
    'the panel says b\'s copy is cached, cut off from pushes: ' +
    JSON.stringify(await panel(page)));
  const before = await page.evaluate(() => window.ekv.head.wave_seq);
  await write(page, 'lesson', 'v2', 'a');
  await page.waitForFunction((w0) => {
    const w = window.ekv.head.wave_seq, by = (n) => document.querySelector(
      `#nodes .node[data-name="${n}"]`).dataset;
    return w > w0 && ['a', 'c', 'd'].every((n) => by(n).colour === 'newest' && +by(n).seq === w)
      && by('b').colour === 'older';
  }, {timeout: 10000}, before);
  check(true, 'a write while b is cut off reaches a, c and d; b keeps serving the older one');
  const bp = await panel(page), wave = await page.evaluate(() => window.ekv.head.wave_seq);
  check(bp.version === (wave - 1) + ', 1 behind (newest ' + wave + ')',
    'the panel says b serves the version before, 1 behind: ' + JSON.stringify(bp));
  await shot(page, 'ui-partition.png');
  await fault(page, 'b', 'heal', '');
  check(await page.$$eval('#nodes .ring[visibility="visible"]', (r) => r.length === 0),
    'heal takes the mark away');
  await page.waitForFunction(() => {
    const b = document.querySelector('#nodes .node[data-name="b"]').dataset;
    return b.colour === 'newest' && +b.seq === window.ekv.head.wave_seq;
  }, {timeout: 10000});
  check(true, 'once healed b catches up and serves the newest version');
  await page.waitForFunction(() => document.querySelector('#sel-info').textContent
    .includes(', newest'), {timeout: 2000}).catch(() => {});
  const healed = await panel(page);
  check(healed.version.endsWith(', newest') &&
    healed.cache === 'cached, no expiry: pushes replace it',
  'and its panel says so: ' + JSON.stringify(healed));
  await otherKey(page);
  // bad input to the server: a reason, and the server goes on
  const bad = await page.evaluate(async () => {
    const r = await fetch('/api/fault?action=explode&node=b', {method: 'POST'});
    return [r.status, await r.text()];
  });
  check(bad[0] === 400 && bad[1].includes('action='), 'a bad fault is a 400 with its reason');
}

// A write of another key made elsewhere (curl at a PoP, not the page) is followed (it
// travels, and arrives at every PoP), but every PoP keeps the watched key's newest version:
// none turns "older", and the timeline says the write was of another key (issue 27).
async function otherKey(page) {
  const w0 = await page.evaluate(() => window.ekv.head.wave_seq);
  const r = await fetch(readAt + '/other?urlencoded=true', {method: 'PUT', body: 'x'});
  check(r.ok, 'another key written straight at a PoP');
  await page.waitForFunction((w) => window.ekv.head.wave_seq > w, {timeout: 8000}, w0);
  await page.waitForFunction(() => document.querySelectorAll('#timeline .arrive').length === 4,
    {timeout: 8000});
  await new Promise((res) => setTimeout(res, 300)); // the looks after the arrivals
  const c = await colours(page);
  check(Object.values(c).every((n) => n.colour === 'newest' && n.seq === w0),
    'after a write of another key every PoP still serves the newest version of the watched ' +
    'key: ' + JSON.stringify(c));
  const p = await panel(page);
  check(p.version === w0 + ', newest', 'and b\'s panel says newest: ' + JSON.stringify(p));
  await page.waitForFunction(() => document.getElementById('wave-title').textContent.startsWith('a write of another ' +
    'key'), {timeout: 3000}).catch(() => {});
  const title = await page.$eval('#wave-title', (e) => e.textContent);
  check(/^a write of another key \(sequence \d+\) made elsewhere: arrived at 4 of 4$/
    .test(title), 'the timeline says it was another key\'s: ' + title);
  await shot(page, 'ui-other-key.png');
}

async function kv() {
  const page = await open();
  const r = await fetch(readAt + '/lesson?urlencoded=true');
  check(r.ok && (await r.text()) === 'v0', 'b reads v0 and keeps a copy');
  await page.$eval('#key', (e) => { e.value = ''; });
  await page.type('#key', 'lesson');
  await page.click('#watch');
  await page.waitForFunction(() => document.querySelector('#nodes .node[data-name="b"]')
    .dataset.colour === 'newest', {timeout: 8000});
  await write(page, 'lesson', 'v1', 'a');
  await page.waitForFunction(() => {
    const w = window.ekv.head.wave_seq, a = document.querySelector('.node[data-name="a"]');
    return w && a.dataset.colour === 'newest' && +a.dataset.seq === w;
  }, {timeout: 8000});
  const t1 = Date.now();
  const b = await page.evaluate(() => window.ekv.nodes[1]);
  b.expires_ms = (b.expires_us / 1000 - Date.now()) * 20; // simulated ms left
  const c = await colours(page);
  check(c.b.colour === 'older', 'b keeps its older copy after the write: ' + JSON.stringify(c));
  check(b.expires_ms > 0, 'b says when its copy expires (' + b.expires_ms + ' ms simulated)');
  await page.$eval('#nodes .node[data-name="b"]',
    (e) => e.dispatchEvent(new MouseEvent('click', {bubbles: true})));
  const p1 = await panel(page);
  check(/^cached, expires in \d+\.\d s$/.test(p1.cache),
    'the panel counts down to b\'s expiry: ' + JSON.stringify(p1));
  check(/^\d+, 1 behind \(newest \d+\)$/.test(p1.version) && p1['watched key'] === 'lesson',
    'the panel says b serves an older version, 1 behind the newest');
  await shot(page, 'ui-kv-older.png');
  await page.waitForFunction(() => document.querySelector('.node[data-name="b"]')
    .dataset.colour === 'stale', {timeout: 15000});
  const waited = Date.now() - t1, due = b.expires_ms / 20;
  check(Math.abs(waited - due) < 500, 'b turns to "expired" when its cacheTtl runs out: after ' +
    waited + ' ms, due ' + due.toFixed(0) + ' ms');
  await page.waitForFunction(() => document.querySelector('#sel-info').textContent
    .includes('the next read fetches'), {timeout: 2000}).catch(() => {});
  const p2 = await panel(page);
  check(/^expired \d+\.\d s ago: the next read fetches$/.test(p2.cache),
    'once expired, the panel says the next read fetches: ' + JSON.stringify(p2));
  await shot(page, 'ui-kv-expired.png');
}

let rc = 0;
try {
  browser = await puppeteer.launch({
    executablePath: '/usr/bin/chromium', headless: true, userDataDir: profile,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run'],
  });
  await (mode === 'kv' ? kv() : push());
  check(errors.length === 0, 'no script errors on the page ' + JSON.stringify(errors));
} catch (e) {
  console.error('FAIL (' + mode + '): ' + e.message);
  rc = 1;
} finally {
  if (browser) await browser.close();
  fs.rmSync(profile, {recursive: true, force: true});
}
process.exit(rc);
