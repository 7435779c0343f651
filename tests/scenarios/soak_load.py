"""soak_test.sh's fault schedule, load generator and checker (Python 3 standard library only).

The keys: writer i of the REST API owns r<i>-<j>, writer i of PoP P owns p-<P>-<i>-<j>.
schedule: the fault timeline drawn from a seeded generator, one line per fault:
  "AT_S KIND TARGET HOLD_S ARG"; every kind appears at least once.
prime: writes every key once through the REST bulk API, waits until every PoP has applied
  it, and has every PoP read every key (bulk get), so that push caches hold the whole key
  set before the load: from then on the data every process holds keeps its size.
load: threads with keep-alive connections, paced, until `duration` passes:
  - REST writers: PUT through the coordinator's REST API to their own keys;
  - PoP writers: PUT through a PoP's binding surface (GET/PUT /<key>) to their own keys;
  - readers: GET at each PoP of keys drawn at random.
  Each writer goes round its own keys in order, so a key recurs only every `keys` attempts
  (tens of seconds): an attempt that failed at the client and still commits later (a PoP
  stopped with it in its socket, a write queued for a killed coordinator) cannot land after
  a later write of its key. Recorded per key: the last acknowledged value (200, and for REST
  success: true) and every value attempted after it.
check: reads every key back from the coordinator (bulk get, 100 at a time): its value must
  be the last acknowledged one, or one attempted after it (its reply was lost but it
  committed: the coordinator was killed after the commit, say)."""
import http.client
import json
import os
import random
import re
import sys
import threading
import time
import urllib.parse

NS = "00000000000000000000000000000000"
API = "/client/v4/accounts/soak/storage/kv/namespaces/" + NS


class Conn:
    def __init__(self, url, timeout):
        u = urllib.parse.urlsplit(url)
        self.host, self.port, self.timeout, self.c = u.hostname, u.port, timeout, None

    def request(self, method, path, body=None, headers=None):
        """(status, body) or raises."""
        if self.c is None:
            self.c = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            self.c.request(method, path, body=body, headers=headers or {})
            r = self.c.getresponse()
            data = r.read()
            if (r.getheader("Connection") or "").lower() == "close":
                self.close()
            return r.status, data
        except Exception:
            self.close()
            raise

    def close(self):
        if self.c is not None:
            try:
                self.c.close()
            except Exception:
                pass
            self.c = None


def writers(a):
    """[(kind, tag, url, rate)] for every writer thread."""
    out = [("rest", "r%d" % i, a["coord"], a["rest_rate"] / a["rest_threads"])
           for i in range(a["rest_threads"])]
    for name, url in sorted(a["pops"].items()):
        out += [("pop", "p-%s-%d" % (name, i), url,
                 a["pop_rate"] / a["pop_threads"] / len(a["pops"]))
                for i in range(a["pop_threads"])]
    return out


def keys_of(a, kind, tag):
    return ["%s-%04d" % (tag, j) for j in range(a["rest_keys" if kind == "rest" else "pop_keys"])]


def all_keys(a):
    return [k for kind, tag, _, _ in writers(a) for k in keys_of(a, kind, tag)]


def value(tag, n, rng):
    return "%s-%07d-%08x" % (tag, n, rng.getrandbits(32))  # one length per key


class Pacer:
    """Paced at `rate` per second; after a stall it resumes at the rate, without a burst."""

    def __init__(self, rate, end):
        self.gap, self.next, self.end = 1.0 / rate, time.monotonic(), end

    def wait(self):
        now = time.monotonic()
        if self.next < now - 1.0:
            self.next = now
        if self.next > now:
            time.sleep(self.next - now)
        self.next += self.gap
        return time.monotonic() < self.end


class Stats:
    def __init__(self):
        self.lock, self.c = threading.Lock(), {}

    def add(self, name):
        with self.lock:
            self.c[name] = self.c.get(name, 0) + 1


