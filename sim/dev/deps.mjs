// The npm packages edgekv dev runs (package-lock.json pins them: workerd, esbuild, smol-toml,
// jsonc-parser, airport-data-js), installed on first use into a cache folder, so that the
// source tree stays clean and two versions of the lock never share a folder.
import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

import { DevError } from "./config.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));

// ${EDGEKV_CACHE:-${XDG_CACHE_HOME:-~/.cache}/edgekv}/dev-HASH, as scripts/lib/node.sh places
// the cached Node.js. The folder appears whole (npm ci in a temporary sibling, then rename).
export function depsDir() {
    const root = process.env.EDGEKV_CACHE ||
        path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "edgekv");
    const lock = fs.readFileSync(path.join(HERE, "package-lock.json"));
    const hash = crypto.createHash("sha256").update(lock).digest("hex").slice(0, 12);
    return path.join(root, `dev-${hash}`);
}

export function ensureDeps() {
    const dir = depsDir();
    if (fs.existsSync(path.join(dir, "node_modules", ".package-lock.json"))) return dir;
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    const tmp = fs.mkdtempSync(`${dir}.tmp-`);
    for (const f of ["package.json", "package-lock.json"]) {
        fs.copyFileSync(path.join(HERE, f), path.join(tmp, f));
    }
    process.stderr.write("edgekv dev: installing workerd, esbuild and the parsers (first use) " +
        `into ${dir}\n`);
    const r = spawnSync("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], {
        cwd: tmp, stdio: ["ignore", 2, 2],
    });
    if (r.status !== 0) {
        fs.rmSync(tmp, { recursive: true, force: true });
        throw new DevError(`npm ci failed (${r.error ? r.error.message : `status ${r.status}`}): ` +
            "is the npm registry reachable? scripts/setup installs these ahead of time");
    }
    try {
        fs.renameSync(tmp, dir);
    } catch {
        fs.rmSync(tmp, { recursive: true, force: true }); // another edgekv dev won the race
    }
    return dir;
}

export async function loadLibs(dir) {
    const req = createRequire(path.join(dir, "package.json"));
    const workerd = req("workerd");
    return {
        toml: await import(pathToFileURL(req.resolve("smol-toml")).href),
        jsonc: req("jsonc-parser"),
        esbuild: req("esbuild"),
        airports: req("airport-data-js"),
        workerd: { bin: workerd.default, version: workerd.version, date: workerd.compatibilityDate },
    };
}
