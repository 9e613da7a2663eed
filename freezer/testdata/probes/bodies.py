# Request bodies as freezer-api's json_body reads them: no Content-Length
# (a chunked body) is no body at all; the bytes are decoded as strict
# UTF-8 before parsing, so anything else is 753 "Malformed JSON".


def raw(m, path, data, chunked=False):
    path = path.format(**vars)
    u = urllib.parse.urlparse(base)
    if chunked:
        # One write holds the whole request: a server that answers without
        # reading a chunked body may close before a second write.
        import socket
        head = "%s %s HTTP/1.1\r\nHost: %s:%d\r\nX-Auth-Token: %s\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" % (m, path, u.hostname, u.port, tok)
        req_bytes = head.encode() + b"%x\r\n" % len(data) + data + b"\r\n0\r\n\r\n"
        sock = socket.create_connection((u.hostname, u.port), timeout=60)
        sock.sendall(req_bytes)
        resp = http.client.HTTPResponse(sock, method=m)
        resp.begin()
        code, b = resp.status, resp.read()
        sock.close()
    else:
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        conn.request(m, path, body=data, headers={"X-Auth-Token": tok, "Content-Type": "application/json"})
        resp = conn.getresponse()
        code, b = resp.status, resp.read()
        conn.close()
    print("==", m, path, repr(data)[:300], "chunked" if chunked else "")
    print(code, "ct=%s" % resp.headers.get("Content-Type"))
    print(b.decode()[:3000])


raw("POST", "{v}/clients", b'{"client_id": "chunked", "hostname": "h"}', chunked=True)
raw("POST", "{v}/jobs", b'{"client_id": "n", "job_actions": []}', chunked=True)
raw("POST", "{v}/actions", b'{"freezer_action": {"action": "backup"}}', chunked=True)
raw("POST", "{v}/sessions", b'{"description": "s"}', chunked=True)
raw("POST", "{v}/jobs/x/event", b'{"start": null}', chunked=True)
raw("POST", "{v}/clients", b'{"client_id": "lat\xe9", "hostname": "h"}')
raw("POST", "{v}/clients", b'{"client_id": "sur", "hostname": "\xed\xa0\x80"}')
raw("POST", "{v}/clients", b'\xef\xbb\xbf{"client_id": "bom", "hostname": "h"}')
raw("POST", "{v}/jobs", b'{"client_id": "n", "job_actions": [], "description": "\xff"}')
raw("GET", "{v}/jobs", b'{"match": [{"client_id": "\xc3"}]}')
raw("GET", "{v}/clients", b'')
