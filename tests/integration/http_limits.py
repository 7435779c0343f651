"""http_limits_test.sh's client: slow, idle, surplus and oversized clients against one daemon.

Usage: http_limits.py URL KIND CAP REQUEST_TIMEOUT_MS IDLE_TIMEOUT_MS
KIND is coordinator or pop (which health path to ask). Raw sockets only (Python 3 standard
library). Prints "ok: KIND: ..." per check; the first failed check prints "FAIL: KIND: ..." and
exits 1. The checks are listed in http_limits_test.sh's header."""
import re, socket, sys, threading, time

URL, KIND = sys.argv[1], sys.argv[2]
CAP, REQ_S, IDLE_S = int(sys.argv[3]), int(sys.argv[4]) / 1000, int(sys.argv[5]) / 1000
HOST, PORT = URL[len("http://"):].rsplit(":", 1)
PORT = int(PORT)
HEALTH = "/health" if KIND == "coordinator" else "/_edgekv/health"
LATE = 1.0  # how late a deadline may be enforced on a busy machine


def fail(msg):
    print("FAIL: %s: %s" % (KIND, msg))
    sys.stdout.flush()
    sys.exit(1)


def ok(msg):
    print("ok: %s: %s" % (KIND, msg))
    sys.stdout.flush()


def connect():
    s = socket.create_connection((HOST, PORT), timeout=5)
    s.settimeout(5)
    return s


def read_reply(s):
    """Reads one reply; returns (status, headers, body) or None at EOF before a status."""
    data = b""
    while b"\r\n\r\n" not in data:
        try:
            d = s.recv(65536)
        except ConnectionResetError:
            d = b""
        if not d:
            return None if not data else (0, {}, data)
        data += d
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    hdr = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        hdr[k.strip().lower()] = v.strip()
    n = int(hdr.get("content-length", "0"))
    while len(body) < n:
        d = s.recv(65536)
        if not d:
            break
        body += d
    return status, hdr, body


def request(s, path=HEALTH, method="GET", headers="", body=b""):
    s.sendall(("%s %s HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n%s\r\n"
               % (method, path, len(body), headers)).encode() + body)
    return read_reply(s)


def eof_after(s, limit):
    """Seconds until the peer closes s (EOF or reset), or None if not within limit."""
    t0 = time.monotonic()
    s.settimeout(limit)
    try:
        while s.recv(65536):
            pass
    except ConnectionResetError:
        pass
    except socket.timeout:
        return None
    return time.monotonic() - t0


def get_ok(s=None):
    c = s or connect()
    r = request(c)
    if not s:
        c.close()
    return r is not None and r[0] == 200


def metrics(s=None, within=2.0):
    """Reads /metrics on s, or on a new connection: refused (503) while the server has yet
    to see connections just closed, then retried."""
    t_end = time.monotonic() + within
    while True:
        c = s or connect()
        r = request(c, "/metrics")
        if not s:
            c.close()
        if s or (r and r[0] != 503) or time.monotonic() > t_end:
            break
        time.sleep(0.05)
    if not r or r[0] != 200:
        fail("/metrics: %r" % (r,))
    out = {}
    for line in r[2].decode().splitlines():
        m = re.match(r'^(edgekv_http_\w+)(?:\{([^}]*)\})? (\d+)$', line)
        if m:
            phase = re.search(r'phase="(\w+)"', m.group(2) or "")
            out[m.group(1) + (":" + phase.group(1) if phase else "")] = int(m.group(3))
    return out


def settle(want=1, within=3.0):
    """Polls until /metrics counts `want` open connections (the asking one included)."""
    t_end = time.monotonic() + within
    while True:
        m = metrics()
        if m.get("edgekv_http_connections") == want or time.monotonic() > t_end:
            return m
        time.sleep(0.05)


