#!/usr/bin/python3
"""Drives headless Chromium (Debian `chromium`) through the DevTools protocol
(over Python's `websockets`) against actio-chat's web page, beside a text
client on the chat port:

    chat_browser.py CHROMIUM HTTP_PORT CHAT_PORT [SCREENSHOT.png]

Two pages (ann, bea) and a text client (cid) join #lobby; each says one
line; the script checks that every participant sees each of the others'
lines exactly once (and its own once: the chat echoes a member's own
lines). Prints one line per check and exits 0 if all held, 1 otherwise.
All waits are bounded; nothing is fetched from outside 127.0.0.1.
"""

import asyncio
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import websockets

DEADLINE = 30.0  # seconds for each wait


class Browser:
    """One headless Chromium and a DevTools connection to it."""

    def __init__(self, chromium):
        self.dir = tempfile.mkdtemp(prefix="actio-chromium-")
        self.proc = subprocess.Popen(
            [chromium, "--headless=new", "--no-sandbox", "--disable-gpu",
             "--no-first-run", "--no-default-browser-check",
             "--disable-extensions", "--disable-background-networking",
             "--disable-component-update", "--disable-sync",
             "--user-data-dir=" + self.dir, "--remote-debugging-port=0",
             "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.ws = None
        self.next_id = 0
        self.pending = {}
        self.reader = None

    async def connect(self):
        port_file = os.path.join(self.dir, "DevToolsActivePort")
        end = time.monotonic() + DEADLINE
        while True:  # Chromium writes the file once it listens
            if os.path.exists(port_file):
                lines = open(port_file).read().split("\n")
                if len(lines) >= 2 and lines[1]:
                    break
            if self.proc.poll() is not None or time.monotonic() > end:
                raise RuntimeError("chromium did not start")
            await asyncio.sleep(0.05)
        url = "ws://127.0.0.1:%s%s" % (lines[0], lines[1])
        self.ws = await websockets.connect(url, max_size=None)
        self.reader = asyncio.ensure_future(self.read())

    async def read(self):
        async for raw in self.ws:
            msg = json.loads(raw)
            fut = self.pending.pop(msg.get("id"), None)
            if fut is not None and not fut.done():
                fut.set_result(msg)

    async def call(self, method, session=None, **params):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        fut = asyncio.get_running_loop().create_future()
        self.pending[self.next_id] = fut
        await self.ws.send(json.dumps(msg))
        reply = await asyncio.wait_for(fut, DEADLINE)
        if "error" in reply:
            raise RuntimeError("%s: %s" % (method, reply["error"]))
        return reply["result"]

    async def page(self, url):
        target = await self.call("Target.createTarget", url=url)
        attached = await self.call("Target.attachToTarget",
                                   targetId=target["targetId"], flatten=True)
        return Page(self, attached["sessionId"])

    async def close(self):
        if self.reader:
            self.reader.cancel()
        if self.ws:
            await self.ws.close()
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


class Page:
    def __init__(self, browser, session):
        self.b = browser
        self.session = session

    async def eval(self, expr):
        r = await self.b.call("Runtime.evaluate", self.session,
                              expression=expr, returnByValue=True)
        return r["result"].get("value")

    async def lines(self):
        return await self.eval(
            "Array.from(document.querySelectorAll('#log li'))"
            ".map(li => li.textContent)") or []

    async def type_line(self, text):
        # As a user does: the text in the box, then the form submitted.
        await self.eval(
            "(() => { const l = document.getElementById('line');"
            " l.value = %s;"
            " document.getElementById('say').requestSubmit(); })()"
            % json.dumps(text))

    async def wait_for(self, pred, what):
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end:
            got = await self.lines()
            if pred(got):
                return got
            await asyncio.sleep(0.05)
        raise RuntimeError("page never showed %s; it shows %r" % (what, got))

    async def screenshot(self, path):
        r = await self.b.call("Page.captureScreenshot", self.session,
                              format="png")
        with open(path, "wb") as f:
            f.write(base64.b64decode(r["data"]))


class TextClient:
    """An nc-style client on the chat port."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), DEADLINE)
        self.buf = b""
        self.seen = []

    def send(self, line):
        self.sock.sendall(line.encode() + b"\n")

    def wait_for(self, pred, what):
        end = time.monotonic() + DEADLINE
        while not pred(self.seen):
            left = end - time.monotonic()
            if left <= 0:
                raise RuntimeError("text client never saw %s; it saw %r"
                                   % (what, self.seen))
            self.sock.settimeout(left)
            data = self.sock.recv(65536)
            if not data:
                raise RuntimeError("the chat closed the text client")
            self.buf += data
            *done, self.buf = self.buf.split(b"\n")
            self.seen += [d.decode() for d in done]
        return self.seen


def has(line):
    return lambda seen: line in seen


async def run(chromium, http_port, chat_port, shot):
    url = "http://127.0.0.1:%d/" % http_port
    b = Browser(chromium)
    ok = True
    try:
        await b.connect()
        ann = await b.page(url)
        bea = await b.page(url)
        welcome = lambda seen: any(s.startswith("* welcome") for s in seen)
        for p in (ann, bea):
            await p.wait_for(welcome, "the welcome")
        print("pages welcomed")
        cid = TextClient(chat_port)
        cid.send("/nick cid")
        cid.send("/join lobby")
        cid.wait_for(has("* cid joined #lobby"), "its join")
        for p, nick in ((ann, "ann"), (bea, "bea")):
            await p.type_line("/nick " + nick)
            await p.type_line("/join lobby")
            await p.wait_for(has("* %s joined #lobby" % nick), "its join")
        print("all joined")
        said = {"ann": "hello from ann", "bea": "bea says hi", "cid": "cid here"}
        await ann.type_line(said["ann"])
        await bea.type_line(said["bea"])
        cid.send(said["cid"])
        want = ["<%s> %s" % (n, t) for n, t in said.items()]
        everyone = lambda seen: all(w in seen for w in want)
        views = {"ann": await ann.wait_for(everyone, "every line"),
                 "bea": await bea.wait_for(everyone, "every line"),
                 "cid": cid.wait_for(everyone, "every line")}
        # Anything late (a duplicate) arrives before the end marker: each
        # participant's /list answer comes after every event before it.
        for p in (ann, bea):
            await p.type_line("/list")
        cid.send("/list")
        members = "* members of #lobby: "
        done = lambda seen: any(s.startswith(members) for s in seen)
        views = {"ann": await ann.wait_for(done, "the /list answer"),
                 "bea": await bea.wait_for(done, "the /list answer"),
                 "cid": cid.wait_for(done, "the /list answer")}
        for who, seen in views.items():
            counts = [seen.count(w) for w in want]
            fine = counts == [1, 1, 1]
            ok = ok and fine
            print("%s saw each line %s" % (who, "once" if fine else counts))
        if shot:
            await ann.screenshot(shot)
            print("screenshot written")
    finally:
        await b.close()
    return ok


def main():
    if len(sys.argv) not in (4, 5):
        print(__doc__, file=sys.stderr)
        return 2
    shot = sys.argv[4] if len(sys.argv) == 5 else None
    try:
        ok = asyncio.run(run(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]),
                             shot))
    except Exception as e:  # one line, for the test's message
        print("failed: %s" % e)
        return 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
