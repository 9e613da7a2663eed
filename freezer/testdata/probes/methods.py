# HEAD and other known methods on every route: falcon answers 405 with
# Allow where a resource lacks the responder (the json-home documents have
# no on_head), 404 off the routes.
j = req("POST", "{v}/jobs", {"client_id": "n", "job_actions": [], "job_schedule": {}}, show=False); vars["j"] = j["job_id"]
for p in ["{v}", "{v}/jobs", "{v}/jobs/{j}", "{v}/jobs/{j}/event", "{v}/clients", "{v}/clients/x", "{v}/actions", "{v}/sessions", "{v}/sessions/x/action", "{v}/sessions/x/jobs/y", "{v}/backups", "{v}/backups/x", "{v}/nothing"]:
    req("HEAD", p)
    req("CONNECT", p) if False else None
    req("TRACE", p)
    req("COPY", p)
req("HEAD", "/v2")
req("HEAD", "/v2/")
req("HEAD", "/v1/")
req("GET", "/v2")
