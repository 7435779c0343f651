// config.mjs against wrangler configurations written here: what edgekv dev reads from each
// format, and the file:line of every problem it reports (the TOML and JSONC parsers' positions
// for syntax, the key's line for the rest). Run: node --test sim/dev/config.test.mjs
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";

import { DevError, loadConfig } from "./config.mjs";
import { ensureDeps, loadLibs } from "./deps.mjs";

const libs = await loadLibs(ensureDeps());
const NEWEST = "2026-10-23";

// A folder with src/index.js and the given files; returns its path.
function project(files) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "edgekv-dev-config-"));
    fs.mkdirSync(path.join(dir, "src"));
    fs.writeFileSync(path.join(dir, "src", "index.js"), "export default {};\n");
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
    return dir;
}

function load(files, file = null) {
    const dir = project(files);
    try {
        return loadConfig(file, dir, libs, NEWEST);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

// The DevError message of loading files (fails if it loads).
function problem(files, file = null) {
    try {
        load(files, file);
    } catch (e) {
        if (e instanceof DevError) return e.message;
        throw e;
    }
    assert.fail("loaded without a problem");
}

const TOML = `name = "app"
main = "src/index.js"
compatibility_date = "2025-06-01"
compatibility_flags = ["nodejs_compat"]

[[kv_namespaces]]
binding = "A"
id = "aaaa"

[[kv_namespaces]]
binding = "B"
id = "bbbb"
preview_id = "bbbb-preview"

[vars]
MODE = "dev"
LIMITS = { per_minute = 10 }
`;

test("wrangler.toml: main, date, flags, namespaces and vars", () => {
    const c = load({ "wrangler.toml": TOML });
    assert.equal(c.file, "wrangler.toml");
    assert.equal(c.name, "app");
    assert.match(c.main, /src\/index\.js$/);
    assert.equal(c.compatibilityDate, "2025-06-01");
    assert.deepEqual(c.compatibilityFlags, ["nodejs_compat"]);
    assert.deepEqual(c.kv, [
        { binding: "A", id: "aaaa", preview_id: null },
        { binding: "B", id: "bbbb", preview_id: "bbbb-preview" },
    ]);
    assert.deepEqual(JSON.parse(JSON.stringify(c.vars)), { MODE: "dev", LIMITS: { per_minute: 10 } });
    assert.deepEqual(c.warnings, []);
});

test("wrangler.jsonc: comments and trailing commas; json comes before jsonc before toml", () => {
    const jsonc = `// a comment
{
  "main": "src/index.js", /* another */
  "compatibility_date": "2025-06-01",
  "kv_namespaces": [{ "binding": "KV", "id": "x", },],
}`;
    const c = load({ "wrangler.jsonc": jsonc, "wrangler.toml": "main = 1\n" });
    assert.equal(c.file, "wrangler.jsonc");
    assert.deepEqual(c.kv, [{ binding: "KV", id: "x", preview_id: null }]);
    const j = load({ "wrangler.json": '{"main": "src/index.js"}', "wrangler.jsonc": jsonc });
    assert.equal(j.file, "wrangler.json");
    assert.equal(j.compatibilityDate, NEWEST);
    assert.match(j.warnings[0], /^wrangler\.json: no compatibility_date; using 2026-10-23/);
});

test("syntax errors: the parser's line and column", () => {
    assert.match(problem({ "wrangler.toml": 'main = "src/index.js"\nname = "x\n' }),
        /^wrangler\.toml:2:\d+: /);
    assert.match(problem({ "wrangler.json": '{\n  "main": "src/index.js"\n  "name": "x"\n}\n' }),
        /^wrangler\.json:3:3: CommaExpected$/);
    assert.match(problem({ "wrangler.jsonc": "[1, 2]\n" }), /^wrangler\.jsonc:1: .* JSON object/);
});

test("no configuration, or --config naming no file", () => {
    assert.match(problem({}), /^no wrangler\.json, wrangler\.jsonc, wrangler\.toml in .*--config FILE$/);
    assert.equal(problem({}, "other.toml"), "other.toml: no such file");
});

test("an unknown binding: its line, in TOML and JSONC", () => {
    assert.match(problem({ "wrangler.toml": `${TOML}\n[[d1_databases]]\nbinding = "DB"\n` }),
        /^wrangler\.toml:19: unknown binding d1_databases: /);
    assert.match(problem({
        "wrangler.jsonc": '{\n  "main": "src/index.js",\n\n  "r2_buckets": [{"binding": "F"}]\n}',
    }), /^wrangler\.jsonc:4: unknown binding r2_buckets: /);
    assert.match(problem({ "wrangler.toml": 'main = "src/index.js"\nservices = []\n' }),
        /^wrangler\.toml:2: unknown binding services: /);
});

test("main: missing, or not a file", () => {
    assert.match(problem({ "wrangler.toml": 'name = "x"\n' }), /^wrangler\.toml: main must name/);
    assert.equal(problem({ "wrangler.toml": 'name = "x"\nmain = "src/nope.ts"\n' })
        .split(" (")[0], 'wrangler.toml:2: main = "src/nope.ts": no such file');
});

test("kv_namespaces: the entry's line for a missing or duplicate binding", () => {
    const noBinding = TOML.replace('binding = "B"\n', "");
    assert.match(problem({ "wrangler.toml": noBinding }),
        /^wrangler\.toml:10: kv_namespaces\[1\] needs binding = "NAME"/);
    const twice = TOML.replace('binding = "B"', 'binding = "A"');
    assert.match(problem({ "wrangler.toml": twice }), /^wrangler\.toml:10: binding A is given twice$/);
    assert.match(problem({
        "wrangler.json": '{"main": "src/index.js",\n "kv_namespaces": [\n {"binding": "K"},\n {"binding": "9x"}]}',
    }), /^wrangler\.json:4: kv_namespaces\[1\] needs binding/);
    assert.match(problem({ "wrangler.toml": 'main = "src/index.js"\nkv_namespaces = "KV"\n' }),
        /^wrangler\.toml:2: kv_namespaces must be a list/);
});

test("compatibility_date: malformed, or newer than workerd", () => {
    assert.match(problem({ "wrangler.toml": 'main = "src/index.js"\ncompatibility_date = "June"\n' }),
        /^wrangler\.toml:2: compatibility_date must be "YYYY-MM-DD"$/);
    assert.match(problem({ "wrangler.toml": 'main = "src/index.js"\ncompatibility_date = "2099-01-01"\n' }),
        /^wrangler\.toml:2: compatibility_date 2099-01-01 is newer than the pinned workerd/);
});

test("unknown settings and environments: warnings, not errors", () => {
    const toml = `colour = 1\n${TOML}\n[env.staging]\nname = "s"\n`;
    const c = load({ "wrangler.toml": toml });
    assert.deepEqual(c.warnings, [
        "wrangler.toml:1: unknown setting colour, ignored",
        "wrangler.toml:20: environments ([env.NAME]) are ignored",
    ]);
});
