# limit and offset as falcon's get_param_as_int reads them (Python int():
# underscores between digits, digits of any script, surrounding space),
# numbers beyond SQLite INTEGER (a 500 from the SQL paging, taken by the
# search paging), and a session tag read the same way.
for i in range(3):
    req("POST", "{v}/clients", {"client_id": "c%d" % i, "hostname": "h"}, show=False)
for q in ["limit=1_0", "limit=1__0", "limit=_1", "limit=%20%202%20", "limit=%D9%A2", "limit=%EF%BC%92", "limit=00002", "limit=-0", "offset=%D9%A1", "limit=2%0A", "limit=%092", "offset=1_0", "limit=1&offset=", "limit=true", "limit=1e1", "limit=2&offset=1_", "limit=%E2%80%832"]:
    req("GET", "{v}/clients?" + q)
for q in ["limit=99999999999999999999", "offset=99999999999999999999", "limit=9223372036854775807", "limit=9223372036854775808", "offset=-99999999999999999999", "limit=%1C2"]:
    req("GET", "{v}/clients?" + q)
    req("GET", "{v}/jobs?" + q, {"match": [{"client_id": "x"}]})
s = req("POST", "{v}/sessions", {"description": "s", "schedule": {}}, show=False); vars["s"] = s["session_id"]
jj = req("POST", "{v}/jobs", {"client_id": "n", "job_actions": [], "job_schedule": {}}, show=False); vars["jj"] = jj["job_id"]
req("PUT", "{v}/sessions/{s}/jobs/{jj}")
for tag in ["1_0", "\u0661", " 3 ", "1__0", "_1"]:
    req("POST", "{v}/sessions/{s}/action", {"start": {"job_id": "{jj}".format(**vars), "current_tag": tag}})
    req("GET", "{v}/sessions/{s}")
