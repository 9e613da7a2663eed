# Python's json.loads reads NaN, Infinity and -Infinity, and a float beyond
# a double's range as inf; json.dumps writes them back as NaN, Infinity
# and -Infinity, and jsonschema's messages name them nan, inf and -inf.


def rawbody(m, path, text):
    path = path.format(**vars)
    u = urllib.parse.urlparse(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    conn.request(m, path, body=text.encode(), headers={"X-Auth-Token": tok, "Content-Type": "application/json"})
    resp = conn.getresponse()
    code, b = resp.status, resp.read().decode()
    conn.close()
    print("==", m, path, text[:300])
    print(code, "ct=%s" % resp.headers.get("Content-Type"))
    print(b[:3000])
    try:
        return json.loads(b)
    except ValueError:
        return None


bk = rawbody("POST", "{v}/backups", '{"container": "c", "hostname": "h", "backup_name": "b", "time_stamp": 1700000000, "level": 0, "x": NaN, "y": Infinity, "z": -Infinity, "w": [NaN,Infinity], "big": 1E400, "nbig": -1e999, "int": 123456789012345678901234567890, "s": "NaN Infinity"}')
vars["bk"] = bk["backup_id"]
req("GET", "{v}/backups/{bk}")
rawbody("POST", "{v}/jobs", '{"client_id": "n", "job_actions": [], "job_schedule": {}, "description": NaN}')
rawbody("POST", "{v}/jobs", '{"client_id": "n", "job_actions": [], "job_schedule": {}, "description": -Infinity}')
rawbody("POST", "{v}/jobs", '{"client_id": "n", "job_actions": [], "job_schedule": {}, "description": 1e400}')
rawbody("POST", "{v}/jobs", '{"client_id": "n", "job_actions": [], "job_schedule": {}, "description": nan}')
rawbody("POST", "{v}/jobs", '{"client_id": "n", "job_actions": [], "job_schedule": {}, "description": Infinityx}')
j = rawbody("POST", "{v}/jobs", '{"client_id": "n", "job_actions": [{"freezer_action": {"action": "backup", "max_level": NaN, "remove_older_than": Infinity}}], "job_schedule": {}}')
vars["j"] = j["job_id"]
req("GET", "{v}/jobs/{j}")
rawbody("GET", "{v}/jobs", '{"match": [{"remove_older_than": Infinity}]}')
rawbody("GET", "{v}/jobs", '{"match": [{"max_level": NaN}]}')
