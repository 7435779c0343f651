// Feature flags: every flag in one JSON value (one KV read per request, one cached copy per
// location), changed by an admin endpoint.
//
//   GET /flags                         the flags in effect at this location
//   PUT /flags  body {"name": bool...} replaces them
//   GET /checkout                      a page that uses one: the new or the old checkout
//
// A change reaches the location that made it at once and the others when their copy runs out:
// up to FLAGS_CACHE_TTL there, plus what the regional tier they read through has left of its
// own copy. Flags therefore suit switches that are safe either way for a minute or two (a
// rollout, a UI variant). A switch that must act now does not live in KV: KILL_SWITCH is a
// var, so it changes with the Worker's deployment, at every location together.

export default {
    async fetch(request, env) {
        const url = new URL(request.url);
        const colo = request.cf?.colo ?? "local";
        if (url.pathname === "/flags" && request.method === "PUT") {
            let flags;
            try {
                flags = await request.json();
            } catch {
                return new Response("the body must be a JSON object\n", { status: 400 });
            }
            await env.FLAGS.put("flags", JSON.stringify(flags));
            return new Response(`flags set at ${colo}\n`);
        }
        const flags = await readFlags(env);
        if (url.pathname === "/flags") return Response.json({ colo, ...flags });
        if (url.pathname === "/checkout") {
            const which = flags.newCheckout ? "new checkout" : "old checkout";
            const why = flags.killed ? " (kill switch)" : "";
            return new Response(`${which}${why} at ${colo}\n`);
        }
        return new Response("usage: GET|PUT /flags, GET /checkout\n", { status: 404 });
    },
};

async function readFlags(env) {
    if (env.KILL_SWITCH === "on") return { killed: true };
    const cacheTtl = Math.max(30, Number(env.FLAGS_CACHE_TTL) || 60);
    return (await env.FLAGS.get("flags", { type: "json", cacheTtl })) ?? {};
}