def writer(kind, tag, url, rate, keys, timeout, end, rng, st, records):
    conn, pacer, mine, n = Conn(url, timeout), Pacer(rate, end), {}, 0
    path = (lambda k: API + "/values/" + k) if kind == "rest" else (
        lambda k: "/" + k + "?urlencoded=true")
    while pacer.wait():
        key = keys[n % len(keys)]
        n += 1
        v = value(tag, n, rng)
        rec = mine.setdefault(key, {"acked": None, "after": []})
        attempt = [v, "not sent"]  # the value and what the client saw
        rec["after"].append(attempt)
        try:
            status, body = conn.request("PUT", path(key), body=v.encode())
            ok = status == 200 and (kind == "pop" or json.loads(body).get("success") is True)
        except Exception as e:
            attempt[1] = type(e).__name__
            st.add("%s_write_error_%s" % (kind, type(e).__name__))
            time.sleep(0.05)
            continue
        if ok:
            rec["acked"], rec["after"] = v, []
            st.add("%s_write_ok" % kind)
        else:
            attempt[1] = "%d %s" % (status, body[:40].decode(errors="replace").strip())
            st.add("%s_write_status_%d" % (kind, status))
            time.sleep(0.05)
    conn.close()
    for k, rec in mine.items():  # a key without an acknowledged write here keeps its prime
        if rec["acked"] is None:
            records[k]["after"].extend(rec["after"])
        else:
            records[k] = rec


def reader(name, url, rate, keys, end, rng, st):
    conn, pacer = Conn(url, 3), Pacer(rate, end)
    while pacer.wait():
        key = keys[rng.randrange(len(keys))]
        try:
            status, _ = conn.request("GET", "/" + key + "?urlencoded=true&cache_ttl=30")
        except Exception as e:
            st.add("read_error_" + type(e).__name__)
            time.sleep(0.05)
            continue
        st.add("read_%d" % status)
        st.add("read_%s_%d" % (name, status))
    conn.close()


def prime(a):
    rng = random.Random(a["seed"] + 1)
    records = {}
    for kind, tag, _, _ in writers(a):
        for k in keys_of(a, kind, tag):
            records[k] = {"acked": value(tag, 0, rng), "after": []}
    keys = sorted(records)
    conn = Conn(a["coord"], 60)
    for i in range(0, len(keys), 1000):
        body = json.dumps([{"key": k, "value": records[k]["acked"]} for k in keys[i:i + 1000]])
        status, reply = conn.request("PUT", API + "/bulk", body=body.encode(),
                                     headers={"Content-Type": "application/json"})
        if status != 200 or json.loads(reply)["result"]["successful_key_count"] != len(
                keys[i:i + 1000]):
            print("    prime: bulk write %d: %s" % (status, reply[:200]))
            return 1
    status, reply = conn.request("GET", "/health")
    seq = json.loads(reply)["seq"]
    for name, url in sorted(a["pops"].items()):
        pop = Conn(url, 60)
        deadline = time.monotonic() + 30
        while json.loads(pop.request("GET", "/_edgekv/health")[1])["applied_seq"] < seq:
            if time.monotonic() > deadline:
                print("    prime: %s did not reach seq %d" % (name, seq))
                return 1
            time.sleep(0.05)
        for i in range(0, len(keys), 100):
            status, reply = pop.request("POST", "/bulk/get",
                                        body=json.dumps({"keys": keys[i:i + 100]}).encode())
            got = json.loads(reply) if status == 200 else {}
            if any(got.get(k) != records[k]["acked"] for k in keys[i:i + 100]):
                print("    prime: %s bulk get %d: %s" % (name, status, reply[:200]))
                return 1
        entries = json.loads(pop.request("GET", "/stats")[1])["cache"]["entries"]
        if entries < len(keys):
            print("    prime: %s holds %d of %d keys" % (name, entries, len(keys)))
            return 1
        pop.close()
    with open(os.path.join(a["out"], "records.json"), "w") as f:
        json.dump(records, f)
    print("    prime: %d keys written (seq %d) and held by every PoP" % (len(keys), seq))
    return 0


