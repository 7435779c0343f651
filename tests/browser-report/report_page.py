#!/usr/bin/env python3
"""report_page: loads a report.html in Debian's chromium (headless, DevTools protocol over a
pipe: no npm, no network port), checks what a reader sees, and saves screenshots.

    report_page.py CHROMIUM REPORT_HTML OUT_DIR PREFIX [--heatmap]

Checks, in the laid-out page (not the HTML text): every section heading is followed by its
explaining text, on screen and readable; the documentation sentence of every policy; every
chart has a box inside the page's width (nothing runs off to the right); each policy's map has
one dot per PoP, the worst PoP of the page red, and green ones; a counterexample timeline with
its red (judged) and blue (write) bars; with --heatmap, the heatmap's cells. Then screenshots:
PREFIX-page.png (the whole page), PREFIX-claims.png, PREFIX-map.png, PREFIX-checkers.png and,
with --heatmap, PREFIX-heatmap.png (of the last policy, kv in the test). Each screenshot is
decoded and must hold the colours it shows (not blank). Exit 0 when all hold, 1 with the
first failure on stderr. The browser is started here and stopped by its pid."""
import base64
import fcntl
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
import zlib

WIDTH = 1060


class Browser:
    """Chromium with --remote-debugging-pipe: commands on fd 3, replies on fd 4, each a JSON
    text ended by a NUL byte."""

    def __init__(self, exe):
        self.profile = tempfile.mkdtemp(prefix="ekv-chromium.")
        r0, self.to_w = os.pipe()
        self.from_r, w0 = os.pipe()
        # The child gets its ends as fds 3 and 4 (moved above 10 first, so neither lands on
        # the other); every other fd of ours is close-on-exec.
        to_r = fcntl.fcntl(r0, fcntl.F_DUPFD_CLOEXEC, 10)
        from_w = fcntl.fcntl(w0, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(r0)
        os.close(w0)

        def fds():
            os.dup2(to_r, 3)
            os.dup2(from_w, 4)

        self.proc = subprocess.Popen(
            [exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--no-first-run", "--no-default-browser-check", "--remote-debugging-pipe",
             "--user-data-dir=" + self.profile, "about:blank"],
            preexec_fn=fds, close_fds=False, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        os.close(to_r)
        os.close(from_w)
        self.buf = b""
        self.next_id = 0
        self.events = []
        self.session = None

    def _read(self, deadline):
        while b"\0" not in self.buf:
            if time.time() > deadline:
                raise RuntimeError("chromium did not answer in time")
            chunk = os.read(self.from_r, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed its pipe")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, params=None, session=True, timeout=30):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self.to_w, json.dumps(msg).encode() + b"\0")
        deadline = time.time() + timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError("%s: %s" % (method, reply["error"]))
                return reply["result"]
            self.events.append(reply)

    def wait_event(self, method, timeout=30):
        deadline = time.time() + timeout
        while True:
            for i, e in enumerate(self.events):
                if e.get("method") == method:
                    return self.events.pop(i)
            self.events.append(self._read(deadline))

    def open(self, url, height):
        target = self.call("Target.createTarget", {"url": "about:blank"}, session=False)
        self.session = self.call("Target.attachToTarget",
                                 {"targetId": target["targetId"], "flatten": True},
                                 session=False)["sessionId"]
        self.call("Page.enable")
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": WIDTH, "height": height, "deviceScaleFactor": 1, "mobile": False})
        self.call("Page.navigate", {"url": url})
        self.wait_event("Page.loadEventFired")

    def js(self, expr):
        r = self.call("Runtime.evaluate", {"expression": expr, "returnByValue": True})
        if "exceptionDetails" in r:
            raise RuntimeError("page script: %s" % r["exceptionDetails"])
        return r["result"].get("value")

    def shot(self, path, box):
        data = self.call("Page.captureScreenshot",
                         {"format": "png", "captureBeyondViewport": True,
                          "clip": {"x": box["x"], "y": box["y"], "width": box["w"],
                                   "height": box["h"], "scale": 1}})["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def close(self):
        try:
            self.call("Browser.close", session=False, timeout=5)
        except (RuntimeError, OSError):
            pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        subprocess.run(["rm", "-rf", self.profile], check=False)


def png_colours(path):
    """The set of RGB colours of an 8-bit RGB or RGBA PNG (chromium's screenshots)."""
    data = open(path, "rb").read()
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    if depth != 8 or ctype not in (2, 6):
        raise RuntimeError("%s: not an 8-bit RGB(A) PNG" % path)
    bpp = 3 if ctype == 2 else 4
    stride, raw, prev, seen = w * bpp, zlib.decompress(idat), bytearray(w * bpp), set()
    for y in range(h):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        prev = line
        for x in range(0, stride, bpp):
            seen.add(bytes(line[x:x + 3]))
    return seen


def has_colour(seen, rgb, tol=3):
    return any(all(abs(c[i] - rgb[i]) <= tol for i in range(3)) for c in seen)


def hsl(h, s, l):
    """CSS hsl() to 0-255 RGB, as the page's fills are written."""
    c = (1 - abs(2 * l - 1)) * s
    x = c * (1 - abs((h / 60) % 2 - 1))
    m = l - c / 2
    r, g, b = [(c, x, 0), (x, c, 0), (0, c, x), (0, x, c), (x, 0, c), (c, 0, x)][int(h // 60) % 6]
    return tuple(round((v + m) * 255) for v in (r, g, b))


# What the page looks like once laid out, gathered in the browser.
LAYOUT = r"""(() => {
  const box = e => { if (!e) return null; const r = e.getBoundingClientRect();
    return {x: r.left + scrollX, y: r.top + scrollY, w: r.width, h: r.height}; };
  const heads = [...document.querySelectorAll('h2, h3')].map(h => {
    const p = h.nextElementSibling;
    return {id: h.id, text: h.textContent, how: p && p.className === 'how' ? p.textContent : '',
            box: p ? box(p) : null,
            colour: p ? getComputedStyle(p).color : '', size: p ? getComputedStyle(p).fontSize : ''};
  });
  const runs = [...document.querySelectorAll("h2[id^='p']")].map(h => h.id);
  return {
    width: document.documentElement.scrollWidth, height: document.documentElement.scrollHeight,
    body: box(document.body),
    heads: heads, runs: runs,
    claims: [...document.querySelectorAll('li.claim')].map(l => l.textContent),
    charts: [...document.querySelectorAll('svg.chart')].map(box),
    maps: runs.map(r => { const s = document.querySelector('#' + r + '-map ~ svg.map');
      const dots = s ? [...s.querySelectorAll('circle')] : [];
      return {dots: dots.length, fills: dots.map(c => c.getAttribute('fill'))}; }),
    pops: runs.length ? document.querySelector('#' + runs[0] + '-pops ~ table')
                          .querySelectorAll('tr').length - 1 : 0,
    examples: runs.map(r => [...document.querySelectorAll('svg.ex')].filter(s =>
      s.compareDocumentPosition(document.getElementById(r + '-checkers')) & 2).length),
    heat: runs.map(r => { const h = document.getElementById(r + '-heat');
      const s = h && h.nextElementSibling.nextElementSibling;
      return s && s.tagName === 'svg' ? s.querySelectorAll('rect[fill^=hsl]').length : 0; }),
    boxes: Object.fromEntries(['claims', 'staleness', ...runs.map(r => r + '-map'),
      ...runs.map(r => r + '-checkers'), ...runs.map(r => r + '-heat'),
      ...runs.map(r => r + '-pops')].map(id => [id, box(document.getElementById(id))])),
  };
})()"""


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def check_layout(lay, heatmap):
    if lay["width"] > WIDTH:
        fail("the page is %d px wide in a %d px window" % (lay["width"], WIDTH))
    for h in lay["heads"]:
        if not h["how"] or len(h["how"]) < 60:
            fail("section '%s' has no explaining text under it" % h["text"])
        if h["box"]["h"] < 14 or h["box"]["x"] + h["box"]["w"] > WIDTH:
            fail("the text of section '%s' is not on screen: %s" % (h["text"], h["box"]))
        if float(h["size"].rstrip("px")) < 12:
            fail("the text of section '%s' is too small to read (%s)" % (h["text"], h["size"]))
    if len(lay["claims"]) != len(lay["runs"]) or not lay["runs"]:
        fail("%d documentation sentences for %d policies" % (len(lay["claims"]), len(lay["runs"])))
    for c in lay["claims"]:
        if "Cloudflare" not in c or "after the write" not in c:
            fail("a documentation sentence does not compare: %s" % c)
    for b in lay["charts"]:
        if b["w"] < 300 or b["h"] < 80 or b["x"] + b["w"] > WIDTH:
            fail("a chart is not laid out: %s" % b)
    hues = [int(f[4:].split(",")[0]) for m in lay["maps"] for f in m["fills"]]
    for i, m in enumerate(lay["maps"]):
        if m["dots"] != lay["pops"]:
            fail("map %d has %d dots for %d PoPs" % (i, m["dots"], lay["pops"]))
    if min(hues) != 0 or max(hues) < 100:
        fail("the maps do not run from green (few stale reads) to red (the worst PoP): %s" % hues)
    if lay["examples"][-1] < 1:
        fail("no counterexample timeline under the last policy: %s" % lay["examples"])
    if heatmap and lay["heat"][-1] < 1:
        fail("the last policy's heatmap has no cells")


def main():
    if len(sys.argv) < 5:
        fail("usage: report_page.py CHROMIUM REPORT_HTML OUT_DIR PREFIX [--heatmap]")
    exe, page, out, prefix = sys.argv[1:5]
    heatmap = "--heatmap" in sys.argv[5:]
    b = Browser(exe)
    try:
        b.open("file://" + os.path.abspath(page), 900)
        lay = b.js(LAYOUT)
        check_layout(lay, heatmap)
        last = lay["runs"][-1]
        bx = lay["boxes"]
        left, right = max(lay["body"]["x"] - 12, 0), lay["body"]["x"] + lay["body"]["w"] + 12
        pad = lambda top, bottom: {"x": left, "y": top - 10, "w": min(right, WIDTH) - left,
                                   "h": bottom - top}
        shots = {
            "page": {"x": 0, "y": 0, "w": WIDTH, "h": lay["height"]},
            "claims": pad(bx["claims"]["y"], bx["staleness"]["y"]),
            "map": pad(bx[last + "-map"]["y"], bx[last + "-heat"]["y"]),
            "checkers": pad(bx[last + "-checkers"]["y"], bx[last + "-pops"]["y"]),
        }
        if heatmap:
            shots["heatmap"] = pad(bx[last + "-heat"]["y"], bx[last + "-checkers"]["y"])
        for name, box in shots.items():
            b.shot(os.path.join(out, "%s-%s.png" % (prefix, name)), box)
    finally:
        b.close()
    # What each picture must show: the map's sea and its red and green dots; the timelines'
    # red and blue bars; the heatmap's red (all stale) or orange cells over the green ground.
    need = {"map": [(238, 244, 250), hsl(0, .75, .45)],
            "checkers": [(0xc0, 0x39, 0x2b), (0x3a, 0x6e, 0xa5)],
            "claims": [(34, 34, 34)]}
    for name, colours in need.items():
        seen = png_colours(os.path.join(out, "%s-%s.png" % (prefix, name)))
        for c in colours:
            if not has_colour(seen, c):
                fail("%s-%s.png lacks the colour %s" % (prefix, name, c))
    print("ok: %s: %d sections explained, %d policies, %d charts, screenshots in %s" %
          (page, len(lay["heads"]), len(lay["runs"]), len(lay["charts"]), out))


if __name__ == "__main__":
    main()
