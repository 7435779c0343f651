// edgekv dev: the user's own Worker, bundled as wrangler bundles it, in workerd with one HTTP
// socket per chosen PoP of the running edgekv world (docs/dev.md).
//
// `edgekv dev` (sim/dev.c) hands over the world in EDGEKV_DEV_WORLD (the PoPs' names, cities,
// URLs, IATA codes and coordinates; the coordinator's REST URL; the world's token when it has
// keys) and becomes this program. It:
//   1. installs its pinned npm packages (deps.mjs) on first use into a cache folder
//      keyed by the lock file's hash, so the source tree stays clean and versions never mix;
//   2. reads the wrangler configuration (config.mjs) and maps each KV binding's id to an edgekv
//      namespace through the coordinator's REST API, creating the missing ones;
//   3. bundles the Worker with esbuild (ES modules, service-worker syntax, TypeScript);
//   4. runs ONE workerd whose config has, per PoP, the user's Worker with its KV bindings
//      pointed at that PoP (an external HTTP service adding X-Edgekv-Namespace), behind a small
//      entry Worker that sets request.cf to the PoP's (a service binding carries cf along), and
//      a socket serving that entry;
//   5. watches the entry, its imports and the configuration; a save rebuilds and restarts
//      workerd on the same ports (a broken save keeps the running version and says why).
// Ctrl-C (SIGINT, SIGTERM, SIGHUP) stops workerd by its pid and exits 0. Every problem the user
// can fix ends the start with one message and exit 1, before anything runs.
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";

import { DevError, loadConfig } from "./config.mjs";
import { ensureDeps, loadLibs } from "./deps.mjs";

const MAX_DEFAULT_POPS = 32; // one isolate per PoP and binding: more only when asked by name
const USAGE = `usage: edgekv dev [--config wrangler.toml|wrangler.json|wrangler.jsonc]
                  [--pop NAME]... [--port BASE]`;

function say(msg) {
    process.stdout.write(`${msg}\n`);
}
function warn(msg) {
    process.stderr.write(`edgekv dev: ${msg}\n`);
}

// ---- the world ------------------------------------------------------------------------------
function readWorld() {
    const text = process.env.EDGEKV_DEV_WORLD;
    if (!text) throw new DevError("run this through `edgekv dev` (it passes the running world)");
    return JSON.parse(text);
}

// The PoPs asked for (--pop, in order), else every PoP (at most MAX_DEFAULT_POPS).
function choosePops(world, names) {
    const all = world.pops;
    const list = () => all.map((p) => p.name).join(", ");
    let chosen;
    if (names.length) {
        chosen = names.map((n) => {
            const p = all.find((q) => q.name === n);
            if (!p) throw new DevError(`no PoP "${n}" in the running world; its PoPs: ${list()}`);
            return p;
        });
        const dup = names.find((n, i) => names.indexOf(n) !== i);
        if (dup) throw new DevError(`--pop ${dup} is given twice`);
    } else if (all.length > MAX_DEFAULT_POPS) {
        throw new DevError(`the world has ${all.length} PoPs: choose some with --pop NAME ` +
            `(its PoPs: ${list()})`);
    } else {
        chosen = all;
    }
    const dead = chosen.find((p) => !p.alive);
    if (dead) {
        throw new DevError(`PoP ${dead.name} is not running (\`edgekv fault restart ${dead.name}\`` +
            " brings it back)");
    }
    return chosen;
}

// request.cf as the PoP's edge would set it: colo (IATA, upper case), city, country,
// continent, timezone and the coordinates, as strings like Cloudflare's.
async function cfFor(pop, airports) {
    const colo = (pop.iata || pop.name).toUpperCase();
    const cf = { colo, city: pop.city, httpProtocol: "HTTP/1.1" };
    try {
        const [a] = await airports.getAirportByIata(colo);
        if (a) Object.assign(cf, { country: a.country_code, continent: a.continent, timezone: a.time });
    } catch {
        // not an airport code: no country for this PoP
    }
    if (typeof pop.lat === "number") {
        cf.latitude = pop.lat.toFixed(5);
        cf.longitude = pop.lon.toFixed(5);
    }
    return cf;
}

