// Compatibility tests: the real wrangler CLI (pinned in package.json) run as a subprocess against a
// private edgekv-coordinator, per KV-SPEC.md section 3 ("What real clients do"). Results are read
// back through wrangler itself and through plain REST calls. Run: ./run.sh [BIN_DIR]
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCoordinator, startRecordingProxy, formatExchange, ACCOUNT_ID, nsBase, rest, restListAll } from './lib/coordinator.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const WRANGLER = path.join(here, 'node_modules', '.bin', 'wrangler');
const CALL_TIMEOUT_MS = 60000;
const now = () => Math.floor(Date.now() / 1000);

let coord;
let proxy; // recording proxy in front of the coordinator: wrangler talks to it
let work; // temp folder: home/, cwd/ (no wrangler.toml), files and logs
let calls = 0;

/**
 * Run wrangler with a clean environment: HOME and caches in the temp folder, the coordinator as
 * the recording proxy in front of the coordinator as the API, metrics off. Returns {code, ms, args,
 * stdout (Buffer), out (stdout text), err (stderr text), api (exchanges seen meanwhile)}.
 * wrangler's launcher re-executes node as a child: a call that outlives CALL_TIMEOUT_MS gets
 * SIGTERM (the launcher passes it on), then SIGKILL to the process group it leads (its own pid).
 */
