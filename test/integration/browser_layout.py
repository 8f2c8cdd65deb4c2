#!/usr/bin/env python3
"""Loads a page in headless chromium at a given window size and prints layout facts as JSON.

Usage: browser_layout.py URL WIDTH HEIGHT PROFILE_DIR

Speaks the DevTools protocol over --remote-debugging-pipe (fd 3 in, fd 4 out, messages ended by
NUL), so it needs no websocket library: emulates the screen (mobile below 600px), navigates,
waits for the load event, then evaluates a few expressions in the page (DevTools evaluation is
not subject to the page's CSP). Prints {"scrollWidth", "clientWidth", "copyButtons"}; exits
non-zero on a protocol error or after 60 s.
"""
import json
import os
import select
import subprocess
import sys
import time

url, width, height, profile = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]

to_chrome_r, to_chrome_w = os.pipe()
from_chrome_r, from_chrome_w = os.pipe()


def child_fds():
    os.dup2(to_chrome_r, 3)
    os.dup2(from_chrome_w, 4)


proc = subprocess.Popen(
    ["/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
     "--remote-debugging-pipe", "--user-data-dir=" + profile, f"--window-size={width},{height}",
     "about:blank"],
    pass_fds=(3, 4), preexec_fn=child_fds, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
os.close(to_chrome_r)
os.close(from_chrome_w)

deadline = time.time() + 60
pending = b""
last_id = 0


def send(method, params=None, session=None):
    global last_id
    last_id += 1
    message = {"id": last_id, "method": method, "params": params or {}}
    if session:
        message["sessionId"] = session
    os.write(to_chrome_w, json.dumps(message).encode() + b"\0")
    return last_id


def read_until(wanted):
    global pending
    while True:
        while b"\0" in pending:
            raw, pending = pending.split(b"\0", 1)
            message = json.loads(raw)
            if wanted(message):
                return message
        left = deadline - time.time()
        if left <= 0:
            sys.exit("browser_layout: timed out")
        ready, _, _ = select.select([from_chrome_r], [], [], left)
        if ready:
            chunk = os.read(from_chrome_r, 65536)
            if not chunk:
                sys.exit("browser_layout: chromium closed the pipe")
            pending += chunk


def call(method, params=None, session=None):
    call_id = send(method, params, session)
    message = read_until(lambda m: m.get("id") == call_id)
    if "error" in message:
        sys.exit(f"browser_layout: {method}: {message['error']}")
    return message["result"]


try:
    targets = call("Target.getTargets")["targetInfos"]
    page = next(t for t in targets if t["type"] == "page")
    session = call("Target.attachToTarget",
                   {"targetId": page["targetId"], "flatten": True})["sessionId"]
    call("Page.enable", session=session)
    call("Emulation.setDeviceMetricsOverride",
         {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
         session=session)
    send("Page.navigate", {"url": url}, session=session)
    read_until(lambda m: m.get("method") == "Page.loadEventFired")
    expression = ("JSON.stringify({scrollWidth: document.documentElement.scrollWidth,"
                  " clientWidth: document.documentElement.clientWidth,"
                  " copyButtons: document.querySelectorAll('button.copy-button').length})")
    result = call("Runtime.evaluate", {"expression": expression, "returnByValue": True},
                  session=session)
    print(result["result"]["value"])
    send("Browser.close")
finally:
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
