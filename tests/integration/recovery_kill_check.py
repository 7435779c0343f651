#!/usr/bin/env python3
"""Checks a coordinator restarted after kill -9 against the outcome log of recovery_kill_test.sh.

Usage: recovery_kill_check.py COORDINATOR_URL POP_URL CYCLE OPS_LOG

OPS_LOG lines are "KIND ID CODE ACK [NSID]", ACK 1 for an acknowledged request:
  bulk B      bulk write of keys B-0..B-999, value batch-B (default namespace)
  del B-i     delete of key B-i;    bdel B   bulk delete of keys B-100..B-199
  create N    namespace t-CYCLE-N;  nsbulk N   its keys nk-0..nk-9999, value ns-N
  rename N    to t-CYCLE-N-r;       nsdel N    delete of the namespace
Rules: an acknowledged operation is in the store (unless a later acknowledged one undid it);
an unacknowledged one is all there or not there at all (a bulk request is one commit; a
namespace delete either completes after the restart or leaves everything). A deleted
namespace's keys are gone at the PoP too (it is a full replica). Prints the problems, or one
summary line; exits 1 on a problem.
"""
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

API = "/client/v4/accounts/0123456789abcdef0123456789abcdef/storage/kv/namespaces"
DEFAULT_NS = "0" * 32
BATCH = 1000
NSKEYS = 10000

problems = []


def problem(msg):
    problems.append(msg)


