# Job events on schedules that lack the keys the event sets: freezer-api's
# Job.start/stop/abort assign into the stored dict, so a key it lacked
# goes last (event, then status and result for a start).
e = req("POST", "{v}/jobs", {"client_id": "n", "job_actions": [], "job_schedule": {}}, show=False); vars["e"] = e["job_id"]
req("POST", "{v}/jobs/{e}/event", {"start": None})
req("GET", "{v}/jobs/{e}")
req("POST", "{v}/jobs/{e}/event", {"abort": None})
req("GET", "{v}/jobs/{e}")
r = req("POST", "{v}/jobs", {"client_id": "n", "job_actions": [], "job_schedule": {"result": "fail", "schedule_interval": "1 days"}}, show=False); vars["r"] = r["job_id"]
req("POST", "{v}/jobs/{r}/event", {"stop": None})
req("POST", "{v}/jobs/{r}/event", {"start": None})
req("GET", "{v}/jobs/{r}")
req("GET", "{v}/jobs", {"match": [{"event": "start"}]})