# ---- a byte-a-second client, while others are served ------------------------------------
def served_meanwhile(stop, errors, count):
    keep = connect()
    fresh = False
    while not stop.is_set():
        t0 = time.monotonic()
        try:
            good = get_ok(None if fresh else keep)
        except OSError as e:
            good = False
            errors.append("error %s" % e)
        took = time.monotonic() - t0
        if not good or took > 1.5:
            errors.append("%s connection: %s in %.3f s" % (
                "fresh" if fresh else "kept-alive", "ok" if good else "failed", took))
        count[0] += 1
        fresh = not fresh
        time.sleep(0.1)
    keep.close()


stop, errors, count = threading.Event(), [], [0]
helper = threading.Thread(target=served_meanwhile, args=(stop, errors, count))
helper.start()
slow = connect()
req = ("GET %s HTTP/1.1\r\nHost: t\r\nX-Slow: %s\r\n\r\n" % (HEALTH, "s" * 20)).encode()
t0 = time.monotonic()
got, ended, sent = b"", None, 0
slow.setblocking(False)
while time.monotonic() - t0 < REQ_S + LATE + 2:
    if sent < len(req) and time.monotonic() - t0 >= sent:  # one byte a second
        try:
            slow.send(req[sent:sent + 1])
            sent += 1
        except (BlockingIOError, BrokenPipeError, ConnectionResetError):
            pass
    try:
        d = slow.recv(65536)
        if not d:
            ended = time.monotonic() - t0
            break
        got += d
    except BlockingIOError:
        time.sleep(0.01)
    except ConnectionResetError:
        ended = time.monotonic() - t0
        break
slow.close()
stop.set()
helper.join()
if ended is None:
    fail("a byte-a-second client was still connected after %.1f s (%d bytes sent)"
         % (REQ_S + LATE + 2, sent))
if not (REQ_S - 0.25 <= ended <= REQ_S + LATE):
    fail("a byte-a-second client was disconnected after %.2f s, deadline %.1f s" % (ended, REQ_S))
if not got.startswith(b"HTTP/1.1 408 "):
    fail("the slow client got %r" % got[:80])
if errors or count[0] < 5:
    fail("other clients during the slow one (%d requests): %s" % (count[0], errors[:3]))
ok("a byte-a-second client got 408 and was disconnected after %.2f s (deadline %.1f s) "
   "while %d other requests were served" % (ended, REQ_S, count[0]))

# ---- an idle connection ---------------------------------------------------------------------
idle = connect()
t = eof_after(idle, IDLE_S + LATE + 1)
idle.close()
if t is None or not (IDLE_S - 0.25 <= t <= IDLE_S + LATE):
    fail("a connection sending nothing was closed after %s s, idle timeout %.1f s" % (t, IDLE_S))
ok("a connection sending nothing was closed after %.2f s (idle timeout %.1f s)" % (t, IDLE_S))

m = settle()
if m.get("edgekv_http_connections") != 1:
    fail("open connections after the slow and idle clients: %r" % m)

# ---- the connection cap -----------------------------------------------------------------------
def open_served(within=2.0):
    """A new kept-alive connection that was served (the close of the connection that asked
    /metrics last may not have reached the server yet: then this one is refused)."""
    t_end = time.monotonic() + within
    while True:
        s = connect()
        r = request(s)
        if r and r[0] == 200:
            return s
        s.close()
        if time.monotonic() > t_end:
            fail("no new connection was served within %.1f s: %r" % (within, r and r[:2]))
        time.sleep(0.05)


held = [open_served() for _ in range(CAP)]
extra = []
for _ in range(3):
    s = connect()
    s.sendall(("GET %s HTTP/1.1\r\nHost: t\r\n\r\n" % HEALTH).encode())
    r = read_reply(s)
    if not r or r[0] != 503 or b"at most %d" % CAP not in r[2]:
        fail("connection %d over the cap got %r" % (CAP + len(extra) + 1, r))
    if eof_after(s, 2.0) is None:
        fail("a refused connection was not closed")
    extra.append(s)
for s in extra:
    s.close()
ok("3 connections over the cap of %d got 503 naming the cap and were closed" % CAP)
for s in held:
    r = request(s)
    if not r or r[0] != 200:
        fail("a connection under the cap was not served after the refusals: %r" % (r,))
