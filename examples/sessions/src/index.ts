// Sessions in KV, keyed by a random token made at each login.
//
//   POST /login?user=U   a new session; answers its token (a browser would get it in a cookie)
//   GET /me?token=T      the session's user, where it was made and where it is served
//   POST /logout?token=T deletes the session
//
// A key that no location has read is fetched from the origin by the first read anywhere, so a
// session made at one location works at once at every other. That holds only while the key is
// new: a session is never rewritten in place (a change is a new login, a new token). A key
// that is read and then changed or deleted is what KV serves stale, for up to cacheTtl at each
// location that read it: a logout ends the session at once where it was made, and only after
// that at the others. Its expirationTtl bounds the session everywhere (expiration always wins).

interface Env {
    SESSIONS: KVNamespace;
    SESSION_SECONDS: string;
}

interface Session {
    user: string;
    colo: string; // where the user logged in
    created: number; // ms since the epoch
}

export default {
    async fetch(request: Request, env: Env): Promise<Response> {
        const url = new URL(request.url);
        const colo = String(request.cf?.colo ?? "local");
        if (request.method === "POST" && url.pathname === "/login") {
            const user = url.searchParams.get("user");
            if (!user) return new Response("user is required\n", { status: 400 });
            const token = crypto.randomUUID();
            const session: Session = { user, colo, created: Date.now() };
            await env.SESSIONS.put(`session:${token}`, JSON.stringify(session), {
                expirationTtl: Number(env.SESSION_SECONDS),
            });
            return new Response(`${token}\n`);
        }
        const token = url.searchParams.get("token");
        if (!token) return new Response("token is required\n", { status: 400 });
        const key = `session:${token}`;
        if (request.method === "POST" && url.pathname === "/logout") {
            try {
                await env.SESSIONS.delete(key);
            } catch (e) {
                // The binding's one write a second to a key: a logout right after the login.
                const why = e instanceof Error ? e.message : String(e);
                return new Response(`logout failed (${why}), try again\n`, { status: 503 });
            }
            return new Response(`logged out at ${colo}\n`);
        }
        if (url.pathname !== "/me") return new Response("not found\n", { status: 404 });
        // The default cacheTtl (60 s): how long a logout takes to reach a location that read it.
        const session = await env.SESSIONS.get<Session>(key, "json");
        if (!session) return new Response(`no session at ${colo}\n`, { status: 401 });
        return new Response(`user ${session.user} (logged in at ${session.colo}) at ${colo}\n`);
    },
};
