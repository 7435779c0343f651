// A fixed-window rate limiter with its counter in KV, as it is often first written: read the
// client's count for this window, refuse past LIMIT, else write count + 1.
//
//   GET /api?client=ID   200 "allowed N/LIMIT" (N: the count this request wrote), or 429
//
// It does not work, and this example is here to show why (README.md): a location reads its own
// cached count, so requests at two locations overwrite each other's increments and each lets
// LIMIT through; and the binding takes one write per second to a key, so a burst from one client
// fails its writes with 429 and goes uncounted. Counters belong in a Durable Object (one place
// that serialises the increments), which edgekv does not have.

export default {
    async fetch(request, env) {
        const url = new URL(request.url);
        const client = url.searchParams.get("client");
        if (url.pathname !== "/api" || !client) {
            return new Response("usage: GET /api?client=ID\n", { status: 400 });
        }
        const colo = request.cf?.colo ?? "local";
        const limit = Number(env.LIMIT);
        const windowMs = Number(env.WINDOW_SECONDS) * 1000;
        const window = Math.floor(Date.now() / windowMs);
        const key = `rl:${client}:${window}`;
        const count = Number((await env.COUNTERS.get(key)) ?? 0);
        if (count >= limit) {
            return new Response(`limited ${count}/${limit} at ${colo}\n`, { status: 429 });
        }
        try {
            // The window's key outlives the window a little, then KV drops it.
            await env.COUNTERS.put(key, String(count + 1), { expirationTtl: 2 * windowMs / 1000 });
        } catch (e) {
            // The binding's 429 for a second write to the key within a second: this request goes
            // uncounted. Failing it instead would refuse clients for the limiter's own limit.
            return new Response(`allowed uncounted (${e.message}) at ${colo}\n`);
        }
        return new Response(`allowed ${count + 1}/${limit} at ${colo}\n`);
    },
};
