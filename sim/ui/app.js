// edgekv ui: the page's script (docs/ui.md). It asks the server for the world once
// (/api/world), then follows one Server-Sent Events stream (/events): `world` for the watched
// key and the write being followed, `nodes` for each PoP's and tier's view that changed. It
// never talks to a PoP: the server polls them. Everything is drawn here, in SVG, by hand.
'use strict';

const W = 1000, H = 500;
const NS = 'http://www.w3.org/2000/svg';
const $ = (id) => document.getElementById(id);
const x = (lon) => (lon + 180) / 360 * W;
const y = (lat) => (90 - lat) / 180 * H;

const ui = {
  world: null,      // /api/world
  head: {},         // the last `world` event
  nodes: [],        // per node: the last state the server sent
  els: [],          // per node: its circle or square, ring and label
  selected: -1,
  offset: 0,        // server clock - browser clock, us (one host: about 0)
  latency: [],      // ms from a node starting to serve the followed write to the page showing it
  shownSeq: [],     // per node: the followed write once the page showed it served
  versions: new Set(), // versions of the watched key seen (versionText)
  versionsKey: '',  // the key they are of
};
window.ekv = ui; // for the browser test and the curious

function el(tag, attrs, parent) {
  const e = document.createElementNS(NS, tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (parent) parent.appendChild(e);
  return e;
}

// ---- the map -----------------------------------------------------------------------------

// TopoJSON: arcs are delta-encoded quantized points; a ring lists arcs, ~i is arc i reversed.
// The data is for spherical maps: a ring may cross the antimeridian (Russia, Fiji) or go round
// the pole (Antarctica). On this flat map a crossing ring is unwrapped (no jump of 360 degrees)
// and drawn twice, once shifted by 360 degrees, and a ring round the pole is closed through it.
function drawLand(topo) {
  const [sx, sy] = topo.transform.scale, [tx, ty] = topo.transform.translate;
  const arcs = topo.arcs.map((a) => {
    let ax = 0, ay = 0;
    return a.map(([dx, dy]) => { ax += dx; ay += dy; return [ax * sx + tx, ay * sy + ty]; });
  });
  const path = (pts, shift) => 'M' + pts.map(([lo, la]) =>
    x(lo + shift).toFixed(1) + ',' + y(la).toFixed(1)).join('L') + 'Z';
  const ring = (r) => {
    const pts = [];
    for (const i of r) {
      const a = i < 0 ? arcs[~i].slice().reverse() : arcs[i];
      pts.push(...(pts.length ? a.slice(1) : a));
    }
    let off = 0, lo = Infinity, hi = -Infinity;
    for (let k = 1; k < pts.length; k++) {
      const d = pts[k][0] + off - pts[k - 1][0];
      if (d > 180) off -= 360; else if (d < -180) off += 360;
      pts[k] = [pts[k][0] + off, pts[k][1]];
    }
    for (const [l] of pts) { lo = Math.min(lo, l); hi = Math.max(hi, l); }
    if (Math.abs(pts[pts.length - 1][0] - pts[0][0]) > 180) { // round the pole
      const pole = pts[0][1] < 0 ? -90 : 90;
      pts.push([pts[pts.length - 1][0], pole], [pts[0][0], pole]);
    }
    let d = path(pts, 0);
    if (hi > 180) d += path(pts, -360);
    if (lo < -180) d += path(pts, 360);
    return d;
  };
  let d = '';
  for (const g of topo.objects.land.geometries) {
    const polys = g.type === 'Polygon' ? [g.arcs] : g.arcs;
    for (const p of polys) for (const r of p) d += ring(r);
  }
  el('path', {d}, $('land'));
}

function drawGrid() {
  for (let lon = -150; lon <= 150; lon += 30)
    el('line', {x1: x(lon), y1: 0, x2: x(lon), y2: H}, $('grid'));
  for (let lat = -60; lat <= 60; lat += 30)
    el('line', {x1: 0, y1: y(lat), x2: W, y2: y(lat)}, $('grid'));
}

// Where a node's link goes: its tier, else the coordinator.
function upstream(n) {
  const w = ui.world;
  if (n.via) {
    const t = w.nodes.find((m) => m.tier && m.name === n.via);
    if (t) return t;
  }
  return {lat: w.coordinator.lat, lon: w.coordinator.lon};
}

function drawWorld() {
  const w = ui.world, many = w.nodes.length > 40;
  for (const n of w.nodes) {
    const u = upstream(n);
    el('line', {x1: x(n.lon), y1: y(n.lat), x2: x(u.lon), y2: y(u.lat),
                class: n.tier ? 'tierlink' : ''}, $('links'));
  }
  const c = w.coordinator, cx = x(c.lon), cy = y(c.lat);
  const star = [];
  for (let i = 0; i < 10; i++) {
    const r = i % 2 ? 4 : 10, a = Math.PI / 5 * i - Math.PI / 2;
    star.push((cx + r * Math.cos(a)).toFixed(1) + ',' + (cy + r * Math.sin(a)).toFixed(1));
  }
  const coord = el('polygon', {points: star.join(' '), class: 'coord'}, $('nodes'));
  el('title', {}, coord).textContent = 'coordinator, ' + c.city;
  // PoPs over the coordinator (its arms show round a PoP in its city), tiers over their PoPs
  const order = w.nodes.slice().sort((a, b) => a.tier - b.tier);
  for (const n of order) {
    const nx = x(n.lon), ny = y(n.lat);
    const r = n.tier ? 6 : (many ? 3.2 : 6);
    const shape = n.tier
      ? el('rect', {x: nx - r, y: ny - r, width: 2 * r, height: 2 * r}, $('nodes'))
      : el('circle', {cx: nx, cy: ny, r}, $('nodes'));
    shape.setAttribute('class', 'node absent');
    shape.dataset.name = n.name;
    shape.addEventListener('click', () => select(n.id));
    const title = el('title', {}, shape);
    const ring = el('circle', {cx: nx, cy: ny, r: r + 3, class: 'ring', visibility: 'hidden'},
                    $('nodes'));
    let label = null;
    if (!many || n.tier) {
      label = el('text', {x: nx + r + 2, y: ny - r, class: 'label'}, $('nodes'));
      label.textContent = n.name;
    }
    ui.els[n.id] = {shape, ring, label, title};
  }
  const via = $('via');
  for (const n of w.nodes.filter((m) => !m.tier)) {
    const o = document.createElement('option');
    o.value = o.textContent = n.name;
    via.appendChild(o);
  }
  $('scale').textContent = 'policy ' + w.policy + ', time scale ' + w.time_scale +
    ' (1 real s = ' + w.time_scale + ' simulated s)';
}

// ---- a node's colour --------------------------------------------------------------------

// The watched key's newest version: the coordinator's (key_seq, from the server), or a node's
// fresher copy while the server has not heard yet. Never the followed write's sequence: it may
// be another key's, and sequences are global, so no version of this key compares with it.
function newestSeq() {
  let m = ui.head.key_seq || 0;
  for (const s of ui.nodes) if (s && s.state === 'fresh' && s.seq > m) m = s.seq;
  return m;
}

// Whether the followed write is of the watched key: the server says so (wave_watched), or a
// node holds it as the key's version (a delete of it: the coordinator has no version then).
function waveOfKey() {
  const h = ui.head;
  return !!h.wave_seq && (h.wave_watched || ui.nodes.some((s) => s && s.seq === h.wave_seq));
}

function colour(s, newest) {
  if (!s || !s.answered) return 'silent';
  if (s.state === 'absent' || !s.state) return 'absent';
  if (s.state === 'stale') return 'stale';
  if (s.negative) return s.seq >= newest ? 'newest' : 'negative';
  return s.seq >= newest ? 'newest' : 'older';
}

const secs = (ms) => ms == null ? '-' : (ms / 1000).toFixed(1) + ' s';
// Simulated ms since or until a moment of the server's clock (us), null for none.
const serverNow = () => Date.now() * 1000 + ui.offset;
const simSince = (us) => us ? (serverNow() - us) / 1000 * ui.world.time_scale : null;
const simUntil = (us) => us ? (us - serverNow()) / 1000 * ui.world.time_scale : null;

function paint(id, newest) {
  const s = ui.nodes[id], e = ui.els[id], n = ui.world.nodes[id];
  if (!e) return;
  const c = colour(s, newest);
  e.shape.setAttribute('class', 'node ' + c + (ui.selected === id ? ' selected' : ''));
  e.shape.dataset.colour = c;
  e.shape.dataset.seq = s ? s.seq : 0;
  e.shape.dataset.fault = s ? s.fault : '';
  e.ring.setAttribute('visibility', s && s.fault ? 'visible' : 'hidden');
  e.title.textContent = n.name + ' (' + n.city + '): ' + c +
    (s && s.seq ? ', version ' + s.seq : '') + (s && s.fault ? ', ' + s.fault : '');
  // the followed write: when did the page first show this node serving it?
  // (only for writes made since the page opened: an older one was shown before we came)
  // Under push a PoP serves a change from its arrival; under kv and ttl from when the server
  // first saw it serve it (a read there may have come earlier: the page cannot know).
  const wave = ui.head.wave_seq;
  const from = /^push|^invalidate/.test(n.policy) && s && s.arrived_us ? s.arrived_us
    : s && s.serving_us;
  if (wave > ui.firstWave && c === 'newest' && s.seq >= wave && ui.shownSeq[id] !== wave &&
      from) {
    ui.shownSeq[id] = wave;
    ui.latency.push(Date.now() - (from - ui.offset) / 1000);
  }
}

function paintAll() {
  const newest = newestSeq();
  for (const n of ui.world.nodes) paint(n.id, newest);
}

// ---- the selected node and its controls ----------------------------------------------------

function select(id) {
  ui.selected = id;
  $('controls').hidden = false;
  const n = ui.world.nodes[id];
  if (!n.tier) $('via').value = n.name;
  paintAll();
  showSelected();
}

// The node's copy of the watched key, as a read there would find it now.
// "fetching": a read there is fetching the key from origin now.
function cacheText(n, s) {
  if (!s.answered) return 'no answer';
  const ago = () => secs(-simUntil(s.expires_us)) + ' ago';
  if (s.state === 'absent') return s.fetching ? 'fetching (not cached)'
    : 'not cached: the next read fetches';
  if (s.state === 'stale') return s.fetching ? 'fetching (the copy expired ' + ago() + ')'
    : 'expired ' + ago() + ': the next read fetches';
  if (s.state !== 'fresh') return '-';
  let t;
  if (s.expires_us) t = 'cached, expires in ' + secs(simUntil(s.expires_us));
  else if (!/^push/.test(n.policy)) t = 'cached, never expires';
  else t = s.fault === 'partitioned' ? 'cached, no expiry; cut off from pushes'
    : 'cached, no expiry: pushes replace it';
  return t + (s.fetching ? '; refreshing' : '');
}

// The version of the copy, and how many versions behind the newest it is ("12, 1 behind
// (newest 13)": no "v", which lessons use for values): counted among the
// versions of the key the page has seen (nodes' copies, the followed write), so a version no
// node was seen holding is not counted. "Newest" is the colour's newest (newestSeq).
function versionText(s) {
  if (!s.answered || !s.seq || s.state === 'absent') return '-';
  const v = s.seq + (s.negative ? ' (not found)' : ''), newest = newestSeq();
  if (s.seq >= newest) return v + ', newest';
  const behind = new Set([...ui.versions, newest].filter((q) => q > s.seq)).size;
  return v + ', ' + behind + ' behind (newest ' + newest + ')';
}

// Versions of the watched key the page has seen the nodes hold (versionText).
function noteVersions() {
  if (ui.head.key !== ui.versionsKey) { ui.versions = new Set(); ui.versionsKey = ui.head.key; }
  for (const s of ui.nodes)
    if (s && s.answered && s.seq && (s.state === 'fresh' || s.state === 'stale'))
      ui.versions.add(s.seq);
}

function showSelected() {
  const id = ui.selected;
  if (id < 0) return;
  const n = ui.world.nodes[id], s = ui.nodes[id] || {};
  $('sel-name').textContent = n.name + (n.tier ? ' (tier)' : '') + ', ' + n.city;
  const rows = [
    ['policy', n.policy], ['reads through', n.tier ? '-' : (n.via || 'coordinator')],
    ['link delay', n.delay_ms.toFixed(1) + ' ms'],
    ['watched key', ui.head.key || '-'], ['cache', cacheText(n, s)],
    ['version', versionText(s)], ['age', secs(simSince(s.commit_us))],
    ['fault', s.fault || 'none'], ['reads/s', (s.rps || 0).toFixed(1)],
    ['hit ratio', s.rps ? (100 * s.hit_ratio).toFixed(0) + ' %' : '-'],
    ['429s', String(s.rate_limited || 0)],
  ];
  const dl = $('sel-info');
  dl.textContent = '';
  for (const [k, v] of rows) {
    const dt = document.createElement('dt'), dd = document.createElement('dd');
    dt.textContent = k;
    dd.textContent = v;
    dl.append(dt, dd);
  }
}

async function post(path, params) {
  const r = await fetch(path + '?' + new URLSearchParams(params), {method: 'POST'});
  const text = await r.text();
  $('notice').textContent = r.ok ? '' : text;
  return r.ok;
}

function wireControls() {
  for (const b of document.querySelectorAll('#controls button')) {
    b.addEventListener('click', () => {
      const p = {action: b.dataset.action, node: ui.world.nodes[ui.selected].name};
      if (p.action === 'slow') p.delay_ms = $('delay').value;
      $('notice').textContent = p.action + ' ' + p.node + '...';
      post('/api/fault', p).then((ok) => { if (ok) $('notice').textContent = ''; });
    });
  }
  $('delay').addEventListener('input', () => { $('delay-out').textContent = $('delay').value; });
  $('watch-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    post('/api/watch', {key: $('key').value});
  });
  $('write-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    post('/api/write', {key: $('key').value, value: $('value').value, via: $('via').value});
  });
}