// ---- namespaces through the coordinator's REST API ------------------------------------------
async function rest(world, method, suffix, body) {
    const url = `${world.coordinator}/client/v4/accounts/edgekv-dev/storage/kv/namespaces${suffix}`;
    let res;
    try {
        res = await fetch(url, {
            method, signal: AbortSignal.timeout(10000),
            headers: {
                ...(body ? { "content-type": "application/json" } : {}),
                // a world with keys (`edgekv keys`) wants its token on the REST API
                ...(world.token ? { authorization: `Bearer ${world.token}` } : {}),
            },
            body: body ? JSON.stringify(body) : undefined,
        });
    } catch (e) {
        throw new DevError(`the world's coordinator (${world.coordinator}) does not answer ` +
            `(${e.cause ? e.cause.code || e.cause.message : e.message}): is the world still ` +
            "running? `edgekv status` tells");
    }
    const j = await res.json().catch(() => null);
    return { status: res.status, j };
}

async function listNamespaces(world) {
    const all = [];
    for (let page = 1; ; page++) {
        const { status, j } = await rest(world, "GET", `?per_page=1000&page=${page}`);
        if (status !== 200 || !j || !j.success) {
            throw new DevError(`listing namespaces: ${status} ${JSON.stringify(j && j.errors)}`);
        }
        if (!j.result.length) return all; // a page past the end is empty
        all.push(...j.result);
    }
}

// Maps each binding's wrangler id (preview_id, else id, else the binding's name) to an edgekv
// namespace: the one with that id when it exists (made with `edgekv kv namespace create`),
// else the one titled "wrangler:<id>", created when missing, so every run of the same
// configuration finds the same data.
async function mapNamespaces(world, kv) {
    const existing = await listNamespaces(world);
    const out = [];
    for (const k of kv) {
        const wid = k.preview_id ?? k.id ?? k.binding;
        const title = `wrangler:${wid}`;
        let ns = existing.find((n) => n.id === wid);
        let how = "existing";
        if (!ns) ns = existing.find((n) => n.title === title);
        if (!ns) {
            const { status, j } = await rest(world, "POST", "", { title });
            if (status !== 200 || !j || !j.success) {
                throw new DevError(`creating namespace "${title}" for ${k.binding}: ${status} ` +
                    JSON.stringify(j && j.errors));
            }
            ns = j.result;
            existing.push(ns);
            how = "created";
        }
        out.push({ binding: k.binding, wid, nsid: ns.id, title: ns.title, how });
    }
    return out;
}

// ---- bundling -------------------------------------------------------------------------------
// esbuild as wrangler uses it: one bundle, the workerd/worker/browser package conditions,
// cloudflare:* and node:* left to the runtime. An entry with exports is an ES module Worker;
// one without is service-worker syntax (addEventListener), rebuilt as a plain script.
async function bundle(esbuild, cfg) {
    const base = {
        absWorkingDir: cfg.dir, entryPoints: [cfg.main], bundle: true, write: false,
        metafile: true, target: "es2022", platform: "neutral", logLevel: "silent",
        conditions: ["workerd", "worker", "browser"], mainFields: ["browser", "module", "main"],
        external: ["cloudflare:*", "node:*"], outfile: "worker.js",
    };
    let r;
    try {
        r = await esbuild.build({ ...base, format: "esm" });
        const out = Object.values(r.metafile.outputs)[0];
        if (!out.exports.length) {
            r = await esbuild.build({ ...base, format: "iife" });
            return result(r, "service-worker", cfg);
        }
        return result(r, "modules", cfg);
    } catch (e) {
        if (!e.errors) throw e;
        const lines = e.errors.map((m) => m.location
            ? `${m.location.file}:${m.location.line}:${m.location.column}: ERROR: ${m.text}`
            : `ERROR: ${m.text}`);
        const context = esbuild.formatMessagesSync(e.errors, { kind: "error", color: false });
        throw new DevError(`the Worker does not compile (esbuild):\n${lines.join("\n")}\n\n` +
            context.join("").trimEnd());
    }
}

function result(r, format, cfg) {
    const inputs = Object.keys(r.metafile.inputs)
        .filter((f) => !f.includes("node_modules/") && !f.includes(":"))
        .map((f) => path.resolve(cfg.dir, f));
    return { code: r.outputFiles[0].text, format, inputs };
}

// ---- workerd --------------------------------------------------------------------------------
// The entry Worker in front of each PoP's copy: production's edge sets request.cf; here a
// service binding carries the cf given to the Request it forwards.
const ENTRY_JS = `export default {
    fetch(request, env) {
        return env.USER.fetch(new Request(request, { cf: env.CF }));
    },
};
`;

