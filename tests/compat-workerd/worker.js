// An ordinary Worker (ES module syntax) that uses its KV binding env.KV the way real applications
// do. run.sh runs it unchanged in workerd with env.KV bound to an edgekv PoP.
//
// Bindings: KV (required); KV2 (optional), a second namespace, for the isolation check.
//
// Routes:
//   GET  /selftest[?run=ID]          runs every check below against env.KV and answers
//                                    {ok, run, checks: [{name, ok, detail?}]} (ok: every check ok)
//   GET  /read?key=K[&cacheTtl=N]    the value read with that cacheTtl, or "null" when missing;
//                                    header X-KV-Cache-Status carries the binding's cacheStatus
//   PUT  /write?key=K                writes the request body as the value of K ("ok")
//   DELETE /delete?key=K             deletes K ("ok")
// A binding error answers 500 with the runtime's message (e.g. "KV GET failed: 400 ...").

const json = (obj, status = 200) =>
  new Response(JSON.stringify(obj, null, 1), {
    status,
    headers: { "content-type": "application/json" },
  });

function same(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

function show(v) {
  if (v instanceof Map) return `Map(${JSON.stringify([...v.entries()])})`;
  if (v instanceof ArrayBuffer) return `ArrayBuffer(${v.byteLength})`;
  return JSON.stringify(v);
}

async function expectThrow(fn, pattern) {
  try {
    await fn();
  } catch (e) {
    const msg = String(e && e.message);
    return { ok: pattern.test(msg), detail: msg };
  }
  return { ok: false, detail: "did not throw" };
}

// Every check gets its own keys under a per-run prefix, so reruns never collide and no key is
// written twice within a second (the PoP limits writes to one key to 1/s).
async function selftest(KV, KV2, run) {
  const p = `compat/${run}/`;
  const checks = [];
  // The PoP allows one write per key per second (KV-SPEC section 1), deletes included: remember
  // when each key was written and let a second write to it wait out the second.
  const written = new Map();
  const put = async (k, v, o) => {
    await KV.put(k, v, o);
    written.set(k, Date.now());
  };
  const settle = async (k) => {
    const wait = (written.get(k) ?? 0) + 1100 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  };
  const check = async (name, fn) => {
    try {
      const r = await fn();
      checks.push({ name, ok: r.ok === true, detail: r.detail });
    } catch (e) {
      checks.push({ name, ok: false, detail: `threw: ${e && e.stack ? e.stack : e}` });
    }
  };

  // --- sessions with a TTL ------------------------------------------------------------------
  const session = { user: "ada", roles: ["admin"], csrf: "t0k3n" };
  const sid = `${p}session:9f2c`;
  await check("session: put with expirationTtl 120 then get", async () => {
    await put(sid, JSON.stringify(session), { expirationTtl: 120 });
    const got = await KV.get(sid, "json");
    return { ok: same(got, session), detail: show(got) };
  });
  await check("session: list reports expiration ~ now+120", async () => {
    const now = Math.floor(Date.now() / 1000);
    const r = await KV.list({ prefix: sid });
    const k = r.keys[0];
    const ok = r.keys.length === 1 && k.name === sid && typeof k.expiration === "number" &&
      k.expiration >= now + 110 && k.expiration <= now + 130;
    return { ok, detail: `now=${now} ${show(r.keys)}` };
  });
  await check("session: absolute expiration (now+300) is kept and listed", async () => {
    const exp = Math.floor(Date.now() / 1000) + 300;
    await put(`${p}session:abs`, "s", { expiration: exp });
    const got = await KV.get(`${p}session:abs`);
    const r = await KV.list({ prefix: `${p}session:abs` });
    const ok = got === "s" && r.keys.length === 1 && r.keys[0].expiration === exp;
    return { ok, detail: `exp=${exp} get=${show(got)} listed=${show(r.keys)}` };
  });
  await check("session: expirationTtl 30 is refused with the KV message", () =>
    expectThrow(() => KV.put(`${p}session:short`, "x", { expirationTtl: 30 }),
      /^KV PUT failed: 400 Invalid expiration_ttl of 30\. Expiration TTL must be at least 60\.$/));
  await check("session: absolute expiration in the past is refused", () =>
    expectThrow(() => KV.put(`${p}session:past`, "x", { expiration: 1000 }),
      /^KV PUT failed: 400 Invalid expiration of 1000\. /));

  // --- JSON values --------------------------------------------------------------------------
  const cfg = { theme: "dark", limits: { rps: 50, burst: [1, 2, 3] }, beta: true, note: "ünï ✓" };
  const cfgKey = `${p}config:app`;
  await check("json: put JSON.stringify", async () => {
    await put(cfgKey, JSON.stringify(cfg));
    return { ok: true };
  });
  await check('json: get(key, "json")', async () => {
    const got = await KV.get(cfgKey, "json");
    return { ok: same(got, cfg), detail: show(got) };
  });
  await check('json: get(key, {type: "json"})', async () => {
    const got = await KV.get(cfgKey, { type: "json" });
    return { ok: same(got, cfg), detail: show(got) };
  });
  await check("json: get(key) as text", async () => {
    const got = await KV.get(cfgKey);
    return { ok: got === JSON.stringify(cfg), detail: show(got) };
  });
  await check('json: get(key, "arrayBuffer") is the UTF-8 bytes', async () => {
    const got = await KV.get(cfgKey, "arrayBuffer");
    const text = new TextDecoder().decode(got);
    return { ok: got instanceof ArrayBuffer && text === JSON.stringify(cfg), detail: show(got) };
  });
  await check('json: get(key, "stream")', async () => {
    const got = await KV.get(cfgKey, "stream");
    const text = await new Response(got).text();
    return { ok: text === JSON.stringify(cfg), detail: text };
  });

  // --- binary and empty values --------------------------------------------------------------
  await check("binary: ArrayBuffer with every byte value round-trips", async () => {
    const bytes = new Uint8Array(256).map((_, i) => i);
    await put(`${p}bin`, bytes.buffer);
    const got = new Uint8Array(await KV.get(`${p}bin`, "arrayBuffer"));
    return { ok: got.length === 256 && got.every((b, i) => b === i), detail: `len=${got.length}` };
  });
  await check("empty value is legal and reads back as \"\"", async () => {
    await put(`${p}empty`, "");
    const got = await KV.get(`${p}empty`);
    return { ok: got === "", detail: show(got) };
  });

  await check("value: 25 MiB + 1 byte is refused with the KV message", () =>
    expectThrow(() => KV.put(`${p}too-big`, new Uint8Array(26214401)),
      /^KV PUT failed: 413 Value length of 26214401 exceeds limit of 26214400\.$/));

  // --- metadata -----------------------------------------------------------------------------
  const meta = { owner: "ada", version: 3, tags: ["a", "b"], nested: { x: null } };
  const metaKey = `${p}doc:readme`;
  await check("metadata: put with {metadata} then getWithMetadata", async () => {
    await put(metaKey, "# hello", { metadata: meta });
    const r = await KV.getWithMetadata(metaKey);
    return { ok: r.value === "# hello" && same(r.metadata, meta), detail: show(r) };
  });
  await check('metadata: getWithMetadata(key, "json") on a JSON value', async () => {
    await put(`${p}doc:json`, JSON.stringify([1, 2]), { metadata: "plain string metadata" });
    const r = await KV.getWithMetadata(`${p}doc:json`, "json");
    return { ok: same(r.value, [1, 2]) && r.metadata === "plain string metadata", detail: show(r) };
  });
  await check("metadata: null for a key without metadata", async () => {
    const r = await KV.getWithMetadata(cfgKey);
    return { ok: r.value === JSON.stringify(cfg) && r.metadata === null, detail: show(r) };
  });
  await check("metadata: missing key gives {value: null, metadata: null}", async () => {
    const r = await KV.getWithMetadata(`${p}doc:missing`);
    return { ok: r.value === null && r.metadata === null, detail: show(r) };
  });
  await check("metadata: cacheStatus is null or a string", async () => {
    const r = await KV.getWithMetadata(metaKey);
    return { ok: r.cacheStatus === null || typeof r.cacheStatus === "string", detail: show(r.cacheStatus) };
  });
  await check("metadata: non-ASCII metadata round-trips (get and list)", async () => {
    const m = { title: "Größe ✓ 東京", emoji: "🙂" };
    await put(`${p}doc:utf8`, "u", { metadata: m });
    const r = await KV.getWithMetadata(`${p}doc:utf8`);
    const l = await KV.list({ prefix: `${p}doc:utf8` });
    const ok = r.value === "u" && same(r.metadata, m) && l.keys.length === 1 && same(l.keys[0].metadata, m);
    return { ok, detail: `get=${show(r.metadata)} list=${show(l.keys)}` };
  });
  await check("metadata: over 1024 bytes is refused with the KV message", () =>
    expectThrow(() => KV.put(`${p}doc:big`, "x", { metadata: { pad: "x".repeat(1100) } }),
      /^KV PUT failed: 413 Metadata length of \d+ exceeds limit of 1024\.$/));

  // --- list with prefix and cursor paging ---------------------------------------------------
  const lp = `${p}list/`;
  const names = ["k1", "k2", "k3", "k4", "k5"].map((k) => lp + k);
  await check("list: 5 keys, limit 2, paged with the cursor", async () => {
    for (const [i, n] of names.entries())
      await put(n, `v${i + 1}`, i % 2 === 0 ? { metadata: { i: i + 1 } } : undefined);
    await put(`${p}listx`, "outside the prefix");
    const pages = [];
    let cursor;
    for (let guard = 0; guard < 10; guard++) {
      const r = await KV.list({ prefix: lp, limit: 2, cursor });
      pages.push(r);
      if (r.list_complete) break;
      cursor = r.cursor;
    }
    const sizes = pages.map((r) => r.keys.length);
    const got = pages.flatMap((r) => r.keys.map((k) => k.name));
    const flags = pages.map((r) => r.list_complete);
    const cursorsOk = pages.every((r) => r.list_complete ? !r.cursor : typeof r.cursor === "string" && r.cursor.length > 0);
    const ok = same(sizes, [2, 2, 1]) && same(got, names) && same(flags, [false, false, true]) && cursorsOk;
    return { ok, detail: `sizes=${show(sizes)} names=${show(got)} complete=${show(flags)} cursors=${show(pages.map((r) => r.cursor))}` };
  });
  await check("list: metadata arrives parsed, absent when not set", async () => {
    const r = await KV.list({ prefix: lp });
    const m = r.keys.map((k) => ("metadata" in k ? k.metadata : "absent"));
    const ok = r.list_complete === true &&
      same(m, [{ i: 1 }, "absent", { i: 3 }, "absent", { i: 5 }]);
    return { ok, detail: show(r.keys) };
  });
  await check("list: prefix matching nothing is empty and complete", async () => {
    const r = await KV.list({ prefix: `${p}nothing-here/` });
    return { ok: r.keys.length === 0 && r.list_complete === true, detail: show(r) };
  });
  await check("list: limit 1001 is refused", () =>
    expectThrow(() => KV.list({ prefix: lp, limit: 1001 }), /^KV GET failed: 400 Invalid key_count_limit of 1001\./));

  // --- bulk get -----------------------------------------------------------------------------
  // env.KV.get([keys]) (bulk get, a Map) is in workerd since 2025; this build has it.
  await check("bulk: get([k1, k2, missing]) returns a Map", async () => {
    const keys = [names[0], names[1], `${lp}missing`];
    const m = await KV.get(keys);
    const ok = m instanceof Map && m.size === 3 && m.get(names[0]) === "v1" &&
      m.get(names[1]) === "v2" && m.get(`${lp}missing`) === null;
    return { ok, detail: show(m) };
  });
  await check('bulk: get([keys], "json")', async () => {
    const m = await KV.get([cfgKey, `${p}doc:json`], "json");
    const ok = m instanceof Map && same(m.get(cfgKey), cfg) && same(m.get(`${p}doc:json`), [1, 2]);
    return { ok, detail: show(m) };
  });
  await check("bulk: getWithMetadata([keys]) gives {value, metadata}", async () => {
    const m = await KV.getWithMetadata([names[0], names[1], `${lp}missing`]);
    const ok = m instanceof Map &&
      same(m.get(names[0]), { value: "v1", metadata: { i: 1 } }) &&
      same(m.get(names[1]), { value: "v2", metadata: null }) &&
      m.get(`${lp}missing`) === null;
    return { ok, detail: show(m) };
  });
  await check("bulk: cacheTtl option (sent as a string) is accepted", async () => {
    const m = await KV.get([names[0], names[2]], { type: "text", cacheTtl: 60 });
    const ok = m instanceof Map && m.get(names[0]) === "v1" && m.get(names[2]) === "v3";
    return { ok, detail: show(m) };
  });
  await check('bulk: type "arrayBuffer" is refused with the KV message', () =>
    expectThrow(() => KV.get([names[0]], "arrayBuffer"),
      /^KV GET_BULK failed: 400 "arrayBuffer" is not a valid type\. Use "json" or "text"$/));
  await check("bulk: json on a non-JSON value is refused", () =>
    expectThrow(() => KV.get([names[0]], "json"),
      /^KV GET_BULK failed: 400 At least one of the requested keys corresponds to a non-json value$/));
  await check("bulk: more than 100 keys is refused", () =>
    expectThrow(() => KV.get(Array.from({ length: 101 }, (_, i) => `${p}many${i}`)),
      /^KV GET_BULK failed: 400 You can request a maximum of 100 keys$/));

  // --- write rate ---------------------------------------------------------------------------
  await check("rate limit: a second write to a key within 1 s is refused", async () => {
    await put(`${p}rate`, "first");
    const r = await expectThrow(() => KV.put(`${p}rate`, "second"), /^KV PUT failed: 429 Too Many Requests$/);
    const got = await KV.get(`${p}rate`);
    return { ok: r.ok && got === "first", detail: `${r.detail}; value=${show(got)}` };
  });

  // --- delete -------------------------------------------------------------------------------
  await check("delete: existing key, then get is null", async () => {
    await settle(names[4]);
    await KV.delete(names[4]);
    const got = await KV.get(names[4]);
    const r = await KV.list({ prefix: lp });
    return { ok: got === null && r.keys.length === 4, detail: `get=${show(got)} listed=${r.keys.length}` };
  });
  await check("delete: a missing key succeeds", async () => {
    await KV.delete(`${p}never-written`);
    return { ok: true };
  });

  // --- feature flags with fallbacks ---------------------------------------------------------
  const DEFAULTS = { "new-checkout": "off", "dark-mode": "on", "rollout-pct": "0" };
  const flag = async (name) => (await KV.get(`${p}flags/${name}`)) ?? DEFAULTS[name];
  await check("flags: missing flag returns null, default used", async () => {
    const raw = await KV.get(`${p}flags/new-checkout`);
    const v = await flag("new-checkout");
    return { ok: raw === null && v === "off", detail: `raw=${show(raw)} used=${show(v)}` };
  });
  await check("flags: set flag overrides the default", async () => {
    await put(`${p}flags/dark-mode`, "off");
    await put(`${p}flags/rollout-pct`, "25");
    const vals = [await flag("dark-mode"), await flag("rollout-pct"), await flag("new-checkout")];
    return { ok: same(vals, ["off", "25", "off"]), detail: show(vals) };
  });
  await check("flags: bulk read with fallbacks", async () => {
    const names = Object.keys(DEFAULTS);
    const m = await KV.get(names.map((n) => `${p}flags/${n}`));
    const vals = names.map((n) => m.get(`${p}flags/${n}`) ?? DEFAULTS[n]);
    return { ok: same(vals, ["off", "off", "25"]), detail: show(vals) };
  });

  // --- key encoding -------------------------------------------------------------------------
  // workerd percent-encodes keys in the URL path; the PoP must decode them exactly.
  const odd = `${p}odd key/with?query#hash&amp=1+plus%25 ünï ✓`;
  await check("keys: special characters round-trip (put, get, list, delete)", async () => {
    await put(odd, "odd");
    const got = await KV.get(odd);
    const r = await KV.list({ prefix: odd }); // the prefix carries ?#&=+% and spaces too
    const bulk = await KV.get([odd]); // bulk get sends the key raw, inside JSON
    await settle(odd);
    await KV.delete(odd);
    const after = await KV.get(odd);
    const ok = got === "odd" && r.keys.length === 1 && r.keys[0].name === odd &&
      bulk.get(odd) === "odd" && after === null;
    return { ok, detail: `get=${show(got)} listed=${show(r.keys)} bulk=${show(bulk)} after=${show(after)}` };
  });
  await check("keys: a 512-byte key works, 513 bytes is refused", async () => {
    const k512 = p + "x".repeat(512 - p.length);
    await put(k512, "long");
    const got = await KV.get(k512);
    const r = await expectThrow(() => KV.put(k512 + "y", "x"), /414/);
    return { ok: got === "long" && r.ok, detail: `get=${show(got)} 513: ${r.detail}` };
  });
  await check("keys: cacheTtl below 30 is refused with the KV message", () =>
    expectThrow(() => KV.get(cfgKey, { cacheTtl: 10 }),
      /^KV GET failed: 400 Invalid cache_ttl of 10\. Cache TTL must be at least 30\.$/));

  // --- a second namespace on the same PoP -------------------------------------------------
  // KV2 is bound to the same PoP address with the header X-Edgekv-Namespace injected by workerd
  // (injectRequestHeaders), so one PoP port serves two namespaces.
  if (KV2) {
    await check("namespaces: KV and KV2 on one PoP are isolated", async () => {
      const k = `${p}ns/shared-name`;
      await put(k, "in KV");
      const before = await KV2.get(k);
      await KV2.put(k, "in KV2", { metadata: { ns: 2 } });
      const a = await KV.getWithMetadata(k);
      const b = await KV2.getWithMetadata(k);
      const l1 = await KV.list({ prefix: `${p}ns/` });
      const l2 = await KV2.list({ prefix: `${p}ns/` });
      const ok = before === null && a.value === "in KV" && a.metadata === null &&
        b.value === "in KV2" && same(b.metadata, { ns: 2 }) &&
        l1.keys.length === 1 && l2.keys.length === 1 && same(l2.keys[0].metadata, { ns: 2 });
      return { ok, detail: `before=${show(before)} KV=${show(a)} KV2=${show(b)} lists=${show([l1.keys, l2.keys])}` };
    });
  } else {
    checks.push({ name: "namespaces: skipped (no KV2 binding)", ok: true, detail: "skipped" });
  }

  return { ok: checks.every((c) => c.ok), run, checks };
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const key = url.searchParams.get("key");
    try {
      if (url.pathname === "/selftest" && request.method === "GET") {
        const run = url.searchParams.get("run") || `${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
        return json(await selftest(env.KV, env.KV2, run));
      }
      if (url.pathname === "/read" && request.method === "GET" && key) {
        const ttl = url.searchParams.get("cacheTtl");
        const r = await env.KV.getWithMetadata(key, ttl ? { cacheTtl: Number(ttl) } : undefined);
        return new Response(r.value === null ? "null" : r.value, {
          headers: { "x-kv-cache-status": String(r.cacheStatus) },
        });
      }
      if (url.pathname === "/write" && request.method === "PUT" && key) {
        await env.KV.put(key, await request.text());
        return new Response("ok");
      }
      if (url.pathname === "/delete" && request.method === "DELETE" && key) {
        await env.KV.delete(key);
        return new Response("ok");
      }
      return new Response("not found", { status: 404 });
    } catch (e) {
      return new Response(String(e && e.message), { status: 500 });
    }
  },
};
