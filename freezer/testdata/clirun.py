#!/usr/bin/python3
"""Run a scripted session of the real `freezer` command line (Debian's
python3-freezerclient) against a Freezer API, for longrun's command-line
conformance test.

Usage: clirun.py BACKUP_URL AUTH_URL API_VERSION < SCRIPT

SCRIPT is a JSON document {"files": {NAME: DOCUMENT}, "steps": [STEP]};
each STEP is {"args": [...], "capture": NAME?}. In args, "@NAME" is the
path of a file holding DOCUMENT NAME (as JSON) and "{NAME}" is an id an
earlier step captured: the first 32-hex-digit word of its output. Every
step runs the command line's own entry point (FreezerShell().run), in
this one process, with the given Keystone (AUTH_URL, user admin) and
Freezer endpoint. One JSON line per step on stdout:
{"args": [...], "code": EXIT, "out": STDOUT, "err": STDERR}.
"""

import contextlib
import io
import json
import logging
import os
import re
import sys
import tempfile

from freezerclient import shell

HEX = re.compile(r"\b[0-9a-f]{32}\b")


def main():
    backup_url, auth_url, version = sys.argv[1:4]
    script = json.load(sys.stdin)
    tmp = tempfile.mkdtemp(prefix="freezer-cli-")
    paths = {}
    for name, doc in script.get("files", {}).items():
        path = os.path.join(tmp, name + ".json")
        with open(path, "w") as f:
            json.dump(doc, f)
        paths[name] = path
    common = ["--os-auth-url", auth_url, "--os-username", "admin",
              "--os-password", "secret", "--os-project-name", "admin",
              "--os-user-domain-name", "Default",
              "--os-project-domain-name", "Default",
              "--os-backup-url", backup_url,
              "--os-backup-api-version", version]
    ids = {}
    for step in script["steps"]:
        args = []
        for a in step["args"]:
            if a.startswith("@"):
                a = paths[a[1:]]
            for k, v in ids.items():
                a = a.replace("{" + k + "}", v)
            args.append(a)
        root = logging.getLogger("")
        for h in list(root.handlers):
            root.removeHandler(h)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = shell.FreezerShell().run(common + args)
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else 1
            except Exception as e:  # a crash is an answer too
                code = 99
                print("exception: %s" % type(e).__name__, file=sys.stderr)
        text = out.getvalue()
        if step.get("capture"):
            m = HEX.search(text + err.getvalue())
            ids[step["capture"]] = m.group(0) if m else "none"
        print(json.dumps({"args": step["args"], "code": code,
                          "out": text, "err": err.getvalue()}), flush=True)


if __name__ == "__main__":
    main()