m = metrics(held[0])
if (m.get("edgekv_http_connections") != CAP or m.get("edgekv_http_connections_peak") != CAP
        or m.get("edgekv_http_connections_refused_total", 0) < 3):
    fail("/metrics at the cap: %r" % m)
ok("the %d connections under the cap kept being served; /metrics: %d open, peak %d, "
   "%d refused" % (CAP, CAP, CAP, m["edgekv_http_connections_refused_total"]))
for s in held[:2]:
    s.close()
open_served().close()
for s in held[2:]:
    s.close()
ok("once 2 connections closed, new connections were served")

# ---- oversized headers ------------------------------------------------------------------------
s = connect()
r = request(s, headers="X-Big: %s\r\n" % ("b" * 20000))
if not r or r[0] != 431:
    fail("a 20 kB header got %r" % (r and r[:2],))
if eof_after(s, 2.0) is None:
    fail("the connection was not closed after 431")
s.close()
ok("a 20 kB header got 431 and the connection was closed")
if KIND == "pop":
    s = connect()
    meta = '{"m":"%s"}' % ("x" * 1992)
    r = request(s, "/big-meta?urlencoded=true", "PUT", "CF-KV-Metadata: %s\r\n" % meta, b"v")
    s.close()
    if not r or r[0] != 413 or b"Metadata length of 2000 exceeds limit of 1024." not in r[2]:
        fail("a 2000-byte metadata header got %r" % (r and (r[0], r[2][:80]),))
    ok("a 2000-byte metadata header got the KV-SPEC 413")

# ---- a client sending while it does not read its reply -------------------------------------
if KIND == "coordinator":
    path = "/client/v4/accounts/a/storage/kv/namespaces/00000000000000000000000000000000/values/big"
else:
    path = "/big?urlencoded=true"
s = connect()
s.settimeout(60)  # a synced 8 MiB write on a busy disk
r = request(s, path, "PUT", "", b"v" * (8 << 20))
s.close()
if not r or r[0] != 200:
    fail("PUT of an 8 MiB value: %r" % (r and r[:2],))
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect((HOST, PORT))
s.sendall(("GET %s HTTP/1.1\r\nHost: t\r\n\r\n" % path).encode())
time.sleep(0.3)
s.settimeout(0.2)
sent, last, t0 = 0, time.monotonic(), time.monotonic()
while sent < (64 << 20) and time.monotonic() - last < 1.0 and time.monotonic() - t0 < 10:
    try:
        sent += s.send(b"j" * 65536)
        last = time.monotonic()
    except socket.timeout:
        pass
s.close()
if sent >= (16 << 20):
    fail("the server took %d MiB from a client not reading its reply" % (sent >> 20))
ok("a client not reading its 8 MiB reply could push only %.1f MiB more (kernel buffers)"
   % (sent / (1 << 20)))

# ---- no drift ---------------------------------------------------------------------------------
for _ in range(20):  # closed before sending anything
    connect().close()
for _ in range(5):  # closed halfway through a request
    s = connect()
    s.sendall(b"GET /health HTTP/1.1\r\nHost:")
    s.close()
for _ in range(5):  # closed right after a reply
    s = connect()
    request(s)
    s.close()
m = settle()
if m.get("edgekv_http_connections") != 1:
    fail("open connections after all closed: %d (the asking one only expected)"
         % m.get("edgekv_http_connections", -1))
if m.get("edgekv_http_timeouts_total:request", 0) < 1 or m.get("edgekv_http_timeouts_total:idle", 0) < 1:
    fail("timeouts not counted: %r" % m)
if m.get("edgekv_http_headers_too_large_total", 0) < 1:
    fail("the oversized head was not counted: %r" % m)
ok("after every kind of close /metrics counts only the asking connection; timeouts "
   "(request %d, idle %d) and oversized heads (%d) counted"
   % (m["edgekv_http_timeouts_total:request"], m["edgekv_http_timeouts_total:idle"],
      m["edgekv_http_headers_too_large_total"]))
if not get_ok():
    fail("not serving at the end")