def http(method, url, body=None):
    """(status, body bytes); status 0 when the request failed."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except OSError:
        return 0, b""


def rest(coord, method, path, body=None):
    status, raw = http(method, coord + API + path, body)
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, None


def list_keys(coord, ns, prefix=""):
    """Every key name of ns starting with prefix, or None when the namespace is unknown."""
    names, cursor = [], ""
    while True:
        q = urllib.parse.urlencode({"limit": 1000, "prefix": prefix, "cursor": cursor})
        status, j = rest(coord, "GET", f"/{ns}/keys?{q}")
        if status == 404:
            return None
        if status != 200 or not j or not j.get("success"):
            raise SystemExit(f"listing keys of {ns}: {status} {j}")
        names += [k["name"] for k in j["result"]]
        cursor = j["result_info"].get("cursor") or ""
        if not cursor:
            return names


def bulk_values(coord, ns, keys):
    """key -> value (None when missing) through REST bulk get, 100 keys a request."""
    out = {}
    for i in range(0, len(keys), 100):
        status, j = rest(coord, "POST", f"/{ns}/bulk/get", {"keys": keys[i : i + 100]})
        if status != 200 or not j or not j.get("success"):
            raise SystemExit(f"bulk get in {ns}: {status} {j}")
        out.update(j["result"]["values"])
    return out


def namespaces(coord):
    """id -> title of every namespace."""
    out, page = {}, 1
    while True:
        status, j = rest(coord, "GET", f"?page={page}&per_page=1000")
        if status != 200 or not j or not j.get("success"):
            raise SystemExit(f"listing namespaces: {status} {j}")
        if not j["result"]:
            return out
        out.update({n["id"]: n["title"] for n in j["result"]})
        page += 1


def read_log(path):
    ops = []
    with open(path) as f:
        for line in f:
            w = line.split()
            if len(w) >= 4:
                ops.append((w[0], w[1], w[2], w[3] == "1", w[4] if len(w) > 4 else "-"))
    return ops


def spread(keys, n=20):
    """Up to n keys spread over the list."""
    if len(keys) <= n:
        return list(keys)
    return [keys[i * len(keys) // n] for i in range(n)]


def check_batches(coord, cycle, ops):
    """Bulk writes, deletes and bulk deletes in the default namespace. Returns a summary."""
    bulk = {}  # batch -> acknowledged
    deleted = {}  # batch -> {index: acknowledged}
    bulk_deleted = {}  # batch -> acknowledged
    for kind, ident, _code, ack, _ in ops:
        if kind == "bulk":
            bulk[ident] = ack
        elif kind == "del":
            batch, i = ident.rsplit("-", 1)
            deleted.setdefault(batch, {})[int(i)] = ack
        elif kind == "bdel":
            bulk_deleted[ident] = ack

    present = {}
    for name in list_keys(coord, DEFAULT_NS, f"b{cycle}."):
        batch, i = name.rsplit("-", 1)
        present.setdefault(batch, set()).add(int(i))
    for batch in present.keys() - bulk.keys():
        problem(f"keys of batch {batch}, never written: {sorted(present[batch])[:5]}")
    for batch in (deleted.keys() | bulk_deleted.keys()) - {b for b, a in bulk.items() if a}:
        problem(f"test error: deletes in batch {batch}, which was not acknowledged")

    full = whole = empty = 0
    for batch, ack in sorted(bulk.items()):
        have = present.get(batch, set())
        if not ack:
            if have and len(have) != BATCH:
                problem(f"unacknowledged bulk write {batch} half applied: {len(have)} keys")
            whole += len(have) == BATCH
            empty += not have
            continue
        full += 1
        bdel_range = set(range(100, 200))
        required = set(range(BATCH))
        for i, dack in deleted.get(batch, {}).items():
            required.discard(i)
            if dack and i in have:
                problem(f"acknowledged delete of {batch}-{i} not applied")
        if batch in bulk_deleted:
            required -= bdel_range
            gone = bdel_range - have
            if bulk_deleted[batch] and gone != bdel_range:
                left = len(bdel_range - gone)
                problem(f"acknowledged bulk delete in {batch}: {left} keys still there")
            elif gone and gone != bdel_range:
                problem(f"unacknowledged bulk delete in {batch} half applied: {len(gone)} gone")
        missing = required - have
        if missing:
            problem(f"acknowledged bulk write {batch}: {len(missing)} keys missing,"
                    f" e.g. {sorted(missing)[:5]}")
        extra = have - set(range(BATCH))
        if extra:
            problem(f"batch {batch}: keys outside the batch {sorted(extra)[:5]}")
    # Values: a spread of each batch's present keys.
    sample = []
    for batch, have in present.items():
        sample += [f"{batch}-{i}" for i in spread(sorted(have), 10)]
    for key, value in bulk_values(coord, DEFAULT_NS, sample).items():
        want = "batch-" + key.rsplit("-", 1)[0]
        if value != want:
            problem(f"{key} reads {value!r}, want {want!r}")
    return (f"{full} acknowledged bulk writes whole, unacknowledged ones {whole} whole"
            f" and {empty} absent")


def pop_keys_gone(pop, nsid, keys, deadline):
    """1 when the PoP answers 404 for every key of the namespace before the deadline."""
    while True:
        codes = [http("GET", f"{pop}/ns/{nsid}/{urllib.parse.quote(k)}")[0] for k in keys]
        if all(c == 404 for c in codes):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)


def check_namespaces(coord, pop, cycle, ops):
    by_n = {}
    for kind, ident, _code, ack, nsid in ops:
        if kind in ("create", "nsbulk", "rename", "nsdel"):
            by_n.setdefault(int(ident), {})[kind] = (ack, nsid)
    nss = namespaces(coord)
    by_title = {t: i for i, t in nss.items()}
    prefix = f"t-{cycle}-"
    for title in by_title:
        if title.startswith(prefix):
            n = title[len(prefix) :].removesuffix("-r")
            if not n.isdigit() or int(n) not in by_n:
                problem(f"namespace {title!r} was never created")
    deadline = time.monotonic() + 10  # a deletion resumed after the restart runs meanwhile
    kept = gone = 0
    nskeys = [f"nk-{i}" for i in range(NSKEYS)]
    for n, steps in sorted(by_n.items()):
        cack, nsid = steps["create"]
        title = f"{prefix}{n}"
        if not cack:  # its id is unknown: look it up by title
            nsid = by_title.get(title, by_title.get(title + "-r", "-"))
            if by_title.get(title + "-r"):
                problem(f"namespace {title}, created without acknowledgement, renamed")
        exists = nsid in nss
        if "nsdel" in steps:
            dack = steps["nsdel"][0]
            if dack and exists:
                problem(f"acknowledged delete of namespace {title} ({nsid}): it still exists")
            if not exists and nsid != "-" and not pop_keys_gone(
                pop, nsid, spread(nskeys), deadline
            ):
                problem(f"namespace {title} ({nsid}) deleted, but the PoP still serves its keys")
        elif cack and not exists:
            problem(f"acknowledged namespace {title} ({nsid}) lost")
        if not exists:
            gone += 1
            continue
        kept += 1
        ren = steps.get("rename")
        titles = {title + "-r"} if ren and ren[0] else {title, title + "-r"} if ren else {title}
        if nss[nsid] not in titles:
            problem(f"namespace {nsid} is titled {nss[nsid]!r}, want one of {sorted(titles)}")
        names = list_keys(coord, nsid) or []
        bulk = steps.get("nsbulk")
        if bulk and bulk[0] and sorted(names) != sorted(nskeys):
            problem(f"namespace {title}: acknowledged bulk write, {len(names)} of {NSKEYS} keys")
        elif names and sorted(names) != sorted(nskeys):
            problem(f"namespace {title}: unacknowledged bulk write half applied"
                    f" ({len(names)} keys)")
        elif not bulk and names:
            problem(f"namespace {title}: {len(names)} keys never written")
        for key, value in bulk_values(coord, nsid, spread(names, 10)).items():
            if value != f"ns-{n}":
                problem(f"namespace {title}: {key} reads {value!r}, want 'ns-{n}'")
    return f"{kept} namespaces as acknowledged, {gone} gone with their keys"


def main():
    coord, pop, cycle, log = sys.argv[1:5]
    ops = read_log(log)
    batches = check_batches(coord, cycle, ops)
    nss = check_namespaces(coord, pop, cycle, ops)
    for p in problems[:20]:
        print("problem:", p)
    if problems:
        print(f"{len(problems)} problems")
        return 1
    print(f"{batches}; {nss}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