// ---- the write travelling: pulses along the links, and the timeline -------------------------

function pulse(from, to, ms, cls) {
  const c = el('circle', {r: 2.6, class: 'pulse ' + (cls || '')}, $('pulses'));
  const t0 = performance.now();
  const step = (t) => {
    const f = Math.min(1, (t - t0) / ms);
    c.setAttribute('cx', from[0] + (to[0] - from[0]) * f);
    c.setAttribute('cy', from[1] + (to[1] - from[1]) * f);
    if (f < 1) requestAnimationFrame(step); else c.remove();
  };
  requestAnimationFrame(step);
}

function onArrival(id) {
  const n = ui.world.nodes[id], u = upstream(n);
  if (ui.world.nodes.length > 40 && !n.tier && Math.random() > 0.3) return; // a sample of 300
  // another key's write travels too, in grey: the watched key's colours do not change
  pulse([x(u.lon), y(u.lat)], [x(n.lon), y(n.lat)], 400, ui.head.wave_other ? 'other' : '');
}

// What the followed write is: "version 13 of lesson through fra", "a write of another key
// (sequence 14) made elsewhere", or "write 14 made elsewhere" while the server asks whose.
function waveText(h) {
  const where = h.wave_from === 'elsewhere' ? ' made elsewhere' : ' through ' + h.wave_from;
  if (waveOfKey()) return 'version ' + h.wave_seq + ' of ' + h.key + where;
  if (h.wave_other) return 'a write of another key (sequence ' + h.wave_seq + ')' + where;
  return 'write ' + h.wave_seq + where;
}