// Writes worker.js, entry.js, each PoP's cf and each var into dir and returns the config's
// text. Every value reaches the config through `embed`, so nothing needs Cap'n Proto escaping.
function writeWorkerdConfig(dir, cfg, built, pops, nsmap) {
    fs.writeFileSync(path.join(dir, "worker.js"), built.code);
    fs.writeFileSync(path.join(dir, "entry.js"), ENTRY_JS);
    const varBindings = Object.entries(cfg.vars).map(([name, v], i) => {
        const f = `var-${i}.txt`;
        const isText = typeof v === "string";
        fs.writeFileSync(path.join(dir, f), isText ? v : JSON.stringify(v));
        return `(name = ${JSON.stringify(name)}, ${isText ? "text" : "json"} = embed "${f}")`;
    });
    const services = [];
    const sockets = [];
    const flags = cfg.compatibilityFlags.map((f) => JSON.stringify(f)).join(", ");
    const module = built.format === "modules"
        ? 'modules = [(name = "worker.js", esModule = embed "worker.js")]'
        : 'serviceWorkerScript = embed "worker.js"';
    for (const p of pops) {
        fs.writeFileSync(path.join(dir, `cf-${p.name}.json`), JSON.stringify(p.cf));
        const kv = nsmap.map((m) => {
            services.push(`(name = "kv-${p.name}-${m.binding}", external = (address = ` +
                `"${new URL(p.url).host}", http = (injectRequestHeaders = [(name = ` +
                `"X-Edgekv-Namespace", value = "${m.nsid}")])))`);
            return `(name = "${m.binding}", kvNamespace = "kv-${p.name}-${m.binding}")`;
        });
        services.push(`(name = "user-${p.name}", worker = (${module}, ` +
            `compatibilityDate = "${cfg.compatibilityDate}", compatibilityFlags = [${flags}], ` +
            `bindings = [${[...kv, ...varBindings].join(", ")}]))`);
        services.push(`(name = "entry-${p.name}", worker = (modules = [(name = "entry.js", ` +
            `esModule = embed "entry.js")], compatibilityDate = "${cfg.compatibilityDate}", ` +
            `bindings = [(name = "USER", service = "user-${p.name}"), ` +
            `(name = "CF", json = embed "cf-${p.name}.json")]))`);
        sockets.push(`(name = "pop-${p.name}", address = "127.0.0.1:${p.port}", http = (), ` +
            `service = "entry-${p.name}")`);
    }
    const text = `# Written by edgekv dev for ${cfg.file}; schema: workerd's workerd.capnp.
using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    ${services.join(",\n    ")},
  ],
  sockets = [
    ${sockets.join(",\n    ")},
  ],
);
`;
    fs.writeFileSync(path.join(dir, "config.capnp"), text);
}

// Free loopback ports, held open together while chosen so that they differ.
async function freePorts(n) {
    const servers = [];
    for (let i = 0; i < n; i++) {
        const s = net.createServer();
        await new Promise((ok, ko) => s.once("error", ko).listen(0, "127.0.0.1", ok));
        servers.push(s);
    }
    const ports = servers.map((s) => s.address().port);
    await Promise.all(servers.map((s) => new Promise((ok) => s.close(ok))));
    return ports;
}

function connects(port) {
    return new Promise((ok) => {
        const c = net.connect({ host: "127.0.0.1", port });
        c.once("connect", () => { c.destroy(); ok(true); });
        c.once("error", () => ok(false));
    });
}

const SETPRIV = (process.env.PATH || "").split(":").map((d) => path.join(d, "setpriv"))
    .find((f) => { try { fs.accessSync(f, fs.constants.X_OK); return true; } catch { return false; } });

const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

// One workerd process: started on the config in dir, ready when every socket accepts. Its
// stdout (the Worker's console) goes to ours; its stderr to ours too, the tail kept for errors.
class Workerd {
    constructor(bin, dir) {
        this.tail = [];
        this.exited = null;
        const args = ["serve", path.join(dir, "config.capnp"), "--verbose"];
        // setpriv (util-linux) asks the kernel to TERM workerd when we die, even by SIGKILL,
        // so nothing is left running; it execs workerd, so the pid is workerd's.
        const [cmd, argv] = SETPRIV ? [SETPRIV, ["--pdeathsig", "TERM", "--", bin, ...args]]
            : [bin, args];
        this.proc = spawn(cmd, argv, { stdio: ["ignore", "inherit", "pipe"] });
        this.proc.stderr.on("data", (d) => {
            process.stderr.write(d);
            this.tail.push(...String(d).split("\n").filter(Boolean));
            this.tail = this.tail.slice(-20);
        });
        this.done = new Promise((ok) => this.proc.once("exit", (code, sig) => {
            this.exited = { code, sig };
            ok();
        }));
    }

