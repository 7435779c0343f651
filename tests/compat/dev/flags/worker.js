// Feature flags in service-worker syntax: the binding is the global FLAGS. GET /flag?name=N
// answers on or off; POST /flag?name=N&on=1 sets it.
addEventListener("fetch", (event) => {
    event.respondWith(handle(event.request));
});

async function handle(request) {
    const url = new URL(request.url);
    const name = url.searchParams.get("name");
    if (!name) return new Response("name is required\n", { status: 400 });
    if (request.method === "POST") {
        await FLAGS.put(`flag:${name}`, url.searchParams.get("on") === "1" ? "on" : "off");
        return new Response("set\n");
    }
    const value = await FLAGS.get(`flag:${name}`);
    return new Response(`${name} ${value ?? "off"} at ${request.cf?.colo}\n`);
}
