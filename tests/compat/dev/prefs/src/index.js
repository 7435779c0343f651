// User preferences: GET /prefs?user=ID answers the user's theme, PUT /prefs?user=ID stores the
// JSON body; GET /where tells which edge location answered (request.cf).
import { describe } from "./describe.js";

export default {
    async fetch(request, env) {
        const url = new URL(request.url);
        if (url.pathname === "/where") {
            const { colo, city, country, latitude, longitude } = request.cf ?? {};
            return Response.json({ colo, city, country, latitude, longitude });
        }
        const user = url.searchParams.get("user");
        if (url.pathname !== "/prefs" || !user) {
            return new Response("usage: /prefs?user=ID or /where\n", { status: 400 });
        }
        const key = `prefs:${user}`;
        if (request.method === "PUT") {
            const prefs = await request.json();
            await env.PREFS.put(key, JSON.stringify(prefs));
            return new Response("saved\n");
        }
        // A minute at the edge is fine for preferences: the guides' trade of freshness for speed.
        const prefs = await env.PREFS.get(key, { type: "json", cacheTtl: 60 });
        return new Response(`${describe(prefs, env.DEFAULT_THEME)}\n`);
    },
};
