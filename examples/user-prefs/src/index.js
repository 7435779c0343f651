// User preferences in KV: one JSON value per user, read on every page with a cacheTtl, written
// when the user saves the settings form.
//
//   PUT /prefs?user=ID  body {"theme": "..."}  stores them and sets the cookie `prefs`
//   GET /prefs?user=ID                         the preferences in effect, and where they came from
//
// KV alone gives the user who saved a new theme the old one at any location that cached the
// key in the last cacheTtl seconds. So the save also goes back to the browser in a cookie, with
// the time it was made; a read serves whichever of the KV value and the cookie is newer.
// Other users and devices (no cookie) see the change when their location's copy runs out.

const CACHE_TTL = 60; // seconds: preferences may lag a minute at other locations

export default {
    async fetch(request, env) {
        const url = new URL(request.url);
        const user = url.searchParams.get("user");
        if (url.pathname !== "/prefs" || !user) {
            return new Response("usage: GET or PUT /prefs?user=ID\n", { status: 400 });
        }
        const key = `prefs:${user}`;
        const colo = request.cf?.colo ?? "local";
        if (request.method === "PUT") {
            let body;
            try {
                body = await request.json();
            } catch {
                return new Response("the body must be JSON\n", { status: 400 });
            }
            const prefs = { theme: String(body.theme ?? env.DEFAULT_THEME), saved: Date.now() };
            await env.PREFS.put(key, JSON.stringify(prefs));
            return new Response(`saved theme ${prefs.theme} at ${colo}\n`, {
                headers: { "Set-Cookie": cookieFor(user, prefs) },
            });
        }
        const stored = await env.PREFS.get(key, { type: "json", cacheTtl: CACHE_TTL });
        const mine = fromCookie(request.headers.get("Cookie"), user);
        // The newer save wins: the cookie only while KV here has not caught up with it.
        const [prefs, from] =
            mine && (!stored || mine.saved > stored.saved) ? [mine, "cookie"] : [stored, "kv"];
        const theme = prefs?.theme ?? env.DEFAULT_THEME;
        return new Response(`theme ${theme} (${prefs ? from : "default"}) at ${colo}\n`);
    },
};

// The cookie holds the user's last save: {user, theme, saved} as base64url JSON, for a day.
function cookieFor(user, prefs) {
    const json = JSON.stringify({ user, ...prefs });
    const value = btoa(json).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
    return `prefs=${value}; Path=/; Max-Age=86400; HttpOnly; SameSite=Lax`;
}

function fromCookie(header, user) {
    const m = /(?:^|;\s*)prefs=([A-Za-z0-9_-]+)/.exec(header ?? "");
    if (!m) return null;
    try {
        const c = JSON.parse(atob(m[1].replaceAll("-", "+").replaceAll("_", "/")));
        // Another user's cookie (a shared browser) is not this user's preferences.
        return c.user === user && typeof c.saved === "number" ? c : null;
    } catch {
        return null;
    }
}
