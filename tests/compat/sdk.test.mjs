// Compatibility tests: the official `cloudflare` npm SDK (pinned in package.json) against a
// private edgekv-coordinator, per KV-SPEC.md section 3. Every KV method the SDK has is called
// and its result asserted. Run: ./run.sh [BIN_DIR]   (or: node --test sdk.test.mjs)
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import Cloudflare, { APIError, BadRequestError, NotFoundError, RateLimitError } from 'cloudflare';
import { startCoordinator, ACCOUNT_ID, nsBase, rest } from './lib/coordinator.mjs';

const account_id = ACCOUNT_ID;
const now = () => Math.floor(Date.now() / 1000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- request recording, so a failure shows the request sent and the response got ----------

let exchanges = [];

function describeBody(body) {
    if (body == null) return '';
    if (typeof body === 'string') return body.length > 300 ? `${body.slice(0, 300)}...(${body.length})` : body;
    if (body instanceof FormData) {
        const parts = [];
        for (const [k, v] of body.entries()) {
            parts.push(typeof v === 'string' ? `${k}=${JSON.stringify(v.slice(0, 80))}` : `${k}=<file ${v.size} bytes>`);
        }
        return `multipart{${parts.join(', ')}}`;
    }
    if (body instanceof Uint8Array || body instanceof ArrayBuffer) return `<${body.byteLength} bytes>`;
    return `<${Object.prototype.toString.call(body)}>`;
}

async function recordingFetch(url, init = {}) {
    const res = await fetch(url, init);
    if (String(url).startsWith('data:')) return res;
    let reply = '';
    try {
        const buf = Buffer.from(await res.clone().arrayBuffer());
        reply = buf.length > 400 ? `${buf.subarray(0, 400).toString('utf8')}...(${buf.length} bytes)` : buf.toString('utf8');
    } catch (e) {
        reply = `<unreadable: ${e}>`;
    }
    exchanges.push(`${init.method || 'GET'} ${url} ${describeBody(init.body)}\n    -> ${res.status} ${res.headers.get('content-type') || ''} ${reply}`);
    if (exchanges.length > 30) exchanges.shift();
    return res;
}

function client(coord, extra = {}) {
    return new Cloudflare({
        apiToken: 'test-token',
        baseURL: `${coord.url}/client/v4`,
        maxRetries: 0,
        timeout: 30000,
        fetch: recordingFetch,
        ...extra,
    });
}

/** A node:test test whose failure message carries the last few HTTP exchanges. */
function t(name, fn, opts = {}) {
    test(name, { timeout: 60000, ...opts }, async (tc) => {
        exchanges = [];
        try {
            await fn(tc);
        } catch (e) {
            if (e && typeof e === 'object' && typeof e.message === 'string') {
                e.message += `\n--- last HTTP exchanges:\n${exchanges.slice(-5).join('\n')}`;
            }
            throw e;
        }
    });
}

/** Await a promise that must reject with an SDK APIError of this status/code/message. */
async function rejectsApi(promise, { status, code, message, cls }) {
    let err = null;
    try {
        await promise;
    } catch (e) {
        err = e;
    }
    assert.ok(err, `expected an API error (status ${status}${code ? `, code ${code}` : ''}), got success`);
    assert.ok(err instanceof APIError, `expected APIError, got ${err && err.stack}`);
    assert.equal(err.status, status, `status: ${err.message}`);
    if (cls) assert.ok(err instanceof cls, `expected ${cls.name}, got ${err.constructor.name}`);
    const body = err.error;
    assert.ok(body && typeof body === 'object', `error body is not JSON: ${JSON.stringify(body)}`);
    assert.equal(body.success, false, 'envelope success:false');
    assert.ok(Array.isArray(body.errors) && body.errors.length > 0, `envelope errors: ${JSON.stringify(body)}`);
    for (const e of body.errors) {
        assert.equal(typeof e.code, 'number', `error code is a number: ${JSON.stringify(e)}`);
        assert.equal(typeof e.message, 'string', `error message is a string: ${JSON.stringify(e)}`);
    }
    if (code !== undefined) {
        assert.ok(body.errors.some((e) => e.code === code), `want code ${code}, got ${JSON.stringify(body.errors)}`);
    }
    if (message !== undefined) {
        assert.ok(body.errors.some((e) => e.message === message), `want message ${JSON.stringify(message)}, got ${JSON.stringify(body.errors)}`);
    }
    return err;
}

/** Value bytes of a key through the SDK (values.get returns a fetch Response). */
async function getBytes(cf, nsId, key) {
    const resp = await cf.kv.namespaces.values.get(key, { account_id, namespace_id: nsId });
    assert.ok(resp instanceof Response, `values.get returns a Response, got ${typeof resp}`);
    assert.equal(resp.status, 200);
    return { resp, bytes: Buffer.from(await resp.arrayBuffer()) };
}

async function getText(cf, nsId, key) {
    return (await getBytes(cf, nsId, key)).bytes.toString('utf8');
}

async function listAll(cf, nsId, params = {}) {
    const out = [];
    for await (const k of cf.kv.namespaces.keys.list(nsId, { account_id, ...params })) out.push(k);
    return out;
}

function uniq(prefix) {
    return `${prefix}-${crypto.randomBytes(4).toString('hex')}`;
}

// =================================================================================================

describe('cloudflare SDK against edgekv-coordinator', () => {
    let coord;
    let cf;

    before(async () => {
        coord = await startCoordinator();
        cf = client(coord);
    });
    after(async () => {
        if (coord) await coord.stop();
    });

    // ---- namespaces --------------------------------------------------------------------------

    describe('namespaces', () => {
        t('create returns {id, title, supports_url_encoding: true}; get returns the same', async () => {
            const title = uniq('ns-create');
            const ns = await cf.kv.namespaces.create({ account_id, title });
            assert.match(ns.id, /^[0-9a-f]{32}$/);
            assert.equal(ns.title, title);
            assert.equal(ns.supports_url_encoding, true);
            const got = await cf.kv.namespaces.get(ns.id, { account_id });
            assert.equal(got.id, ns.id);
            assert.equal(got.title, title);
            assert.equal(got.supports_url_encoding, true);
        });

        t('JSON envelope on a plain REST read: content-type, success, errors, messages, result', async () => {
            const ns = await cf.kv.namespaces.create({ account_id, title: uniq('ns-envelope') });
            const r = await rest('GET', `${nsBase(coord)}/${ns.id}`);
            assert.equal(r.status, 200);
            assert.match(r.headers.get('content-type') || '', /^application\/json/);
            assert.equal(r.json.success, true);
            assert.deepEqual(r.json.errors, []);
            assert.deepEqual(r.json.messages, []);
            assert.equal(r.json.result.id, ns.id);
        });

        t('update renames the namespace and returns it', async () => {
            const ns = await cf.kv.namespaces.create({ account_id, title: uniq('ns-old') });
            const newTitle = uniq('ns-new');
            const res = await cf.kv.namespaces.update(ns.id, { account_id, title: newTitle });
            // The SDK types update() as returning the Namespace (and wrangler's rename prints its title).
            assert.ok(res && typeof res === 'object', `update result: ${JSON.stringify(res)}`);
            assert.equal(res.id, ns.id);
            assert.equal(res.title, newTitle);
            const got = await cf.kv.namespaces.get(ns.id, { account_id });
            assert.equal(got.title, newTitle);
            // The old title is free again.
            const again = await cf.kv.namespaces.create({ account_id, title: ns.title });
            assert.notEqual(again.id, ns.id);
        });

        t('delete removes the namespace and its keys', async () => {
            const ns = await cf.kv.namespaces.create({ account_id, title: uniq('ns-del') });
            await cf.kv.namespaces.values.update('k', { account_id, namespace_id: ns.id, value: 'v' });
            const res = await cf.kv.namespaces.delete(ns.id, { account_id });
            assert.ok(res === null || (typeof res === 'object' && Object.keys(res).length === 0), `delete result ${JSON.stringify(res)}`);
            await rejectsApi(cf.kv.namespaces.get(ns.id, { account_id }), { status: 404, code: 10013, cls: NotFoundError });
            await rejectsApi(cf.kv.namespaces.values.get('k', { account_id, namespace_id: ns.id }), { status: 404, cls: NotFoundError });
            // A new namespace with the same title starts empty.
            const ns2 = await cf.kv.namespaces.create({ account_id, title: ns.title });
            assert.deepEqual(await listAll(cf, ns2.id), []);
        });

        t('duplicate title: 400, code 10014', async () => {
            const title = uniq('ns-dup');
            await cf.kv.namespaces.create({ account_id, title });
            await rejectsApi(cf.kv.namespaces.create({ account_id, title }), { status: 400, code: 10014, cls: BadRequestError });
        });

        t('missing title: 400, code 10019', async () => {
            await rejectsApi(cf.kv.namespaces.create({ account_id }), { status: 400, code: 10019, cls: BadRequestError });
        });

        t('unknown namespace: 404, code 10013 (get, update, keys.list, values.update)', async () => {
            const ghost = 'ffffffffffffffffffffffffffffffff';
            await rejectsApi(cf.kv.namespaces.get(ghost, { account_id }), { status: 404, code: 10013, cls: NotFoundError });
            await rejectsApi(cf.kv.namespaces.update(ghost, { account_id, title: uniq('x') }), { status: 404, code: 10013 });
            await rejectsApi(cf.kv.namespaces.keys.list(ghost, { account_id }), { status: 404, code: 10013 });
            await rejectsApi(cf.kv.namespaces.values.update('k', { account_id, namespace_id: ghost, value: 'v' }), { status: 404, code: 10013 });
        });
    });

    // ---- values ------------------------------------------------------------------------------

    describe('values', () => {
        let ns;
        before(async () => {
            ns = (await cf.kv.namespaces.create({ account_id, title: uniq('ns-values') })).id;
        });
        const put = (key, params) => cf.kv.namespaces.values.update(key, { account_id, namespace_id: ns, ...params });

        t('text value: update returns {}, get returns the raw bytes', async () => {
            const res = await put('greeting', { value: 'hello world' });
            assert.deepEqual(res, {});
            const { resp, bytes } = await getBytes(cf, ns, 'greeting');
            assert.equal(bytes.toString('utf8'), 'hello world');
            assert.equal(resp.headers.get('expiration'), null, 'no expiration header without expiration');
        });

        t('UTF-8 text and overwrite (last write wins)', async () => {
            await put('utf8', { value: 'first' });
            await put('utf8', { value: 'héllo ✓ 𝄞 — 你好' });
            assert.equal(await getText(cf, ns, 'utf8'), 'héllo ✓ 𝄞 — 你好');
        });

        t('empty value is legal', async () => {
            await put('empty', { value: '' });
            const { bytes } = await getBytes(cf, ns, 'empty');
            assert.equal(bytes.length, 0);
        });

        t('binary value with every byte, CRLF and boundary-like bytes round-trips exactly', async () => {
            const all = Buffer.alloc(256);
            for (let i = 0; i < 256; i++) all[i] = i;
            const tricky = Buffer.from('\r\n--\r\n------WebKitFormBoundary\r\nContent-Disposition: form-data; name="value"\r\n\r\n\0\xff', 'latin1');
            const value = Buffer.concat([all, tricky, all.reverse(), Buffer.from([0, 0, 13, 10])]);
            await put('bin', { value: new File([value], 'bin.dat', { type: 'application/octet-stream' }) });
            const { bytes } = await getBytes(cf, ns, 'bin');
            assert.equal(bytes.length, value.length);
            assert.ok(bytes.equals(value), 'binary value differs');
        });

        t('1 MiB random binary value round-trips', async () => {
            const value = crypto.randomBytes(1 << 20);
            await put('big', { value: new File([value], 'big.bin') });
            const { bytes } = await getBytes(cf, ns, 'big');
            assert.equal(bytes.length, value.length);
            assert.ok(bytes.equals(value), 'large binary value differs');
        });

        t('keys with URL-special characters are stored and read under their exact name', async () => {
            const keys = ['a/b/c', 'sp ace', 'plus+sign', 'q?x=1&y=2', 'hash#frag', 'pct%20literal', 'ünï©ødé ✓',
                'colon:at@semi;eq=,', '...dots', '%2F', 'tab\there'];
            for (const [i, key] of keys.entries()) await put(key, { value: `v${i}` });
            for (const [i, key] of keys.entries()) assert.equal(await getText(cf, ns, key), `v${i}`, `value of ${JSON.stringify(key)}`);
            const names = (await listAll(cf, ns)).map((k) => k.name);
            for (const key of keys) assert.ok(names.includes(key), `list lacks ${JSON.stringify(key)}: ${JSON.stringify(names)}`);
            // Stored under the decoded name: the slash key is not confused with "%2F".
            assert.ok(names.includes('a/b/c') && !names.includes('a%2Fb%2Fc'));
            for (const key of keys) await cf.kv.namespaces.values.delete(key, { account_id, namespace_id: ns });
            const after = (await listAll(cf, ns)).map((k) => k.name);
            for (const key of keys) assert.ok(!after.includes(key), `${JSON.stringify(key)} still listed after delete`);
        });

        t('missing key: NotFoundError 404, code 10009', async () => {
            const err = await rejectsApi(cf.kv.namespaces.values.get('no-such-key', { account_id, namespace_id: ns }),
                { status: 404, code: 10009, cls: NotFoundError });
            assert.ok(err instanceof NotFoundError);
        });

        t('delete returns {}; deleting a missing key succeeds', async () => {
            await put('to-delete', { value: 'x' });
            assert.deepEqual(await cf.kv.namespaces.values.delete('to-delete', { account_id, namespace_id: ns }), {});
            await rejectsApi(cf.kv.namespaces.values.get('to-delete', { account_id, namespace_id: ns }), { status: 404, code: 10009 });
            assert.deepEqual(await cf.kv.namespaces.values.delete('never-existed', { account_id, namespace_id: ns }), {});
        });

        t('key of 512 bytes is fine; 513 bytes: 414 code 10030 with the spec message', async () => {
            const k512 = 'k'.repeat(512);
            await put(k512, { value: 'max' });
            assert.equal(await getText(cf, ns, k512), 'max');
            await rejectsApi(put('k'.repeat(513), { value: 'x' }), {
                status: 414, code: 10030, message: 'UTF-8 encoded length of 513 exceeds key length limit of 512.',
            });
            // Bytes, not characters: 257 x "é" is 514 bytes.
            await rejectsApi(put('é'.repeat(257), { value: 'x' }), {
                status: 414, code: 10030, message: 'UTF-8 encoded length of 514 exceeds key length limit of 512.',
            });
            await rejectsApi(cf.kv.namespaces.values.get('k'.repeat(513), { account_id, namespace_id: ns }), { status: 414 });
        });

        t('object metadata (sent by the SDK as metadata[k]=v form fields) is reassembled', async () => {
            await put('meta-obj', { value: 'with object metadata', metadata: { owner: 'alice', team: 'kv' } });
            assert.equal(await getText(cf, ns, 'meta-obj'), 'with object metadata');
            const md = await cf.kv.namespaces.metadata.get('meta-obj', { account_id, namespace_id: ns });
            assert.deepEqual(md, { owner: 'alice', team: 'kv' });
            const listed = (await listAll(cf, ns, { prefix: 'meta-obj' }));
            assert.deepEqual(listed, [{ name: 'meta-obj', metadata: { owner: 'alice', team: 'kv' } }]);
        });

        t('nested and array object metadata (metadata[a][b]=v, metadata[t][]=v fields) is reassembled', async () => {
            // The SDK flattens objects qs-style: {a: {b: 'c'}} -> metadata[a][b]=c,
            // {tags: ['x', 'y']} -> metadata[tags][]=x, metadata[tags][]=y.
            await put('meta-nested', { value: 'v', metadata: { a: { b: 'c' }, tags: ['x', 'y'], top: 'level' } });
            assert.deepEqual(await cf.kv.namespaces.metadata.get('meta-nested', { account_id, namespace_id: ns }),
                { a: { b: 'c' }, tags: ['x', 'y'], top: 'level' });
        });

        t('JSON-string metadata arrives as one part and is stored as that JSON', async () => {
            const meta = { n: 1, list: [1, 'two', null], nested: { ok: true }, s: 'ü' };
            await put('meta-json', { value: 'v', metadata: JSON.stringify(meta) });
            assert.deepEqual(await cf.kv.namespaces.metadata.get('meta-json', { account_id, namespace_id: ns }), meta);
            // Binary value plus metadata: both parts intact.
            const bin = Buffer.from([0, 1, 2, 255, 13, 10]);
            await put('meta-bin', { value: new File([bin], 'v.bin'), metadata: JSON.stringify({ kind: 'bin' }) });
            assert.ok((await getBytes(cf, ns, 'meta-bin')).bytes.equals(bin));
            assert.deepEqual(await cf.kv.namespaces.metadata.get('meta-bin', { account_id, namespace_id: ns }), { kind: 'bin' });
        });

        t('metadata.get: null without metadata; 404 code 10009 for a missing key', async () => {
            await put('no-meta', { value: 'v' });
            assert.equal(await cf.kv.namespaces.metadata.get('no-meta', { account_id, namespace_id: ns }), null);
            await rejectsApi(cf.kv.namespaces.metadata.get('missing-meta', { account_id, namespace_id: ns }), { status: 404, code: 10009 });
        });

        t('metadata > 1024 bytes: 413 with the spec message; nothing stored', async () => {
            const meta = JSON.stringify({ x: 'a'.repeat(1100) });
            await rejectsApi(put('meta-big', { value: 'v', metadata: meta }), {
                status: 413, message: `Metadata length of ${meta.length} exceeds limit of 1024.`,
            });
            await rejectsApi(cf.kv.namespaces.values.get('meta-big', { account_id, namespace_id: ns }), { status: 404, code: 10009 });
        });

        t('expiration_ttl: list and the value read report expiration = now + ttl', async () => {
            const t0 = now();
            await put('ttl-120', { value: 'short-lived', expiration_ttl: 120 });
            const t1 = now();
            const [k] = await listAll(cf, ns, { prefix: 'ttl-120' });
            assert.equal(k.name, 'ttl-120');
            assert.equal(typeof k.expiration, 'number');
            assert.ok(k.expiration >= t0 + 120 && k.expiration <= t1 + 121, `expiration ${k.expiration} not in [${t0 + 120}, ${t1 + 121}]`);
            const { resp, bytes } = await getBytes(cf, ns, 'ttl-120');
            assert.equal(bytes.toString(), 'short-lived');
            assert.equal(resp.headers.get('expiration'), String(k.expiration));
        });

        t('absolute expiration is kept exactly; with both, the TTL wins', async () => {
            const exp = now() + 3600;
            await put('exp-abs', { value: 'v', expiration: exp });
            const [k] = await listAll(cf, ns, { prefix: 'exp-abs' });
            assert.deepEqual(k, { name: 'exp-abs', expiration: exp });
            const t0 = now();
            await put('exp-both', { value: 'v', expiration: now() + 7200, expiration_ttl: 300 });
            const [kb] = await listAll(cf, ns, { prefix: 'exp-both' });
            assert.ok(kb.expiration >= t0 + 300 && kb.expiration <= now() + 301, `TTL should win: ${kb.expiration}`);
        });

        t('invalid expiration_ttl / expiration: 400 with codes 10034 / 10033 and spec messages', async () => {
            await rejectsApi(put('bad-ttl', { value: 'v', expiration_ttl: 30 }), {
                status: 400, code: 10034, cls: BadRequestError, message: 'Invalid expiration_ttl of 30. Expiration TTL must be at least 60.',
            });
            await rejectsApi(put('bad-ttl', { value: 'v', expiration_ttl: 0 }), {
                status: 400, code: 10034, message: 'Invalid expiration_ttl of 0. Please specify integer greater than 0.',
            });
            const past = now() - 10;
            await rejectsApi(put('bad-exp', { value: 'v', expiration: past }), {
                status: 400, code: 10033,
                message: `Invalid expiration of ${past}. Please specify integer greater than the current number of seconds since the UNIX epoch.`,
            });
            const soon = now() + 30;
            await rejectsApi(put('bad-exp', { value: 'v', expiration: soon }), {
                status: 400, code: 10033, message: `Invalid expiration of ${soon}. Expiration times must be at least 60 seconds in the future.`,
            });
            await rejectsApi(cf.kv.namespaces.values.get('bad-ttl', { account_id, namespace_id: ns }), { status: 404, code: 10009 });
            await rejectsApi(cf.kv.namespaces.values.get('bad-exp', { account_id, namespace_id: ns }), { status: 404, code: 10009 });
        });
    });

    // ---- keys list ---------------------------------------------------------------------------

    describe('keys.list', () => {
        let ns;
        const pad = (i) => String(i).padStart(3, '0');
        before(async () => {
            ns = (await cf.kv.namespaces.create({ account_id, title: uniq('ns-keys') })).id;
            const body = [];
            for (let i = 0; i < 25; i++) body.push({ key: `p-${pad(i)}`, value: `v${i}` });
            body.push({ key: 'q-1', value: 'q1', metadata: { tag: 'one' } }, { key: 'q-2', value: 'q2' }, { key: 'r', value: 'r' });
            const res = await cf.kv.namespaces.bulkUpdate(ns, { account_id, body });
            assert.equal(res.successful_key_count, body.length);
        });

        t('prefix filter returns exactly the matching keys, sorted, with metadata only where set', async () => {
            const keys = await listAll(cf, ns, { prefix: 'q-' });
            assert.deepEqual(keys, [{ name: 'q-1', metadata: { tag: 'one' } }, { name: 'q-2' }]);
            const p = await listAll(cf, ns, { prefix: 'p-' });
            assert.deepEqual(p.map((k) => k.name), Array.from({ length: 25 }, (_, i) => `p-${pad(i)}`));
            assert.deepEqual(await listAll(cf, ns, { prefix: 'zzz' }), []);
        });

        t('first page: limit 10 gives 10 keys, result_info {count: 10, cursor}', async () => {
            const page = await cf.kv.namespaces.keys.list(ns, { account_id, prefix: 'p-', limit: 10 });
            assert.deepEqual(page.result.map((k) => k.name), Array.from({ length: 10 }, (_, i) => `p-${pad(i)}`));
            assert.equal(page.result_info.count, 10);
            assert.equal(typeof page.result_info.cursor, 'string');
            assert.ok(page.result_info.cursor.length > 0, 'cursor must be non-empty when more keys follow');
            const all = await cf.kv.namespaces.keys.list(ns, { account_id, limit: 1000 });
            assert.equal(all.result.length, 28);
            assert.equal(all.result_info.count, 28);
            assert.equal(all.result_info.cursor, '', 'cursor "" when complete');
        });

        t('cursor paging with inserts between pages: new keys after the cursor appear', async () => {
            const first = await cf.kv.namespaces.keys.list(ns, { account_id, prefix: 'p-', limit: 10 });
            const seen = first.result.map((k) => k.name);
            assert.equal(seen.length, 10);
            // Insert between pages: one key before the cursor (must not appear), two after it.
            await cf.kv.namespaces.values.update('p-0005', { account_id, namespace_id: ns, value: 'before' });
            await cf.kv.namespaces.values.update('p-0095', { account_id, namespace_id: ns, value: 'after' });
            await cf.kv.namespaces.values.update('p-999', { account_id, namespace_id: ns, value: 'end' });
            let page = first;
            let pages = 1;
            while (page.hasNextPage()) {
                page = await page.getNextPage();
                pages++;
                assert.ok(page.result.length <= 10, `page of ${page.result.length} > limit`);
                seen.push(...page.result.map((k) => k.name));
                assert.ok(pages < 10, 'runaway paging');
            }
            assert.equal(page.result_info.cursor, '', 'last page has cursor ""');
            const want = [...Array.from({ length: 10 }, (_, i) => `p-${pad(i)}`), 'p-0095',
                ...Array.from({ length: 15 }, (_, i) => `p-${pad(i + 10)}`), 'p-999'];
            assert.deepEqual(seen, want);
            assert.ok(pages >= 3);
            // The SDK's auto-pagination agrees (and now sees p-0005 too).
            const auto = (await listAll(cf, ns, { prefix: 'p-', limit: 10 })).map((k) => k.name);
            assert.deepEqual(auto, [...want.slice(0, 1), 'p-0005', ...want.slice(1)]);
        });

        t('limit out of range: 400 code 10028; bad cursor: 400 code 10041', async () => {
            await rejectsApi(cf.kv.namespaces.keys.list(ns, { account_id, limit: 1001 }), { status: 400, code: 10028 });
            await rejectsApi(cf.kv.namespaces.keys.list(ns, { account_id, limit: 5 }), { status: 400, code: 10028 });
            await rejectsApi(cf.kv.namespaces.keys.list(ns, { account_id, cursor: 'definitely-not-a-cursor!' }), { status: 400, code: 10041 });
        });
    });

    // ---- bulk ----------------------------------------------------------------------------------

    describe('bulk', () => {
        let ns;
        before(async () => {
            ns = (await cf.kv.namespaces.create({ account_id, title: uniq('ns-bulk') })).id;
        });
        const binary = Buffer.from([0, 1, 2, 3, 0xfe, 0xff, 0x80, 13, 10]);

        t('bulkUpdate writes values, base64, metadata and TTL; result counts them', async () => {
            const t0 = now();
            const body = [
                { key: 'b-text', value: 'plain text' },
                { key: 'b-b64', value: binary.toString('base64'), base64: true },
                { key: 'b-meta', value: 'has meta', metadata: { color: 'red', n: 7 } },
                { key: 'b-ttl', value: 'expires', expiration_ttl: 300 },
                { key: 'b-json', value: JSON.stringify({ x: [1, 2], y: 'z' }) },
                { key: 'b-num', value: '42' },
                { key: 'b/slash key', value: 'slashed' },
            ];
            const res = await cf.kv.namespaces.bulkUpdate(ns, { account_id, body });
            assert.deepEqual(res, { successful_key_count: body.length, unsuccessful_keys: [] });
            assert.equal(await getText(cf, ns, 'b-text'), 'plain text');
            assert.ok((await getBytes(cf, ns, 'b-b64')).bytes.equals(binary), 'base64 value decoded');
            assert.deepEqual(await cf.kv.namespaces.metadata.get('b-meta', { account_id, namespace_id: ns }), { color: 'red', n: 7 });
            assert.equal(await getText(cf, ns, 'b/slash key'), 'slashed');
            const [k] = await listAll(cf, ns, { prefix: 'b-ttl' });
            assert.ok(k.expiration >= t0 + 300 && k.expiration <= now() + 301, `b-ttl expiration ${k.expiration}`);
        });

        t('bulkGet text: values map, null for missing keys', async () => {
            const res = await cf.kv.namespaces.bulkGet(ns, { account_id, keys: ['b-text', 'b-num', 'b/slash key', 'b-missing'] });
            assert.deepEqual(res, { values: { 'b-text': 'plain text', 'b-num': '42', 'b/slash key': 'slashed', 'b-missing': null } });
        });

        t('bulkGet type json parses values', async () => {
            const res = await cf.kv.namespaces.bulkGet(ns, { account_id, keys: ['b-json', 'b-num'], type: 'json' });
            assert.deepEqual(res, { values: { 'b-json': { x: [1, 2], y: 'z' }, 'b-num': 42 } });
        });

        t('bulkGet withMetadata: {value, metadata, expiration?}', async () => {
            const res = await cf.kv.namespaces.bulkGet(ns, { account_id, keys: ['b-meta', 'b-text', 'b-ttl', 'b-missing'], withMetadata: true });
            const v = res.values;
            assert.deepEqual(v['b-meta'], { value: 'has meta', metadata: { color: 'red', n: 7 } });
            assert.deepEqual(v['b-text'], { value: 'plain text', metadata: null });
            assert.equal(v['b-ttl'].value, 'expires');
            assert.equal(v['b-ttl'].metadata, null);
            assert.equal(typeof v['b-ttl'].expiration, 'number');
            assert.equal(v['b-missing'], null);
            assert.deepEqual(Object.keys(v).sort(), ['b-meta', 'b-missing', 'b-text', 'b-ttl']);
        });

        t('bulkGet errors: > 100 keys, 0 keys, json on a non-JSON value', async () => {
            const many = Array.from({ length: 101 }, (_, i) => `k${i}`);
            await rejectsApi(cf.kv.namespaces.bulkGet(ns, { account_id, keys: many }), { status: 400, message: 'You can request a maximum of 100 keys' });
            await rejectsApi(cf.kv.namespaces.bulkGet(ns, { account_id, keys: [] }), { status: 400, message: 'You must request a minimum of 1 key' });
            await rejectsApi(cf.kv.namespaces.bulkGet(ns, { account_id, keys: ['b-text'], type: 'json' }), {
                status: 400, message: 'At least one of the requested keys corresponds to a non-json value',
            });
        });

        t('bulkDelete removes the listed keys (missing ones count as deleted)', async () => {
            const res = await cf.kv.namespaces.bulkDelete(ns, { account_id, body: ['b-text', 'b-num', 'b-never-existed'] });
            assert.deepEqual(res, { successful_key_count: 3, unsuccessful_keys: [] });
            await rejectsApi(cf.kv.namespaces.values.get('b-text', { account_id, namespace_id: ns }), { status: 404, code: 10009 });
            const names = (await listAll(cf, ns)).map((k) => k.name);
            assert.deepEqual(names, ['b-b64', 'b-json', 'b-meta', 'b-ttl', 'b/slash key']);
        });

        t('keys.bulkUpdate / keys.bulkGet / keys.bulkDelete (older aliases) hit the same endpoints', async () => {
            const res = await cf.kv.namespaces.keys.bulkUpdate(ns, { account_id, body: [{ key: 'alias-1', value: 'a1' }, { key: 'alias-2', value: 'a2' }] });
            assert.equal(res.successful_key_count, 2);
            assert.deepEqual(await cf.kv.namespaces.keys.bulkGet(ns, { account_id, keys: ['alias-1', 'alias-2'] }),
                { values: { 'alias-1': 'a1', 'alias-2': 'a2' } });
            const del = await cf.kv.namespaces.keys.bulkDelete(ns, { account_id, body: ['alias-1', 'alias-2'] });
            assert.equal(del.successful_key_count, 2);
            assert.deepEqual(await listAll(cf, ns, { prefix: 'alias-' }), []);
        });
    });
});

// ---- namespace list paging (own coordinator, so the namespace count is exact) -------------------

describe('namespaces.list paging (fresh coordinator, 25 more namespaces)', () => {
    let coord;
    let cf;
    const created = Array.from({ length: 25 }, (_, i) => `paged-${String(i).padStart(2, '0')}`);
    let all; // every title the account has: what a fresh coordinator starts with, plus `created`
    let baseline;
    const listCalls = [];
    const byTitle = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

    before(async () => {
        coord = await startCoordinator();
        cf = client(coord, {
            fetch: async (url, init) => {
                if (/\/storage\/kv\/namespaces(\?|$)/.test(String(url)) && (init?.method || 'GET') === 'GET') listCalls.push(String(url));
                return recordingFetch(url, init);
            },
        });
        // A fresh coordinator may already hold namespaces (edgekv creates "default"): count them.
        const r = await rest('GET', `${nsBase(coord)}?per_page=1000`);
        assert.equal(r.status, 200, r.text);
        baseline = r.json.result.map((n) => n.title);
        assert.ok(baseline.length < 10, `unexpected baseline: ${JSON.stringify(baseline)}`);
        // Created in shuffled order, so ordering by title is the server's doing.
        const order = [...created].sort(() => Math.random() - 0.5);
        for (const title of order) await cf.kv.namespaces.create({ account_id, title });
        all = [...baseline, ...created].sort(byTitle);
    });
    after(async () => {
        if (coord) await coord.stop();
    });

    t('auto-pagination with per_page 10 iterates all; the page past the end is empty', async () => {
        listCalls.length = 0;
        const seen = [];
        for await (const ns of cf.kv.namespaces.list({ account_id, per_page: 10 })) seen.push(ns);
        assert.equal(seen.length, all.length, `got ${seen.length}: ${listCalls.join(' ')}`);
        assert.deepEqual(seen.map((n) => n.title).sort(byTitle), all);
        assert.equal(new Set(seen.map((n) => n.id)).size, all.length, 'ids unique');
        for (const n of seen) assert.match(n.id, /^[0-9a-f]{32}$/);
        // Every full or partial page, then one more, which must be empty to stop the SDK.
        const pages = Math.ceil(all.length / 10);
        assert.equal(listCalls.length, pages + 1, listCalls.join('\n'));
        const past = await cf.kv.namespaces.list({ account_id, per_page: 10, page: pages + 1 });
        assert.deepEqual(past.result, []);
        const far = await cf.kv.namespaces.list({ account_id, per_page: 10, page: 100 });
        assert.deepEqual(far.result, []);
    });

    t('result_info {page, per_page, count, total_count}', async () => {
        const p1 = await cf.kv.namespaces.list({ account_id, per_page: 10 });
        assert.equal(p1.result.length, 10);
        const info = (p) => ({ page: p.result_info.page, per_page: p.result_info.per_page, count: p.result_info.count, total_count: p.result_info.total_count });
        assert.deepEqual(info(p1), { page: 1, per_page: 10, count: 10, total_count: all.length });
        const p3 = await cf.kv.namespaces.list({ account_id, per_page: 10, page: 3 });
        assert.equal(p3.result.length, all.length - 20);
        assert.deepEqual(info(p3), { page: 3, per_page: 10, count: all.length - 20, total_count: all.length });
    });

    t('order=title, direction asc/desc', async () => {
        const asc = await cf.kv.namespaces.list({ account_id, per_page: 10, order: 'title', direction: 'asc' });
        assert.deepEqual(asc.result.map((n) => n.title), all.slice(0, 10));
        const desc = await cf.kv.namespaces.list({ account_id, per_page: 10, order: 'title', direction: 'desc' });
        assert.deepEqual(desc.result.map((n) => n.title), [...all].reverse().slice(0, 10));
        const allDesc = [];
        for await (const n of cf.kv.namespaces.list({ account_id, per_page: 7, order: 'title', direction: 'desc' })) allDesc.push(n.title);
        assert.deepEqual(allDesc, [...all].reverse());
        const byId = [];
        for await (const n of cf.kv.namespaces.list({ account_id, per_page: 10, order: 'id', direction: 'asc' })) byId.push(n.id);
        assert.equal(byId.length, all.length);
        assert.deepEqual(byId, [...byId].sort(byTitle));
    });
});

// ---- rate limits: none per key on the REST API, the account's API limit instead -------------

describe('REST rate limits (the per-key limit is the binding\'s; the API has the account\'s)', () => {
    let coord;
    let cf;
    let ns;
    before(async () => {
        // The default same-key limit, and an account limit small enough to reach.
        coord = await startCoordinator({ writeRateLimit: true, extraArgs: ['--api-rate-limit', '12'] });
        cf = client(coord); // maxRetries: 0, so a 429 reaches the test instead of being retried
        ns = (await cf.kv.namespaces.create({ account_id, title: 'rate-limited' })).id;
    });
    after(async () => {
        if (coord) await coord.stop();
    });

    t('quick writes and a delete of one key are all accepted; past the account limit: 429, code 971', async () => {
        const put = (key, value) => cf.kv.namespaces.values.update(key, { account_id, namespace_id: ns, value });
        assert.deepEqual(await put('hot', 'first'), {});
        assert.deepEqual(await put('hot', 'second'), {});
        assert.equal(await getText(cf, ns, 'hot'), 'second', 'the second write at once is stored');
        await cf.kv.namespaces.values.delete('hot', { account_id, namespace_id: ns });
        // 12 requests in the window: the create, two puts, a get, a delete; 7 more are allowed.
        for (let i = 0; i < 7; i++) assert.deepEqual(await put(`k${i}`, 'v'), {});
        await rejectsApi(put('one-too-many', 'v'), { status: 429, code: 971, cls: RateLimitError });
    });
});

// ---- concurrent writes (own coordinator, default durability) ---------------------------------

describe('concurrent writes through the SDK', () => {
    let coord;
    let cf;
    let ns;
    before(async () => {
        coord = await startCoordinator();
        cf = client(coord, { timeout: 10000 });
        ns = (await cf.kv.namespaces.create({ account_id, title: 'concurrent' })).id;
    });
    after(async () => {
        if (coord) await coord.stop();
    });

    t('20 rounds of 50 parallel values.update: every write is answered and stored', async () => {
        const ROUNDS = 20;
        const PAR = 50;
        for (let round = 0; round < ROUNDS; round++) {
            const t0 = Date.now();
            const res = await Promise.allSettled(Array.from({ length: PAR }, (_, i) =>
                cf.kv.namespaces.values.update(`c-${round}-${String(i).padStart(2, '0')}`, { account_id, namespace_id: ns, value: `r${round}i${i}` })));
            const failed = res.map((r, i) => [r, i]).filter(([r]) => r.status !== 'fulfilled');
            assert.equal(failed.length, 0,
                `round ${round}: ${failed.length} of ${PAR} parallel writes failed after ${Date.now() - t0} ms ` +
                `(first: ${failed[0]?.[0].reason?.constructor?.name}: ${failed[0]?.[0].reason?.message})`);
        }
        const keys = await listAll(cf, ns, { prefix: 'c-' });
        assert.equal(keys.length, ROUNDS * PAR);
        assert.equal(await getText(cf, ns, `c-${ROUNDS - 1}-${PAR - 1}`), `r${ROUNDS - 1}i${PAR - 1}`);
    });
});
