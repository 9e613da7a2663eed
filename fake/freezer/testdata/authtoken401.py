#!/usr/bin/python3
"""Print what keystonemiddleware's auth_token filter (Debian's
python3-keystonemiddleware, which freezer-api's paste pipeline puts in
front of the API) answers a request without a token, for longrun's fake
Freezer conformance test.

Usage: authtoken401.py WWW_AUTHENTICATE_URI

Prints one JSON object: {"status", "headers": [[name, value]...], "body"}.
No request reaches an identity server: a request without a token is
refused before any token is validated.
"""

import json
import logging
import sys

import webob
from keystonemiddleware import auth_token

logging.disable(logging.CRITICAL)


def inner(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json")])
    return [b"{}"]


def main():
    uri = sys.argv[1]
    conf = {"www_authenticate_uri": uri, "delay_auth_decision": False,
            "auth_type": "password", "auth_url": uri,
            "username": "u", "password": "p", "project_name": "p",
            "user_domain_name": "Default", "project_domain_name": "Default",
            "log_name": "authtoken401"}
    app = auth_token.filter_factory({}, **conf)(inner)
    resp = webob.Request.blank("/v2/p/jobs").get_response(app)
    print(json.dumps({"status": resp.status_int,
                      "headers": [[k, v] for k, v in resp.headers.items()],
                      "body": resp.body.decode()}))


if __name__ == "__main__":
    main()