function wrangler(args, { account = true, cacheDir = path.join(work, 'cache'), input } = {}) {
    const n = ++calls;
    const firstExchange = proxy.exchanges.length;
    const started = Date.now();
    const env = {
        PATH: process.env.PATH,
        HOME: path.join(work, 'home'),
        XDG_CONFIG_HOME: path.join(work, 'home', '.config'),
        TMPDIR: path.join(work, 'tmp'),
        // wrangler checks npmjs.org for updates when a command fails: keep it on 127.0.0.1
        // (a closed port, so the check fails at once).
        npm_config_registry: 'http://127.0.0.1:9/',
        CLOUDFLARE_API_BASE_URL: `${proxy.url}/client/v4`,
        CLOUDFLARE_API_TOKEN: 'test',
        WRANGLER_SEND_METRICS: 'false',
        WRANGLER_SEND_ERROR_REPORTS: 'false',
        WRANGLER_HIDE_BANNER: 'true', // also skips the banner's npm update check
        WRANGLER_CACHE_DIR: cacheDir,
        WRANGLER_LOG_PATH: path.join(work, 'logs', `call-${n}.log`),
        NO_COLOR: '1',
        FORCE_COLOR: '0',
    };
    if (account) env.CLOUDFLARE_ACCOUNT_ID = ACCOUNT_ID;
    return new Promise((resolve, reject) => {
        const child = spawn(WRANGLER, args, { cwd: path.join(work, 'cwd'), env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
        const out = [];
        const err = [];
        child.stdout.on('data', (c) => out.push(c));
        child.stderr.on('data', (c) => err.push(c));
        let killTimer = null;
        let timedOut = false;
        const timer = setTimeout(() => {
            timedOut = true; // (the launcher then exits 0: do not trust its status)
            try {
                process.kill(child.pid, 'SIGTERM');
            } catch {
                /* gone */
            }
            killTimer = setTimeout(() => {
                try {
                    process.kill(-child.pid, 'SIGKILL');
                } catch {
                    /* gone */
                }
            }, 3000);
        }, CALL_TIMEOUT_MS);
        child.on('error', (e) => {
            clearTimeout(timer);
            if (killTimer) clearTimeout(killTimer);
            reject(e);
        });
        child.on('close', (code, signal) => {
            clearTimeout(timer);
            if (killTimer) clearTimeout(killTimer);
            const stdout = Buffer.concat(out);
            // The API exchanges seen while this call ran (parallel calls may interleave).
            const api = [...proxy.exchanges.slice(firstExchange), ...proxy.pending()];
            resolve({ ms: Date.now() - started, args, code: timedOut ? `killed after ${CALL_TIMEOUT_MS} ms` : signal ? `signal ${signal}` : code, stdout, out: stdout.toString('utf8'), err: Buffer.concat(err).toString('utf8'), api });
        });
        child.stdin.end(input ?? '');
    });
}

function explain(r) {
    // eslint-disable-next-line no-control-regex
    const plain = (s) => s.replace(/\x1b\[[0-9;]*m/g, '');
    const api = r.api.length > 12 ? [...r.api.slice(0, 2), `... ${r.api.length - 8} more ...`, ...r.api.slice(-6)] : r.api;
    return `wrangler ${r.args.join(' ')}\nexit: ${r.code} after ${r.ms} ms\nstdout: ${plain(r.out.slice(-2000))}\nstderr: ${plain(r.err.slice(-2000))}\n` +
        `API exchanges:\n${api.map((x) => (typeof x === 'string' ? x : formatExchange(x))).join('\n')}`;
}

async function ok(args, opts) {
    const r = await wrangler(args, opts);
    const slow = r.api.filter((x) => x.ms == null || x.ms > 2000);
    if (slow.length) {
        // Not a failure by itself, but worth seeing: the coordinator was slow to answer.
        console.log(`slow API answers during: wrangler ${r.args.join(' ')} (${r.ms} ms)\n` +
            slow.map((x) => `  ${formatExchange(x).replace(/\n/g, '\n  ')}`).join('\n'));
    }
    assert.equal(r.code, 0, `wrangler failed:\n${explain(r)}`);
    return r;
}

/** Parse the JSON document wrangler printed (it may be followed by a line such as "Success!"). */
function parseJsonOut(r) {
    const text = r.out;
    const start = text.search(/[[{]/);
    assert.ok(start >= 0, `no JSON in output:\n${explain(r)}`);
    const closing = text[start] === '[' ? ']' : '}';
    const end = text.lastIndexOf(closing);
    try {
        return JSON.parse(text.slice(start, end + 1));
    } catch (e) {
        assert.fail(`cannot parse JSON (${e.message}):\n${explain(r)}`);
    }
}

async function restCreateNamespace(title) {
    const r = await rest('POST', nsBase(coord), { body: { title } });
    assert.equal(r.status, 200, `POST namespaces -> ${r.status} ${r.text}`);
    return r.json.result.id;
}

async function restValue(nsId, key) {
    return rest('GET', `${nsBase(coord)}/${nsId}/values/${encodeURIComponent(key)}`);
}

function uniq(prefix) {
    return `${prefix}-${crypto.randomBytes(4).toString('hex')}`;
}

function writeFile(name, content) {
    const p = path.join(work, 'files', name);
    fs.writeFileSync(p, content);
    return p;
}

const nsArgs = (id) => ['--namespace-id', id, '--remote'];

before(async () => {
    assert.ok(fs.existsSync(WRANGLER), `${WRANGLER} missing: run npm ci in ${here}`);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'edgekv-wrangler-'));
    for (const d of ['home', 'cwd', 'files', 'logs', 'cache', 'tmp']) fs.mkdirSync(path.join(work, d));
    coord = await startCoordinator();
    proxy = await startRecordingProxy(coord.url);
});

after(async () => {
    if (proxy) await proxy.stop();
    if (coord) await coord.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
});

const T = { timeout: 120000 };

describe('wrangler kv namespace', () => {
    test('create NAME: the namespace exists with that title and the printed id', T, async () => {
        const title = uniq('wr-create');
        const r = await ok(['kv', 'namespace', 'create', title]);
        const m = r.out.match(/\b([0-9a-f]{32})\b/);
        assert.ok(m, `no namespace id in output:\n${explain(r)}`);
        const got = await rest('GET', `${nsBase(coord)}/${m[1]}`);
        assert.equal(got.status, 200, got.text);
        assert.equal(got.json.result.title, title);
        assert.equal(got.json.result.id, m[1]);
    });

    test('create with a taken title fails with the "already exists" message (code 10014)', T, async () => {
        const title = uniq('wr-dup');
        await restCreateNamespace(title);
        const r = await wrangler(['kv', 'namespace', 'create', title]);
        assert.notEqual(r.code, 0, `duplicate create succeeded:\n${explain(r)}`);
        assert.match(r.out + r.err, /already exists/, explain(r));
    });

    test('list prints every namespace as JSON', T, async () => {
        const titles = [uniq('wr-list-a'), uniq('wr-list-b')];
        const ids = [];
        for (const t of titles) ids.push(await restCreateNamespace(t));
        const r = await ok(['kv', 'namespace', 'list']);
        const list = parseJsonOut(r);
        assert.ok(Array.isArray(list), explain(r));
        for (const [i, t] of titles.entries()) {
            const found = list.find((n) => n.id === ids[i]);
            assert.ok(found, `namespace ${t} missing from list:\n${explain(r)}`);
            assert.equal(found.title, t);
        }
        // Everything the REST API has is listed, once.
        const restAll = await rest('GET', `${nsBase(coord)}?per_page=1000`);
        assert.equal(list.length, restAll.json.result.length);
        assert.equal(new Set(list.map((n) => n.id)).size, list.length);
    });

    test('rename --namespace-id ID --new-name NEW', T, async () => {
        const id = await restCreateNamespace(uniq('wr-old'));
        const newName = uniq('wr-renamed');
        const r = await ok(['kv', 'namespace', 'rename', '--namespace-id', id, '--new-name', newName]);
        assert.match(r.out, new RegExp(`Successfully renamed namespace to "${newName}"`), explain(r));
        const got = await rest('GET', `${nsBase(coord)}/${id}`);
        assert.equal(got.json.result.title, newName);
    });

    test('delete --namespace-id ID, and delete NAME (looked up by title)', T, async () => {
        const id = await restCreateNamespace(uniq('wr-del-id'));
        await rest('PUT', `${nsBase(coord)}/${id}/values/k`, { body: 'v' });
        const title = uniq('wr-del-name');
        const id2 = await restCreateNamespace(title);
        await Promise.all([
            ok(['kv', 'namespace', 'delete', '--namespace-id', id, '--skip-confirmation']),
            ok(['kv', 'namespace', 'delete', title, '-y']),
        ]);
        const gone = await rest('GET', `${nsBase(coord)}/${id}`);
        assert.equal(gone.status, 404);
        assert.equal(gone.json?.errors?.[0]?.code, 10013, gone.text);
        assert.equal((await rest('GET', `${nsBase(coord)}/${id2}`)).status, 404);
        assert.equal((await rest('GET', `${nsBase(coord)}/${id}/values/k`)).status, 404);
    });
});

describe('wrangler kv key', () => {
    let ns;
    before(async () => {
        ns = await restCreateNamespace(uniq('wr-keys'));
    });

    // Independent wrangler calls run in parallel (each costs 2-4 s of CLI start-up).
    test('put KEY VALUE, put --path FILE (binary), special-character keys; get prints exactly the value', T, async () => {
        const value = 'hello from wrangler ✓';
        const bytes = Buffer.concat([Buffer.from([0, 1, 2, 0xff, 0xfe, 13, 10, 0x80]), crypto.randomBytes(4096)]);
        const file = writeFile('value.bin', bytes);
        const special = 'dir/sub key+1?x=2&y#z%41ü';
        await Promise.all([
            ok(['kv', 'key', 'put', 'greeting', value, ...nsArgs(ns)]),
            ok(['kv', 'key', 'put', 'bin', '--path', file, ...nsArgs(ns)]),
            ok(['kv', 'key', 'put', special, 'special', ...nsArgs(ns)]),
        ]);
        // Read back through REST.
        const viaRest = await restValue(ns, 'greeting');
        assert.equal(viaRest.status, 200, viaRest.text);
        assert.equal(viaRest.text, value);
        const binRest = await restValue(ns, 'bin');
        assert.ok(binRest.bytes.equals(bytes), `REST read ${binRest.bytes.length} bytes of "bin", want ${bytes.length}`);
        assert.equal((await restValue(ns, special)).text, 'special');
        assert.deepEqual((await restListAll(coord, ns, { prefix: 'dir/' })).map((k) => k.name), [special]);
        // And through wrangler.
        const [g1, g2, g3] = await Promise.all([
            ok(['kv', 'key', 'get', 'greeting', ...nsArgs(ns)]),
            ok(['kv', 'key', 'get', 'bin', ...nsArgs(ns)]),
            ok(['kv', 'key', 'get', special, ...nsArgs(ns)]),
        ]);
        assert.equal(g1.out, value);
        assert.ok(g2.stdout.equals(bytes), `wrangler get printed ${g2.stdout.length} bytes, want ${bytes.length}`);
        assert.equal(g3.out, 'special');
    });

    test('put --metadata, --ttl, --expiration; list --prefix prints names, metadata and expiration', T, async () => {
        const t0 = now();
        const exp = now() + 3600;
        await Promise.all([
            ok(['kv', 'key', 'put', 'p-meta', 'with metadata', ...nsArgs(ns), '--metadata', '{"a":1}']),
            ok(['kv', 'key', 'put', 'p-ttl', 'with ttl', ...nsArgs(ns), '--ttl', '120']),
            ok(['kv', 'key', 'put', 'p-exp', 'with expiration', ...nsArgs(ns), '--expiration', String(exp)]),
            rest('PUT', `${nsBase(coord)}/${ns}/values/p-plain`, { body: 'plain' }),
            rest('PUT', `${nsBase(coord)}/${ns}/values/q-other`, { body: 'other' }),
        ]);
        const t1 = now();

        // Read back through REST.
        assert.equal((await restValue(ns, 'p-meta')).text, 'with metadata');
        const md = await rest('GET', `${nsBase(coord)}/${ns}/metadata/p-meta`);
        assert.equal(md.status, 200, md.text);
        assert.deepEqual(md.json.result, { a: 1 });
        const ttlRead = await restValue(ns, 'p-ttl');
        assert.equal(ttlRead.text, 'with ttl');
        const ttlExp = Number(ttlRead.headers.get('expiration'));
        assert.ok(ttlExp >= t0 + 120 && ttlExp <= t1 + 121, `expiration header ${ttlRead.headers.get('expiration')}`);
        const expRead = await restValue(ns, 'p-exp');
        assert.equal(expRead.text, 'with expiration');
        assert.equal(expRead.headers.get('expiration'), String(exp));

        // And through wrangler's list (which always sends ?prefix=).
        const r = await ok(['kv', 'key', 'list', '--namespace-id', ns, '--remote', '--prefix', 'p-']);
        const list = parseJsonOut(r);
        assert.deepEqual(list, [
            { name: 'p-exp', expiration: exp },
            { name: 'p-meta', metadata: { a: 1 } },
            { name: 'p-plain' },
            { name: 'p-ttl', expiration: ttlExp },
        ], explain(r));
    });

    test('delete KEY; get of a missing key fails with 404; deleting a missing key succeeds', T, async () => {
        await rest('PUT', `${nsBase(coord)}/${ns}/values/doomed`, { body: 'x' });
        await ok(['kv', 'key', 'delete', 'doomed', ...nsArgs(ns)]);
        const gone = await restValue(ns, 'doomed');
        assert.equal(gone.status, 404);
        assert.equal(gone.json?.errors?.[0]?.code, 10009, gone.text);
        const [r] = await Promise.all([
            wrangler(['kv', 'key', 'get', 'doomed', ...nsArgs(ns)]),
            ok(['kv', 'key', 'delete', 'never-existed', ...nsArgs(ns)]),
        ]);
        assert.notEqual(r.code, 0, `get of a deleted key succeeded:\n${explain(r)}`);
        assert.match(r.out + r.err, /404/, explain(r));
    });
});

describe('wrangler kv bulk', () => {
    const N = 1500; // wrangler sends batches of 1000: one full batch and one of 500
    const pad = (i) => String(i).padStart(4, '0');
    let ns;
    before(async () => {
        ns = await restCreateNamespace(uniq('wr-bulk'));
    });

    test(`bulk put FILE with ${N} items (2 batches), all readable`, T, async () => {
        const t0 = now();
        const items = [];
        for (let i = 0; i < N; i++) {
            const item = { key: `bulk-${pad(i)}`, value: `value-${i}` };
            if (i % 100 === 1) item.metadata = { i, tag: 'm' };
            if (i % 250 === 2) item.expiration_ttl = 600;
            items.push(item);
        }
        items[3] = { key: 'bulk-0003', value: Buffer.from([0, 1, 255, 10]).toString('base64'), base64: true };
        const r = await ok(['kv', 'bulk', 'put', writeFile('bulk.json', JSON.stringify(items)), ...nsArgs(ns)]);
        assert.match(r.out, /Success!/, explain(r));
        const batches = r.api.filter((x) => x.method === 'PUT' && x.url.endsWith(`/${ns}/bulk`));
        assert.equal(batches.length, 2, `want 2 PUT /bulk batches:\n${explain(r)}`);

        const listed = await restListAll(coord, ns, { prefix: 'bulk-' });
        assert.equal(listed.length, N, `listed ${listed.length} keys`);
        assert.deepEqual(listed.map((k) => k.name), items.map((i) => i.key));
        const byName = new Map(listed.map((k) => [k.name, k]));
        assert.deepEqual(byName.get('bulk-0101').metadata, { i: 101, tag: 'm' });
        assert.equal(byName.get('bulk-0100').metadata, undefined);
        const e = byName.get('bulk-1252').expiration;
        assert.ok(e >= t0 + 600 && e <= now() + 601, `bulk-1252 expiration ${e}`);
        assert.equal((await restValue(ns, 'bulk-0000')).text, 'value-0');
        assert.equal((await restValue(ns, 'bulk-1499')).text, 'value-1499');
        assert.equal((await restValue(ns, 'bulk-1000')).text, 'value-1000');
        assert.ok((await restValue(ns, 'bulk-0003')).bytes.equals(Buffer.from([0, 1, 255, 10])), 'base64 item decoded');
    });

    test('key list --prefix follows the cursor past 1000 keys; bulk get FILE prints values (null if missing)', T, async () => {
        const keys = ['bulk-0000', 'bulk-0101', 'bulk-1499', 'bulk-missing'];
        const [r, g] = await Promise.all([
            // wrangler's list sends no limit (server default 1000) and follows result_info.cursor.
            ok(['kv', 'key', 'list', '--namespace-id', ns, '--remote', '--prefix', 'bulk-']),
            ok(['kv', 'bulk', 'get', writeFile('get.json', JSON.stringify(keys)), ...nsArgs(ns)]),
        ]);
        const list = parseJsonOut(r);
        assert.equal(list.length, N, `wrangler listed ${list.length} keys`);
        assert.deepEqual(list.map((k) => k.name), Array.from({ length: N }, (_, i) => `bulk-${pad(i)}`));
        assert.deepEqual(list[101], { name: 'bulk-0101', metadata: { i: 101, tag: 'm' } });
        const values = parseJsonOut(g);
        assert.deepEqual(values, { 'bulk-0000': 'value-0', 'bulk-0101': 'value-101', 'bulk-1499': 'value-1499', 'bulk-missing': null }, explain(g));
    });

    test(`bulk delete FILE --force removes all ${N} keys (DELETE /bulk, 2 batches)`, T, async () => {
        const keys = Array.from({ length: N }, (_, i) => `bulk-${pad(i)}`);
        // Mixed forms are accepted by wrangler: strings and {name} objects.
        const file = writeFile('delete.json', JSON.stringify(keys.map((k, i) => (i % 2 ? k : { name: k }))));
        await rest('PUT', `${nsBase(coord)}/${ns}/values/keep-me`, { body: 'kept' });
        const r = await ok(['kv', 'bulk', 'delete', file, ...nsArgs(ns), '--force']);
        assert.match(r.out, /Success!/, explain(r));
        const batches = r.api.filter((x) => x.method === 'DELETE' && x.url.endsWith(`/${ns}/bulk`));
        assert.equal(batches.length, 2, `want 2 DELETE /bulk batches:\n${explain(r)}`);
        assert.deepEqual(await restListAll(coord, ns, { prefix: 'bulk-' }), []);
        assert.equal((await restValue(ns, 'bulk-0000')).status, 404);
        assert.equal((await restValue(ns, 'keep-me')).text, 'kept');
    });
});

describe('wrangler without CLOUDFLARE_ACCOUNT_ID (account from GET /memberships)', () => {
    test('namespace create and list work; wrangler asked /memberships', T, async () => {
        const cacheDir = path.join(work, 'cache-noaccount');
        fs.mkdirSync(cacheDir, { recursive: true });
        const title = uniq('wr-noacct');
        const c = await ok(['kv', 'namespace', 'create', title], { account: false, cacheDir });
        assert.ok(c.api.some((x) => x.method === 'GET' && x.url.startsWith('/client/v4/memberships')), `no GET /memberships seen:\n${explain(c)}`);
        const id = c.out.match(/\b([0-9a-f]{32})\b/)?.[1];
        assert.ok(id, explain(c));
        const [l] = await Promise.all([
            // A fresh cache, so this call asks /memberships again.
            ok(['kv', 'namespace', 'list'], { account: false, cacheDir: path.join(work, 'cache-noaccount-2') }),
            // Key commands too (this one uses the account wrangler cached from /memberships).
            ok(['kv', 'key', 'put', 'k', 'no-account value', '--namespace-id', id, '--remote'], { account: false, cacheDir }),
        ]);
        const list = parseJsonOut(l);
        assert.ok(list.some((n) => n.id === id && n.title === title), `created namespace not listed:\n${explain(l)}`);
        assert.equal((await restValue(id, 'k')).text, 'no-account value');
    });
});
