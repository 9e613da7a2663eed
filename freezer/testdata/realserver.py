#!/usr/bin/python3
"""Run the real OpenStack freezer-api (Debian's python3-freezer-api) on
loopback for longrun's conformance tests.

Usage: realserver.py WORKDIR [PORT]

It writes WORKDIR/freezer-api.conf (storage driver sqlalchemy, sqlite in
WORKDIR), creates the schema, builds the v1 and v2 falcon apps, and serves
them with paste.httpserver on 127.0.0.1:PORT (0 picks a free port). The
Keystone auth middleware is replaced by a fixed identity: every request is
treated as confirmed, for the user, user name and project given in the
X-User-ID, X-User-Name and X-Project-ID request headers when present, else
the defaults below (as keystonemiddleware would set them). GET / answers
the version document, as the VersionNegotiator filter does. Once
listening it prints one line "LISTENING http://127.0.0.1:PORT" on stdout.

FREEZER_ENABLE_V1=False runs the upstream default (v2 only; v1 creates then
fail their own schema check); the default here is True.

FREEZER_EXIT_ON_STDIN_EOF=1 makes the server exit when its stdin closes:
the Go test holds it open, so the server ends with the test process even
when that process dies without cleaning up.
"""

import os
import subprocess
import sys

DEFAULT_USER = os.environ.get("FREEZER_DEFAULT_USER", "5b4a69a3-8e78-4c45-a8ba-8b13f0895e23")
DEFAULT_PROJECT = "f1e2d3c4b5a6978812345678abcdef01"
DEFAULT_USER_NAME = os.environ.get("FREEZER_DEFAULT_USER_NAME", "admin")


def write_config(workdir):
    conf = os.path.join(workdir, "freezer-api.conf")
    db = os.path.join(workdir, "freezer.sqlite")
    with open(conf, "w") as f:
        f.write("[DEFAULT]\n")
        f.write("enable_v1_api = %s\n" % os.environ.get("FREEZER_ENABLE_V1", "True"))
        f.write("log_file = %s\n" % os.path.join(workdir, "freezer-api.log"))
        f.write("[storage]\ndriver = sqlalchemy\n")
        f.write("[database]\nconnection = sqlite:///%s\n" % db)
    return conf


def db_sync(conf):
    manage = "/usr/bin/freezer-manage"
    cmd = [manage, "--config-file", conf, "db", "sync"]
    if not os.path.exists(manage):
        cmd = [sys.executable, "-m", "freezer_api.cmd.manage",
               "--config-file", conf, "db", "sync"]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def identity(root, prefix_apps):
    def wsgi(environ, start_response):
        environ["HTTP_X_IDENTITY_STATUS"] = "Confirmed"
        environ.setdefault("HTTP_X_USER_ID", DEFAULT_USER)
        environ.setdefault("HTTP_X_PROJECT_ID", DEFAULT_PROJECT)
        environ.setdefault("HTTP_X_ROLES", "admin,member")
        environ.setdefault("HTTP_X_USER_NAME", DEFAULT_USER_NAME)
        path = environ.get("PATH_INFO", "")
        if path == "/" and root is not None:
            # The version document, as the VersionNegotiator filter of
            # freezer-api's paste pipeline answers it.
            return root(environ, start_response)
        for prefix, sub in prefix_apps:
            if path == prefix or path.startswith(prefix + "/"):
                environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + prefix
                environ["PATH_INFO"] = path[len(prefix):] or "/"
                return sub(environ, start_response)
        start_response("404 Not Found", [("Content-Type", "application/json")])
        return [b'{"title": "Not Found"}']
    return wsgi


def exit_when_stdin_closes():
    import threading

    def watch():
        try:
            while sys.stdin.buffer.read(4096):
                pass
        finally:
            os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def main():
    if os.environ.get("FREEZER_EXIT_ON_STDIN_EOF") == "1":
        exit_when_stdin_closes()
    workdir = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    conf = write_config(workdir)
    db_sync(conf)

    from freezer_api.cmd import api
    from freezer_api.common import config
    config.parse_args(["--config-file", conf])
    config.setup_logging()
    v1 = api.build_app_v1()
    v2 = api.build_app_v2()
    from freezer_api.api import versions
    app = identity(versions.api_versions(), [("/v1", v1), ("/v2", v2)])

    from paste import httpserver
    server = httpserver.serve(app, host="127.0.0.1", port=str(port),
                              start_loop=False)
    print("LISTENING http://127.0.0.1:%d" % server.server_port, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
