// The user's wrangler configuration (wrangler.toml, wrangler.json or wrangler.jsonc), read as
// wrangler 4 reads it, for `edgekv dev`: the entry module, the compatibility date and flags,
// the KV namespaces and plain vars. Everything else that binds a resource edgekv does not have
// (R2, D1, Durable Objects...) is an error naming the file and line, so a Worker never starts
// with a binding silently missing. Parsing is the npm parsers' (smol-toml, jsonc-parser): their
// positions name the line of a syntax error. No I/O but reading the file.
import fs from "node:fs";
import path from "node:path";

// A problem the user must fix: dev.mjs prints the message alone and exits 1.
export class DevError extends Error {}

// wrangler 4 looks for these, in this order, in the working folder.
export const CONFIG_NAMES = ["wrangler.json", "wrangler.jsonc", "wrangler.toml"];

// Binding kinds of wrangler's configuration that edgekv cannot provide.
const UNSUPPORTED = [
    "r2_buckets", "d1_databases", "durable_objects", "services", "queues",
    "analytics_engine_datasets", "ai", "vectorize", "hyperdrive", "browser", "workflows",
    "send_email", "dispatch_namespaces", "mtls_certificates", "images", "version_metadata",
    "secrets_store_secrets", "unsafe", "assets", "pipelines", "logfwdr",
];
// Settings read here, and settings of deploying that do not change a local run.
const KNOWN = new Set([
    "name", "main", "compatibility_date", "compatibility_flags", "kv_namespaces", "vars",
    "account_id", "workers_dev", "route", "routes", "triggers", "observability", "minify",
    "keep_vars", "preview_urls", "upload_source_maps", "limits", "placement", "tail_consumers",
    "node_compat", "no_bundle", "find_additional_modules", "rules", "build", "env", "dev",
    "$schema", "send_metrics", "logpush", "usage_model", "base_dir", "define", "alias", "tsconfig",
]);
const KV_KEYS = new Set(["binding", "id", "preview_id", "remote", "experimental_remote"]);
const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

// 1-based line and column of a character offset.
function position(text, offset) {
    const before = text.slice(0, offset);
    const line = before.split("\n").length;
    return { line, column: offset - before.lastIndexOf("\n") };
}

// Where a TOML key or table is first written: the line of `key =`, `[key]`, `[[key]]` or
// `[key.sub]`,
// searched in the text (smol-toml gives positions for syntax errors only). 0 when not found.
function tomlLine(text, key, nth = 0) {
    const esc = key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const re = new RegExp(`^\\s*(\\[\\[?\\s*${esc}\\s*[\\].]|${esc}\\s*=)`);
    const lines = text.split("\n");
    let seen = 0;
    for (let i = 0; i < lines.length; i++) {
        if (re.test(lines[i]) && seen++ === nth) return i + 1;
    }
    return 0;
}

// Parses TOML; a syntax error becomes "FILE:LINE:COLUMN: message".
function parseToml(file, text, toml) {
    try {
        return { data: toml.parse(text), line: (key, nth) => tomlLine(text, key, nth) };
    } catch (e) {
        const first = String(e.message).split("\n")[0];
        const where = e.line ? `${e.line}:${e.column}` : "1";
        throw new DevError(`${file}:${where}: ${first}`);
    }
}

// Parses JSON with comments (wrangler accepts them in .json too); the tree gives every key's
// line.
function parseJsonc(file, text, jsonc) {
    const errors = [];
    const data = jsonc.parse(text, errors, { allowTrailingComma: true, disallowComments: false });
    if (errors.length) {
        const e = errors[0];
        const p = position(text, e.offset);
        throw new DevError(`${file}:${p.line}:${p.column}: ${jsonc.printParseErrorCode(e.error)}`);
    }
    if (data === null || typeof data !== "object" || Array.isArray(data)) {
        throw new DevError(`${file}:1: the configuration must be a JSON object`);
    }
    const tree = jsonc.parseTree(text, [], { allowTrailingComma: true });
    const line = (key, nth = 0) => {
        const node = jsonc.findNodeAtLocation(tree, [key]);
        if (!node) return 0;
        if (nth !== undefined && node.type === "array" && node.children && node.children[nth]) {
            return position(text, node.children[nth].offset).line;
        }
        return position(text, node.parent ? node.parent.offset : node.offset).line;
    };
    return { data, line };
}

