# Content negotiation and methods as falcon 3.1 (freezer-api 13) does them:
# RequireJSON with mimeparse quality (q=0, an unparsable or empty element,
# case-sensitive types), the 406 serialized as the client prefers (XML,
# JSON for "+json", none), falcon's 400 for a method it does not know and
# for its WEBSOCKET meta method, and odd paths.
for acc in ["application/json;q=0", "text/html, application/json;q=0", "application/*;q=0.1", "*/*;q=0", "text/*", "APPLICATION/JSON", "application/json-home", "application/json, text/html", "application/xml", "", "text/plain;q=1, */*;q=0.1", "application/vnd.api+json", "*/json"]:
    req("GET", "{v}/jobs", hdr={"Accept": acc})
for m in ["HEAD", "PUT", "DELETE", "TRACE", "FOO"]:
    req(m, "{v}/jobs", show=True) if m != "HEAD" else None
for p in ["{v}/jobs?limit=1&foo=bar", "{v}/jobs/", "{v}/clients/", "{v}/actions/", "{v}/sessions/", "{v}/backups/", "{v}/jobs/x/event/", "{v}/sessions/x/action/", "{v}/sessions/x/jobs/y/", "{v}/jobs/a/b", "{v}/clients/a/b"]:
    req("GET", p)
req("POST", "{v}/jobs", {"client_id": "n", "job_actions": []}, hdr={"Content-Type": "text/plain"})
req("POST", "{v}/jobs", {"client_id": "n", "job_actions": []}, hdr={"Content-Type": ""})
req("POST", "{v}/clients", {"client_id": "ct", "hostname": "h"}, hdr={"Content-Type": "application/x-www-form-urlencoded"})
for acc in ["application/json,", ",application/json", "application/json; q=0.5, application/xml", "text/xml;q=0.5, application/json;q=0.5", "application/xml;q=0.9, application/json;q=0.8", "text/xml, */*;q=0.1", "application/json;q=abc", "application/json;q=2", "application/json;Q=0", "foo", "application/json/x", "*", "*;q=0.5", " application/json ", "application/json;charset=utf-8", "application/problem+xml", "application/x+json, application/y+xml"]:
    req("GET", "{v}/jobs", hdr={"Accept": acc})
for m in ["PROPFIND", "WEBSOCKET", "BREW", "CONNECT"]:
    req(m, "{v}/jobs")
    req(m, "{v}")
    req(m, "{v}/nothing")
req("FOO", "{v}/jobs", hdr={"Accept": "text/html"})