    async ready(ports, ms = 30000) {
        const until = Date.now() + ms;
        while (Date.now() < until && !this.exited) {
            const up = await Promise.all(ports.map(connects));
            if (up.every(Boolean) && !this.exited) return true;
            await sleep(50);
        }
        return false;
    }

    // SIGTERM by pid, SIGKILL after grace_ms; resolves once it is gone.
    async stop(graceMs = 3000) {
        if (this.exited) return;
        this.proc.kill("SIGTERM");
        const t = setTimeout(() => this.exited || this.proc.kill("SIGKILL"), graceMs);
        await this.done;
        clearTimeout(t);
    }
}

// Starts workerd on the chosen ports. At the first start with automatic ports, a port another
// program took in the meantime means new ports and another try; a reload keeps the URLs printed.
async function startWorkerd(libs, state, reloading = false) {
    for (let attempt = 1; ; attempt++) {
        writeWorkerdConfig(state.dir, state.cfg, state.built, state.pops, state.nsmap);
        const w = new Workerd(libs.workerd.bin, state.dir);
        if (await w.ready(state.pops.map((p) => p.port))) return w;
        await w.stop();
        const why = w.tail.slice(-8).join("\n");
        const inUse = /address already in use/i.test(why);
        if (inUse && !state.fixedPorts && !reloading && attempt < 3) {
            const ports = await freePorts(state.pops.length);
            state.pops.forEach((p, i) => { p.port = ports[i]; });
            continue;
        }
        if (inUse && attempt < 5) { // a reload: the old process's sockets may linger a moment
            await sleep(300);
            continue;
        }
        throw new DevError(`workerd did not start${inUse ? " (a port is in use)" : ""}:\n${why}`);
    }
}

// ---- the run --------------------------------------------------------------------------------
function parse(argv) {
    try {
        const { values } = parseArgs({
            args: argv, strict: true, allowPositionals: false, options: {
                config: { type: "string", short: "c" },
                pop: { type: "string", multiple: true },
                port: { type: "string" },
                "install-only": { type: "boolean" },
                help: { type: "boolean", short: "h" },
            },
        });
        return values;
    } catch (e) {
        process.stderr.write(`edgekv dev: ${e.message}\n${USAGE}\n`);
        process.exit(2);
    }
}

function printNamespaces(nsmap) {
    for (const m of nsmap) {
        say(`  KV ${m.binding}: ${m.wid} -> edgekv namespace ${m.nsid} "${m.title}" (${m.how})`);
    }
}

function printTable(state, libs) {
    const { cfg, built, nsmap, pops } = state;
    say(`edgekv dev: ${cfg.name} (${path.relative(process.cwd(), cfg.main) || cfg.main}, ` +
        `${built.format === "modules" ? "ES modules" : "service-worker syntax"}) in workerd ` +
        `${libs.workerd.version}, compatibility date ${cfg.compatibilityDate}`);
    printNamespaces(nsmap);
    const rows = [["PoP", "city", "colo", "URL"],
        ...pops.map((p) => [p.name, p.city, p.cf.colo, `http://127.0.0.1:${p.port}`])];
    const w = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    for (const r of rows) say(r.map((v, c) => v.padEnd(w[c])).join("  ").trimEnd());
}

// Files to watch: the bundle's own inputs and the configuration, by folder (an editor's save
// often replaces the file, which a watch on the file itself would lose).
function watchFiles(state, onChange) {
    for (const w of state.watchers || []) w.close();
    const files = new Set([...state.built.inputs, path.resolve(state.cfg.dir, path.basename(state.cfg.file))]);
    const byDir = new Map();
    for (const f of files) {
        const d = path.dirname(f);
        if (!byDir.has(d)) byDir.set(d, new Set());
        byDir.get(d).add(path.basename(f));
    }
    state.watchers = [...byDir].map(([d, names]) => fs.watch(d, (ev, name) => {
        if (!name || names.has(String(name))) onChange();
    }));
    return files.size;
}

