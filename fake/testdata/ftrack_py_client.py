"""Drive longrun's fake ftrack with ftrack's own Python API (ftrack_api).

Usage: python3 ftrack_py_client.py URL USER API_KEY FILE
Prints one JSON object with what the client saw.
"""
import json
import sys
import tempfile

import requests

import ftrack_api

url, user, key, path = sys.argv[1:5]
session = ftrack_api.Session(
    server_url=url, api_user=user, api_key=key,
    auto_connect_event_hub=False, schema_cache_path=False, plugin_paths=[],
)
out = {"version": session.server_information.get("version")}

api_user = session.query('User where username is "{0}"'.format(user)).one()
job = session.create("Job", {
    "user": api_user,
    "status": "running",
    "data": json.dumps({"description": "python 10%"}),
})
session.commit()
job_id = job["id"]
out["created"] = {"status": job["status"], "type": job["type"]}

job["data"] = json.dumps({"description": "python 60%"})
session.commit()

server_location = session.query('Location where name is "ftrack.server"').one()
component = session.create_component(path, data={"name": "python-log"}, location=server_location)
session.create("JobComponent", {"component_id": component["id"], "job_id": job_id})
job["status"] = "done"
session.commit()

session.reset()
fresh = session.query(
    'select status, data, job_components.component_id from Job where id is "{0}"'.format(job_id)
).one()
out["final"] = {"status": fresh["status"], "data": json.loads(fresh["data"])}
components = [jc["component"] for jc in fresh["job_components"]]
out["attachments"] = len(components)
download = server_location.get_url(components[0])
resp = requests.get(download)
out["download_status"] = resp.status_code
out["download_bytes"] = len(resp.content)
with open(path, "rb") as fh:
    out["download_matches"] = resp.content == fh.read()

# remove_component: the server accessor's GET /component/remove, then the
# ComponentLocation's delete.
server_location.remove_component(components[0])
session.commit()
out["removed_download_status"] = requests.get(download).status_code

running = session.query('select id from Job where status is "running" and user.username is "{0}"'.format(user)).all()
out["running_left"] = len(running)

session.delete(fresh)
session.commit()
out["deleted"] = len(session.query('Job where id is "{0}"'.format(job_id)).all()) == 0

# The schema cache: a second session with the same cache recomputes the
# cached schemas' hash, finds the server's schema_hash equal, and does not
# ask query_schemas again.
cache = tempfile.mkdtemp()
ftrack_api.Session(server_url=url, api_user=user, api_key=key, auto_connect_event_hub=False,
                   schema_cache_path=cache, plugin_paths=[]).close()
actions = []
original_call = ftrack_api.Session.call


def recording_call(self, data):
    actions.extend(op.get("action") for op in data)
    return original_call(self, data)


ftrack_api.Session.call = recording_call
second = ftrack_api.Session(server_url=url, api_user=user, api_key=key, auto_connect_event_hub=False,
                            schema_cache_path=cache, plugin_paths=[])
ftrack_api.Session.call = original_call
out["second_session_actions"] = actions
out["schema_cache_hit"] = "query_schemas" not in actions and "query_server_information" in actions
second.close()
print(json.dumps(out))