let timelineQueued = false;
function drawTimeline() {
  timelineQueued = false;
  const svg = $('timeline'), h = ui.head;
  svg.textContent = '';
  if (!h.wave_seq) {
    $('wave-title').textContent = '(none yet: write from the page, or anywhere)';
    return;
  }
  const c0 = h.wave_commit_us;
  const rows = ui.world.nodes.map((n) => ({n, s: ui.nodes[n.id] || {}}))
    .filter((r) => r.s.arrived_us).sort((a, b) => a.s.arrived_us - b.s.arrived_us);
  const served = rows.filter((r) => r.s.serving_us).length, all = ui.world.nodes.length;
  // another key's write is not served as the watched key: its arrivals only
  $('wave-title').textContent = waveText(h) + ': arrived at ' + rows.length + ' of ' + all +
    (waveOfKey() ? ' nodes, first served at ' + served : '');
  // at most 24 lanes: in a large world an even sample in arrival order, first and last kept
  const k = Math.min(24, rows.length), lane = 16, top = 26, left = 120;
  const shown = Array.from({length: k}, (_, i) =>
    rows[k < 2 ? i : Math.round(i * (rows.length - 1) / (k - 1))]);
  let span = 1;
  for (const r of rows) span = Math.max(span, (r.s.serving_us || r.s.arrived_us) - c0);
  const tx = (us) => left + (us - c0) / span * (1000 - left - 20);
  const defs = el('defs', {}, svg);
  const m = el('marker', {id: 'arrow', viewBox: '0 0 6 6', refX: 6, refY: 3, markerWidth: 6,
                          markerHeight: 6, orient: 'auto'}, defs);
  el('path', {d: 'M0,0L6,3L0,6Z', fill: '#0a7d2c'}, m);
  el('line', {x1: left, y1: top - 8, x2: 980, y2: top - 8, class: 'axis'}, svg);
  for (let i = 0; i <= 4; i++) {
    const t = el('text', {x: left + i * (1000 - left - 20) / 4, y: top - 12,
                          'text-anchor': i === 4 ? 'end' : 'start'}, svg);
    t.textContent = '+' + (span * i / 4 / 1000 * ui.world.time_scale).toFixed(0) + ' ms sim';
  }
  el('circle', {cx: left, cy: top, r: 4, class: 'commit'}, svg);
  el('text', {x: 4, y: top + 4}, svg).textContent = 'commit (coordinator)';
  shown.forEach((r, i) => {
    const ly = top + lane * (i + 1);
    el('line', {x1: left, y1: ly, x2: 980, y2: ly, class: 'life'}, svg);
    el('text', {x: 4, y: ly + 4}, svg).textContent = r.n.name + (r.n.tier ? ' (tier)' : '');
    el('line', {x1: left, y1: top, x2: tx(r.s.arrived_us), y2: ly, class: 'arrive'}, svg);
    if (r.s.serving_us)
      el('rect', {x: tx(r.s.serving_us) - 3, y: ly - 3, width: 6, height: 6, class: 'serve'}, svg);
  });
  const notes = [];
  if (rows.length > shown.length)
    notes.push(['a sample of ' + shown.length + ' of ' + rows.length +
                ' in arrival order (arrow: arrival; square: first served)', '']);
  const missing = ui.world.nodes.filter((n) => !(ui.nodes[n.id] || {}).arrived_us);
  if (missing.length)
    notes.push(['not arrived yet at ' + missing.length + ': ' +
                missing.slice(0, 12).map((n) => n.name).join(', ') +
                (missing.length > 12 ? ', ...' : ''), 'missing']);
  notes.forEach(([t, cls], i) => {
    el('text', {x: left, y: top + lane * (shown.length + 1 + i) + 6, class: cls}, svg)
      .textContent = t;
  });
  svg.setAttribute('viewBox', '0 0 1000 ' + (top + lane * (shown.length + 1 + notes.length) + 4));
}