async function reload(libs, state, opts) {
    const t0 = Date.now();
    let cfg, built, nsmap;
    try {
        cfg = loadConfig(opts.config, process.cwd(), libs, libs.workerd.date);
        built = await bundle(libs.esbuild, cfg);
        nsmap = JSON.stringify(cfg.kv) === JSON.stringify(state.cfg.kv)
            ? state.nsmap : await mapNamespaces(state.world, cfg.kv);
    } catch (e) {
        if (!(e instanceof DevError)) throw e;
        warn(`${e.message}\nedgekv dev: still serving the previous version; fix it and save`);
        return;
    }
    for (const m of cfg.warnings) warn(m);
    const same = built.code === state.built.code && JSON.stringify(cfg) === JSON.stringify(state.cfg);
    if (same) return;
    const prev = { cfg: state.cfg, built: state.built, nsmap: state.nsmap };
    Object.assign(state, { cfg, built, nsmap });
    state.restarting = true;
    await state.workerd.stop();
    // Ctrl-C while the old workerd stopped: cleanup() stops state.workerd, so start no other.
    if (state.stopping) return;
    try {
        state.workerd = await startWorkerd(libs, state, true);
        say(`reloaded: ${path.basename(cfg.main)} in ${Date.now() - t0} ms`);
        if (nsmap !== prev.nsmap) printNamespaces(nsmap);
    } catch (e) {
        if (!(e instanceof DevError)) throw e;
        // It compiled but does not start (it throws at load, say): back to what ran before.
        warn(`${e.message}\nedgekv dev: back to the previous version; fix it and save`);
        Object.assign(state, prev);
        state.workerd = await startWorkerd(libs, state, true);
    }
    // Ctrl-C while the new one started: cleanup() may have stopped the old one only.
    if (state.stopping) {
        await state.workerd.stop();
        return;
    }
    state.restarting = false;
    watchOver(state);
}

// A workerd that exits on its own (not stopped for a reload or Ctrl-C) ends the run.
function watchOver(state) {
    const w = state.workerd;
    w.done.then(() => {
        if (state.stopping || state.restarting || state.workerd !== w) return;
        warn(`workerd exited (${w.exited.sig || `status ${w.exited.code}`}):\n` +
            w.tail.slice(-8).join("\n"));
        state.cleanup().then(() => process.exit(1));
    });
}

async function main() {
    const opts = parse(process.argv.slice(2));
    if (opts.help) {
        say(USAGE);
        return 0;
    }
    const libs = await loadLibs(ensureDeps());
    if (opts["install-only"]) {
        say(`edgekv dev: workerd ${libs.workerd.version} and esbuild ${libs.esbuild.version} ready`);
        return 0;
    }
    let base = null;
    if (opts.port !== undefined) {
        base = Number(opts.port);
        if (!/^\d+$/.test(opts.port) || base < 1 || base > 65535) {
            throw new DevError(`--port ${opts.port}: a port number (1..65535) is expected`);
        }
    }
    const world = readWorld();
    const pops = choosePops(world, opts.pop || []).map((p) => ({ ...p }));
    if (base !== null && base + pops.length - 1 > 65535) {
        throw new DevError(`--port ${base}: ${pops.length} PoPs need ports up to ` +
            `${base + pops.length - 1}`);
    }
    const cfg = loadConfig(opts.config, process.cwd(), libs, libs.workerd.date);
    for (const m of cfg.warnings) warn(m);
    const built = await bundle(libs.esbuild, cfg);
    const nsmap = await mapNamespaces(world, cfg.kv);
    const ports = base !== null ? pops.map((_, i) => base + i) : await freePorts(pops.length);
    for (const [i, p] of pops.entries()) {
        p.port = ports[i];
        p.cf = await cfFor(p, libs.airports);
    }
    const state = {
        world, cfg, built, nsmap, pops, fixedPorts: base !== null,
        dir: fs.mkdtempSync(path.join(os.tmpdir(), "edgekv-dev-")),
    };
    state.cleanup = async () => {
        state.stopping = true;
        for (const w of state.watchers || []) w.close();
        if (state.workerd) await state.workerd.stop();
        fs.rmSync(state.dir, { recursive: true, force: true });
    };
    for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
        process.on(sig, () => {
            if (state.stopping) return;
            say(`edgekv dev: ${sig}: stopping workerd`);
            state.cleanup().then(() => process.exit(0));
        });
    }
    try {
        state.workerd = await startWorkerd(libs, state);
    } catch (e) {
        await state.cleanup();
        throw e;
    }
    watchOver(state);
    printTable(state, libs);
    let timer = null;
    let busy = Promise.resolve();
    const onChange = () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
            busy = busy.then(() => reload(libs, state, opts))
                .then(() => watchFiles(state, onChange))
                .catch((e) => {
                    warn(e.stack || e.message);
                    state.cleanup().then(() => process.exit(1));
                });
        }, 150);
    };
    const n = watchFiles(state, onChange);
    say(`ready: watching ${n} files for changes; Ctrl-C stops (workerd pid ${state.workerd.proc.pid})`);
    return null; // keeps running
}

main().then((code) => {
    if (code !== null) process.exit(code);
}, (e) => {
    if (e instanceof DevError) {
        warn(e.message);
    } else {
        warn(e.stack || String(e));
    }
    process.exit(1);
});