def load(a):
    rng = random.Random(a["seed"])
    with open(os.path.join(a["out"], "records.json")) as f:
        records = json.load(f)
    keys = all_keys(a)
    st, threads = Stats(), []
    end = time.monotonic() + a["duration"]
    for kind, tag, url, rate in writers(a):
        threads.append(threading.Thread(target=writer, args=(
            kind, tag, url, rate, keys_of(a, kind, tag), 5 if kind == "rest" else 3, end,
            random.Random(rng.random()), st, records)))
    for name, url in sorted(a["pops"].items()):
        for i in range(a["read_threads"]):
            threads.append(threading.Thread(target=reader, args=(
                name, url, a["read_rate"] / a["read_threads"], keys, end,
                random.Random(rng.random()), st)))
    t0 = last = time.monotonic()
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        time.sleep(0.5)
        if time.monotonic() - last >= 30:
            last = time.monotonic()
            with st.lock:
                c = {k: v for k, v in st.c.items() if not re.match(r"read_[a-z]+_\d+$", k)}
            print("    load %3.0f s: %s" % (last - t0, json.dumps(c, sort_keys=True)), flush=True)
    for t in threads:
        t.join()
    with open(os.path.join(a["out"], "records.json"), "w") as f:
        json.dump(records, f)
    summary = dict(st.c)
    summary["seconds"] = round(time.monotonic() - t0, 1)
    with open(os.path.join(a["out"], "load.json"), "w") as f:
        json.dump(summary, f, sort_keys=True)
    print("    load done: " + json.dumps(summary, sort_keys=True), flush=True)
    return 0


def check(a):
    with open(os.path.join(a["out"], "records.json")) as f:
        want = json.load(f)
    keys = sorted(want)
    conn, got = Conn(a["coord"], 30), {}
    for i in range(0, len(keys), 100):
        status, body = conn.request("POST", API + "/bulk/get",
                                    body=json.dumps({"keys": keys[i:i + 100]}).encode(),
                                    headers={"Content-Type": "application/json"})
        if status != 200:
            print("    bulk get: %d %s" % (status, body[:200]))
            return 1
        got.update(json.loads(body)["result"]["values"])
    exact, later, bad, seen = 0, 0, [], {}
    for k in keys:
        v = got.get(k)
        after = dict((x, how) for x, how in want[k]["after"])
        if v == want[k]["acked"]:
            exact += 1
        elif v in after:
            later += 1
            how = "%s write, client saw: %s" % ("REST" if k.startswith("r") else "PoP", after[v])
            seen[how] = seen.get(how, 0) + 1
        else:
            bad.append((k, want[k]["acked"], v))
    print("    check: %d keys (%d written through REST, %d through PoPs): %d hold the last "
          "acknowledged value, %d a later attempt that failed at the client, %d are wrong or "
          "missing" % (len(keys), sum(1 for k in keys if k.startswith("r")),
                       sum(1 for k in keys if k.startswith("p-")), exact, later, len(bad)))
    for how, n in sorted(seen.items()):
        print("      committed although it failed at the client: %d x %s" % (n, how))
    for k, acked, v in bad[:10]:
        print("      %s: acknowledged %r, the coordinator has %r" % (k, acked, v))
    with open(os.path.join(a["out"], "check.json"), "w") as f:
        json.dump({"keys": len(keys), "exact": exact, "later": later, "bad": len(bad)}, f)
    return 1 if bad else 0


def schedule(a):
    rng = random.Random(a["seed"])
    kinds = ["kill", "stop", "partition", "slow", "coordinator"]
    times, t = [], a["first"]
    while t <= a["last"]:
        times.append(t)
        t += rng.uniform(a["gap_min"], a["gap_max"])
    bag = rng.sample(kinds, len(kinds)) + [rng.choice(kinds) for _ in times[len(kinds):]]
    rng.shuffle(bag)
    for at, kind in zip(times, bag):
        target = "-" if kind == "coordinator" else rng.choice(sorted(a["pops"]))
        hold = rng.uniform(a["hold_min"], a["hold_max"])
        arg = rng.choice([200, 400, 800]) if kind == "slow" else 0
        print("%.1f %s %s %.1f %d" % (at, kind, target, hold, arg))
    return 0


if __name__ == "__main__":
    mode, args = sys.argv[1], json.loads(sys.argv[2])
    sys.exit({"schedule": schedule, "prime": prime, "load": load, "check": check}[mode](args))
