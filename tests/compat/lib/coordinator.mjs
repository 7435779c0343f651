// Starts a private edgekv-coordinator for a compatibility test and stops exactly that process.
//
//   const coord = await startCoordinator();            // same-key write limit disabled
//   const limited = await startCoordinator({ writeRateLimit: true });  // default 1 write/s/key
//   ... coord.url is e.g. "http://127.0.0.1:41234" ...
//   await coord.stop();
//
// The binary comes from $EDGEKV_BIN (default: <repo>/build/bin). Only 127.0.0.1 is used, every
// port is picked by the kernel, and the process is stopped by the pid we spawned (SIGTERM, then
// SIGKILL after 5 s), never by name.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

export const BIN = path.resolve(process.env.EDGEKV_BIN || path.resolve(here, '../../../build/bin'));
export const COORDINATOR = path.join(BIN, 'edgekv-coordinator');

/** Any 32-hex account id; the coordinator accepts any unless auth is configured. */
export const ACCOUNT_ID = '0123456789abcdef0123456789abcdef';

const READY_TIMEOUT_MS = 15000;
const STOP_GRACE_MS = 5000;
const LOG_KEEP = 64 * 1024;

/** Children still running, so that an abrupt exit of the test process does not leak them. */
const live = new Set();
process.on('exit', () => {
    for (const child of live) {
        try {
            process.kill(child.pid, 'SIGKILL');
        } catch {
            /* already gone */
        }
    }
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Start the coordinator.
 * @param {object} [opts]
 * @param {boolean} [opts.writeRateLimit=false] keep the default same-key write limit (1/s);
 *        false passes `--write-rate-limit 0`.
 * @param {string[]} [opts.extraArgs] more command-line arguments.
 * @returns {Promise<{url: string, api: string, ready: object, pid: number, dir: string,
 *          log: () => string, stop: () => Promise<void>}>}
 */
export async function startCoordinator({ writeRateLimit = false, extraArgs = [] } = {}) {
    if (!fs.existsSync(COORDINATOR)) {
        throw new Error(`${COORDINATOR} not found: build it or set EDGEKV_BIN`);
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgekv-compat-'));
    const readyPath = path.join(dir, 'ready.json');
    const args = [
        '--data', path.join(dir, 'data'),
        '--http', '127.0.0.1:0',
        '--pub', 'tcp://127.0.0.1:*',
        '--router', 'tcp://127.0.0.1:*',
        '--ready-file', readyPath,
    ];
    if (!writeRateLimit) args.push('--write-rate-limit', '0');
    args.push(...extraArgs);

    const child = spawn(COORDINATOR, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    let logText = '';
    const keep = (chunk) => {
        logText += chunk.toString();
        if (logText.length > LOG_KEEP) logText = logText.slice(-LOG_KEEP);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let exited = null;
    const exitPromise = new Promise((resolve) => {
        child.on('exit', (code, signal) => {
            exited = { code, signal };
            live.delete(child);
            resolve(exited);
        });
        child.on('error', (err) => {
            exited = { code: null, signal: null, error: err };
            live.delete(child);
            resolve(exited);
        });
    });

    async function stop() {
        if (!exited && child.pid) {
            try {
                process.kill(child.pid, 'SIGTERM');
            } catch {
                /* already gone */
            }
            const t = await Promise.race([exitPromise, sleep(STOP_GRACE_MS).then(() => 'timeout')]);
            if (t === 'timeout' && !exited) {
                try {
                    process.kill(child.pid, 'SIGKILL');
                } catch {
                    /* already gone */
                }
                await exitPromise;
            }
        }
        fs.rmSync(dir, { recursive: true, force: true });
    }

    // Wait for the ready file (it may be seen half-written: retry until it parses).
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let ready = null;
    while (!ready) {
        if (exited) {
            await stop();
            throw new Error(
                `edgekv-coordinator exited before ready (${JSON.stringify(exited)}): ${args.join(' ')}\n${logText}`);
        }
        if (Date.now() > deadline) {
            await stop();
            throw new Error(`edgekv-coordinator not ready after ${READY_TIMEOUT_MS} ms\n${logText}`);
        }
        try {
            const j = JSON.parse(fs.readFileSync(readyPath, 'utf8'));
            if (j && typeof j.http === 'string' && /^http:\/\/127\.0\.0\.1:\d+$/.test(j.http)) ready = j;
        } catch {
            /* not there yet */
        }
        if (!ready) await sleep(20);
    }
    const url = ready.http;
    return {
        url,
        api: `${url}/client/v4`,
        ready,
        pid: child.pid,
        dir,
        log: () => logText,
        stop,
    };
}

/** Base of the KV namespaces REST resource for ACCOUNT_ID. */
export function nsBase(coord, account = ACCOUNT_ID) {
    return `${coord.api}/accounts/${account}/storage/kv/namespaces`;
}

/**
 * Plain REST call (for reading back what a client wrote, independently of that client).
 * Returns {status, headers, bytes (Buffer), text, json (or undefined)}.
 */
export async function rest(method, url, { body, headers = {} } = {}) {
    const init = { method, headers: { Authorization: 'Bearer test-token', ...headers } };
    if (body !== undefined) {
        if (typeof body === 'string' || body instanceof Uint8Array || body instanceof FormData) {
            init.body = body;
        } else {
            init.body = JSON.stringify(body);
            init.headers['Content-Type'] = 'application/json';
        }
    }
    const res = await fetch(url, init);
    const bytes = Buffer.from(await res.arrayBuffer());
    const text = bytes.toString('utf8');
    let json;
    try {
        json = JSON.parse(text);
    } catch {
        json = undefined;
    }
    return { status: res.status, headers: res.headers, bytes, text, json };
}

/** All keys of a namespace through REST, following the cursor. */
export async function restListAll(coord, nsId, { prefix, limit = 1000 } = {}) {
    const out = [];
    let cursor = '';
    for (let i = 0; i < 1000; i++) {
        const q = new URLSearchParams();
        if (prefix !== undefined) q.set('prefix', prefix);
        q.set('limit', String(limit));
        if (cursor) q.set('cursor', cursor);
        const r = await rest('GET', `${nsBase(coord)}/${nsId}/keys?${q}`);
        if (r.status !== 200 || !r.json || !r.json.success) {
            throw new Error(`GET keys?${q} -> ${r.status} ${r.text.slice(0, 300)}`);
        }
        out.push(...r.json.result);
        cursor = r.json.result_info && r.json.result_info.cursor;
        if (!cursor) return out;
    }
    throw new Error('restListAll: too many pages');
}

/**
 * A transparent recording HTTP proxy on 127.0.0.1 in front of `target` (e.g. coord.url), for
 * clients that run as subprocesses (wrangler): failures can then show the exact requests sent and
 * responses got. Bodies are streamed through unchanged; the first PREVIEW bytes of each are kept.
 * Returns {url, exchanges, pending(), stop()}; each exchange: {seq, start, ms, method, url, reqType, reqBytes, reqPreview,
 * status, statusText, respType, respBytes, respPreview}.
 */
export async function startRecordingProxy(target) {
    const PREVIEW = 600;
    const t = new URL(target);
    const exchanges = [];
    const inflight = new Set();
    let seq = 0;
    const sockets = new Set();
    const server = http.createServer((req, res) => {
        const ex = { seq: ++seq, start: Date.now(), ms: null, method: req.method, url: req.url, reqType: req.headers['content-type'] || '', reqBytes: 0, reqPreview: [] };
        inflight.add(ex);
        res.on('close', () => inflight.delete(ex));
        const headers = { ...req.headers, host: t.host };
        const up = http.request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers, agent: false }, (ures) => {
            ex.status = ures.statusCode;
            ex.statusText = ures.statusMessage;
            ex.respType = ures.headers['content-type'] || '';
            ex.respBytes = 0;
            const keep = [];
            res.writeHead(ures.statusCode, ures.statusMessage, ures.rawHeaders);
            ures.on('data', (c) => {
                if (ex.respBytes < PREVIEW) keep.push(c.subarray(0, PREVIEW - ex.respBytes));
                ex.respBytes += c.length;
                res.write(c);
            });
            ures.on('end', () => {
                ex.ms = Date.now() - ex.start;
                ex.respPreview = Buffer.concat(keep).toString('utf8');
                exchanges.push(ex);
                res.end();
            });
            ures.on('error', () => res.destroy());
        });
        up.on('error', (e) => {
            ex.status = 502;
            ex.ms = Date.now() - ex.start;
            ex.respPreview = `proxy: upstream error ${e.message}`;
            exchanges.push(ex);
            if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
            res.end(ex.respPreview);
        });
        req.on('data', (c) => {
            if (ex.reqBytes < PREVIEW) ex.reqPreview.push(c.subarray(0, PREVIEW - ex.reqBytes));
            ex.reqBytes += c.length;
            up.write(c);
        });
        req.on('end', () => {
            ex.reqPreview = Buffer.concat(ex.reqPreview).toString('utf8');
            up.end();
        });
    });
    server.on('connection', (s) => {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
        url: `http://127.0.0.1:${server.address().port}`,
        exchanges,
        /** Requests forwarded but not answered yet. */
        pending: () => [...inflight],
        stop: () => new Promise((resolve) => {
            for (const s of sockets) s.destroy();
            server.close(() => resolve());
        }),
    };
}

/** One exchange as text, for failure messages. */
export function formatExchange(ex) {
    const clip = (s) => (s.length > 400 ? `${s.slice(0, 400)}...` : s);
    const took = ex.ms == null ? 'no answer yet' : `${ex.ms} ms`;
    return `#${ex.seq} ${ex.method} ${ex.url} [${ex.reqType}] ${ex.reqBytes} bytes: ${clip(JSON.stringify(ex.reqPreview))}\n` +
        `    -> (${took}) ${ex.status ?? '-'} ${ex.statusText || ''} [${ex.respType || ''}] ${ex.respBytes ?? 0} bytes: ${clip(JSON.stringify(ex.respPreview || ''))}`;
}
