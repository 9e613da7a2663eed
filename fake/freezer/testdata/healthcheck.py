#!/usr/bin/python3
"""Print what oslo.middleware's Healthcheck app (Debian's
python3-oslo.middleware), mounted at /healthcheck by freezer-api's
freezer-paste.ini with backends = disable_by_file, answers each request
of a list, for longrun's fake Freezer conformance test.

Usage: healthcheck.py < REQUESTS

REQUESTS is a JSON list of [method, path, accept]; prints a JSON list of
{"status", "content_type", "body"}, one per request.
"""

import json
import logging
import sys

import webob
from oslo_middleware import healthcheck

logging.disable(logging.CRITICAL)


def main():
    app = healthcheck.Healthcheck.app_factory(
        {}, backends="disable_by_file",
        disable_by_file_path="/nonexistent/freezer/healthcheck_disable")
    out = []
    for method, path, accept in json.load(sys.stdin):
        req = webob.Request.blank(path, method=method)
        if accept:
            req.headers["Accept"] = accept
        resp = req.get_response(app)
        out.append({"status": resp.status_int,
                    "content_type": resp.headers.get("Content-Type", ""),
                    "body": resp.body.decode()})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