function queueTimeline() {
  if (!timelineQueued) { timelineQueued = true; setTimeout(drawTimeline, 150); }
}

// ---- the stream ---------------------------------------------------------------------------

function counters() {
  let rps = 0, hits = 0, stale = 0, unav = 0;
  for (const s of ui.nodes) {
    if (!s) continue;
    rps += s.rps; hits += s.rps * s.hit_ratio; stale += s.stale_ps; unav += s.unavail_ps;
  }
  $('c-rps').textContent = rps.toFixed(1);
  $('c-hit').textContent = rps > 0 ? (100 * hits / rps).toFixed(0) + ' %' : '-';
  $('c-stale').textContent = stale.toFixed(1);
  $('c-unavail').textContent = unav.toFixed(1);
}

function onWorld(h) {
  const old = ui.head;
  if (ui.firstWave === undefined) ui.firstWave = h.wave_seq;
  ui.head = h;
  ui.offset = h.now_us - Date.now() * 1000;
  if (document.activeElement !== $('key') && h.key) $('key').value = h.key;
  $('c-429').textContent = h.rate_limited; // every PoP's and tier's, not only the page's
  $('c-page-429').textContent = h.writes_429;
  $('c-writes').textContent = h.writes;
  if (h.wave_seq && h.wave_seq !== old.wave_seq) {
    const from = ui.world.nodes.find((n) => n.name === h.wave_from);
    const c = ui.world.coordinator;
    if (from) pulse([x(from.lon), y(from.lat)], [x(c.lon), y(c.lat)], 300, 'write');
  }
  noteVersions();
  paintAll();
  showSelected();
  queueTimeline();
}

function onNodes(m) {
  for (const s of m.nodes) {
    const old = ui.nodes[s.id];
    ui.nodes[s.id] = s;
    if (s.arrived_us && (!old || !old.arrived_us)) onArrival(s.id);
  }
  noteVersions();
  paintAll();
  showSelected();
  counters();
  queueTimeline();
}

async function main() {
  const [world, land] = await Promise.all([
    fetch('/api/world').then((r) => r.json()),
    fetch('/land-110m.json').then((r) => r.json()).catch(() => null),
  ]);
  ui.world = world;
  if (land) drawLand(land);
  drawGrid();
  drawWorld();
  wireControls();
  const es = new EventSource('/events');
  es.addEventListener('world', (e) => onWorld(JSON.parse(e.data)));
  es.addEventListener('nodes', (e) => onNodes(JSON.parse(e.data)));
  es.onerror = () => { $('notice').textContent = 'lost the server; retrying'; };
  es.onopen = () => { $('notice').textContent = ''; ui.ready = true; };
  setInterval(showSelected, 500); // the age and the time to expiry count
}

main();
