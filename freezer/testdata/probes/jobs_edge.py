# Jobs: key order kept, PATCH with job_actions {}, replace of a deleted
# id, an action id reused with another action.
j = req("POST", "{v}/jobs", {"client_id": "n", "job_actions": [{"freezer_action": {"action": "backup", "b": 1, "a": 2}, "max_retries": 1}], "job_schedule": {"schedule_interval": "1 days", "status": "stop"}, "description": "d"}); vars["j"] = j["job_id"]
req("GET", "{v}/jobs/{j}")
req("PATCH", "{v}/jobs/{j}", {"job_actions": {}, "job_schedule": {"result": "fail"}})
req("GET", "{v}/jobs/{j}")
req("DELETE", "{v}/jobs/{j}")
req("POST", "{v}/jobs/{j}", {"client_id": "n", "job_actions": [], "job_schedule": {}})
req("GET", "{v}/jobs/{j}")
req("GET", "{v}/actions")
req("POST", "{v}/jobs", {"client_id": "n", "job_actions": [{"freezer_action": {"action": "backup"}, "action_id": "fixedact"}]})
req("POST", "{v}/jobs", {"client_id": "n", "job_actions": [{"freezer_action": {"action": "restore"}, "action_id": "fixedact"}]})
req("GET", "{v}/jobs?limit=0&offset=-1")
req("GET", "{v}/jobs", {"match_not": [{"status": "stop"}], "match": [{"_all": "[]"}]})
# action_defaults: merged into every action, new keys last in their order.
d = req("POST", "{v}/jobs", {"client_id": "n", "job_actions": [{"freezer_action": {"action": "backup", "zz": 1}}, {"freezer_action": {"action": "restore", "mode": None}}], "action_defaults": {"mode": "fs", "container": "c", "backup_name": "b"}}, show=False)
vars["d"] = d["job_id"]
req("GET", "{v}/jobs/{d}")