// Reads and checks the configuration. file: the --config argument, or null to look for
// CONFIG_NAMES in cwd. libs: { toml, jsonc } (smol-toml, jsonc-parser). Returns
// { file, dir, name, main, compatibilityDate, compatibilityFlags, kv: [{binding, id,
// preview_id}], vars: {NAME: value}, warnings: [] }; throws DevError naming file and line.
export function loadConfig(file, cwd, libs, newestDate) {
    if (!file) {
        const found = CONFIG_NAMES.map((n) => path.join(cwd, n)).find((f) => fs.existsSync(f));
        if (!found) {
            throw new DevError(`no ${CONFIG_NAMES.join(", ")} in ${cwd}: ` +
                "write one, or name it with --config FILE");
        }
        file = path.relative(cwd, found) || found;
    }
    let text;
    try {
        text = fs.readFileSync(path.resolve(cwd, file), "utf8");
    } catch (e) {
        throw new DevError(`${file}: ${e.code === "ENOENT" ? "no such file" : e.message}`);
    }
    const { data, line } = file.endsWith(".toml")
        ? parseToml(file, text, libs.toml)
        : parseJsonc(file, text, libs.jsonc);
    const at = (key, nth) => {
        const l = line(key, nth);
        return l ? `${file}:${l}` : file;
    };
    const warnings = [];
    for (const key of Object.keys(data)) {
        if (UNSUPPORTED.includes(key)) {
            throw new DevError(`${at(key)}: unknown binding ${key}: edgekv dev binds KV ` +
                "namespaces (kv_namespaces) and vars only; remove it or stub it for local runs");
        }
        if (!KNOWN.has(key)) warnings.push(`${at(key)}: unknown setting ${key}, ignored`);
    }
    if (data.env) warnings.push(`${at("env")}: environments ([env.NAME]) are ignored`);
    if (typeof data.main !== "string" || !data.main) {
        throw new DevError(`${data.main === undefined ? file : at("main")}: main must name ` +
            'the Worker\'s entry module (main = "src/index.js")');
    }
    const dir = path.dirname(path.resolve(cwd, file));
    const main = path.resolve(dir, data.main);
    if (!fs.existsSync(main)) {
        throw new DevError(`${at("main")}: main = "${data.main}": no such file (${main})`);
    }
    let date = data.compatibility_date;
    if (date === undefined) {
        warnings.push(`${file}: no compatibility_date; using ${newestDate}, the newest workerd ` +
            "supports");
        date = newestDate;
    } else if (typeof date !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(date)) {
        throw new DevError(`${at("compatibility_date")}: compatibility_date must be "YYYY-MM-DD"`);
    } else if (date > newestDate) {
        throw new DevError(`${at("compatibility_date")}: compatibility_date ${date} is newer ` +
            `than the pinned workerd supports (${newestDate})`);
    }
    const flags = data.compatibility_flags ?? [];
    if (!Array.isArray(flags) || flags.some((f) => typeof f !== "string")) {
        throw new DevError(`${at("compatibility_flags")}: compatibility_flags must be a list ` +
            "of strings");
    }
    const kv = readKv(data.kv_namespaces, at, warnings);
    const vars = data.vars ?? {};
    if (typeof vars !== "object" || Array.isArray(vars)) {
        throw new DevError(`${at("vars")}: vars must be a table of NAME = value`);
    }
    for (const name of Object.keys(vars)) {
        if (!IDENT.test(name)) throw new DevError(`${at("vars")}: var name "${name}" is not an identifier`);
        if (kv.some((k) => k.binding === name)) {
            throw new DevError(`${at("vars")}: ${name} is bound twice (vars and kv_namespaces)`);
        }
    }
    return {
        file, dir, name: typeof data.name === "string" ? data.name : path.basename(dir), main,
        compatibilityDate: date, compatibilityFlags: flags, kv, vars, warnings,
    };
}

// The kv_namespaces entries: each a binding (a JavaScript identifier, unique) and the id it
// maps from (preview_id, else id, else the binding's name, as wrangler's local mode does).
function readKv(list, at, warnings) {
    if (list === undefined) return [];
    if (!Array.isArray(list)) {
        throw new DevError(`${at("kv_namespaces")}: kv_namespaces must be a list ` +
            "([[kv_namespaces]] tables)");
    }
    const seen = new Set();
    return list.map((e, i) => {
        const where = at("kv_namespaces", i);
        if (e === null || typeof e !== "object" || Array.isArray(e)) {
            throw new DevError(`${where}: kv_namespaces[${i}] must be a table with binding and id`);
        }
        if (typeof e.binding !== "string" || !IDENT.test(e.binding)) {
            throw new DevError(`${where}: kv_namespaces[${i}] needs binding = "NAME" ` +
                "(a JavaScript identifier)");
        }
        if (seen.has(e.binding)) throw new DevError(`${where}: binding ${e.binding} is given twice`);
        seen.add(e.binding);
        for (const k of Object.keys(e)) {
            if (!KV_KEYS.has(k)) warnings.push(`${where}: kv_namespaces[${i}].${k} is ignored`);
        }
        for (const k of ["id", "preview_id"]) {
            if (e[k] !== undefined && (typeof e[k] !== "string" || !e[k])) {
                throw new DevError(`${where}: ${e.binding}'s ${k} must be a non-empty string`);
            }
        }
        return { binding: e.binding, id: e.id ?? null, preview_id: e.preview_id ?? null };
    });
}
