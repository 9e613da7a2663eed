#!/usr/bin/python3
"""Drive python-freezerclient (Debian's python3-freezerclient) against a
Freezer API for longrun's conformance test.

Usage: pyclient.py AUTH_URL v1|v2 password USERNAME PASSWORD PROJECT_NAME
       pyclient.py AUTH_URL v1|v2 token TOKEN PROJECT_ID

It logs in at Keystone v3 (with a password, or with a token through the
token method), finds the Freezer endpoint in the token's catalog (service
type "backup"), runs the reference client's job calls on the v1 or v2
API, and prints one JSON line per step on stdout.
"""

import json
import sys

from freezerclient.v1 import client as v1client
from freezerclient.v2 import client as v2client


def step(name, value):
    print(json.dumps({"step": name, "value": value}), flush=True)


def main():
    auth_url, version, method = sys.argv[1:4]
    mod = v1client if version == "v1" else v2client
    if method == "password":
        username, password, project = sys.argv[4:7]
        c = mod.Client(auth_url=auth_url, username=username,
                       password=password, project_name=project,
                       user_domain_name="Default",
                       project_domain_name="Default")
    else:
        token, project_id = sys.argv[4:6]
        c = mod.Client(auth_url=auth_url, token=token,
                       project_id=project_id)
    step("endpoint", c.endpoint)
    step("project_id", getattr(c, "project_id", None) or c.session.get_project_id())
    doc = {
        "description": "python-freezerclient job",
        "job_schedule": {"schedule_interval": "5 minutes"},
        "job_actions": [{
            "freezer_action": {"action": "backup", "mode": "fs",
                               "path_to_backup": "/etc",
                               "backup_name": "etc", "container": "c",
                               "no_incremental": True},
            "max_retries": 2,
        }],
        "client_id": "pyclient-host",
    }
    job_id = c.jobs.create(doc)
    step("create", job_id)
    step("get", c.jobs.get(job_id))
    step("list", [j["job_id"] for j in c.jobs.list(limit=100, client_id="pyclient-host")])
    step("list_all", [j["job_id"] for j in c.jobs.list_all(limit=100)])
    step("update", c.jobs.update(job_id, {"description": "updated",
                                          "job_schedule": {"schedule_interval": "5 minutes"}}))
    step("start", c.jobs.start_job(job_id))
    step("start_again", c.jobs.start_job(job_id))
    step("get_started", c.jobs.get(job_id))
    step("stop", c.jobs.stop_job(job_id))
    step("abort", c.jobs.abort_job(job_id))
    try:
        c.jobs.update("0123456789abcdef0123456789abcdef", {"description": "x"})
        step("update_missing", "no error")
    except Exception as e:
        step("update_missing", str(e))
    try:
        c.jobs.create({"job_actions": [], "job_schedule": {"schedule_interval": "soon"}})
        step("create_bad", "no error")
    except Exception as e:
        step("create_bad", str(e))
    c.jobs.delete(job_id)
    step("delete", job_id)
    step("get_deleted", c.jobs.get(job_id))


if __name__ == "__main__":
    main()
