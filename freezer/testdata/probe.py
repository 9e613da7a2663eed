#!/usr/bin/python3
"""Send scripted raw HTTP requests to a Freezer API and print what comes
back, for longrun's wire-level conformance test (the same script against
the real freezer-api and the fake, outputs compared with ids and times
masked).

Usage: probe.py BASE_URL TOKEN VERSION_PREFIX SCRIPT...

VERSION_PREFIX is "/v1" or "/v2/<project_id>". Each SCRIPT is Python that
calls req(method, path, body=None, hdr=None, show=True), where "{v}" in a
path is VERSION_PREFIX and "{name}" a value the script stored in vars;
req prints the method and path, the status, Content-Type and Allow
headers and the body, and returns the decoded JSON body (or None).
"""

import http.client
import json
import sys
import urllib.parse

base, tok, prefix = sys.argv[1:4]
vars = {"v": prefix}
v = prefix  # the scripts may read it


def req(m, path, body=None, hdr=None, show=True):
    path = path.format(**vars)
    data = json.dumps(body).encode() if body is not None else None
    u = urllib.parse.urlparse(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    hd = {"X-Auth-Token": tok}
    if data is not None:
        hd["Content-Type"] = "application/json"
    hd.update(hdr or {})
    conn.request(m, path, body=data, headers=hd)
    resp = conn.getresponse()
    code, h, b = resp.status, resp.headers, resp.read()
    conn.close()
    txt = b.decode()
    if show:
        print("==", m, path, (data or b"").decode()[:300])
        print(code, "ct=%s allow=%s" % (h.get("Content-Type"), h.get("Allow")))
        print(txt[:3000])
    try:
        return json.loads(txt)
    except ValueError:
        return None


for script in sys.argv[4:]:
    with open(script) as f:
        exec(f.read())
