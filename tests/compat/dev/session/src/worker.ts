// Sessions: POST /login?user=U stores a session for an hour and answers its token; GET
// /me?token=T answers the session's user. Types as a Worker's own would declare them.
interface Env {
    SESSIONS: KVNamespaceLike;
}
interface KVNamespaceLike {
    get(key: string, type: "json"): Promise<unknown>;
    put(key: string, value: string, opts?: { expirationTtl?: number }): Promise<void>;
}
interface Session {
    user: string;
    created: number;
}

export default {
    async fetch(request: Request, env: Env): Promise<Response> {
        const url = new URL(request.url);
        if (request.method === "POST" && url.pathname === "/login") {
            const token: string = crypto.randomUUID();
            const session: Session = { user: url.searchParams.get("user") ?? "anonymous", created: Date.now() };
            await env.SESSIONS.put(`session:${token}`, JSON.stringify(session), { expirationTtl: 3600 });
            return new Response(`${token}\n`);
        }
        const session = (await env.SESSIONS.get(`session:${url.searchParams.get("token")}`, "json")) as Session | null;
        return session ? new Response(`user ${session.user}\n`) : new Response("no session\n", { status: 401 });
    },
};
