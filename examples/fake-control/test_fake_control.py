"""Drive the standalone longrun fake from Python, standard library only.

Run it with:

    LONGRUN_FAKE_BIN=/path/to/longrun-fake python3 -m unittest -v test_fake_control

(without LONGRUN_FAKE_BIN it builds ./cmd/longrun-fake with `go build` when
Go is installed, and skips otherwise). The fake starts with -speed 0: its
clock stands still and the test moves it through the control API, so
nothing here waits on the wall clock.
"""

import base64
import json
import os
import shutil
import subprocess
import tempfile
import unittest
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def fake_binary(tmp):
    path = os.environ.get("LONGRUN_FAKE_BIN")
    if path:
        return path
    if shutil.which("go") is None:
        raise unittest.SkipTest("set LONGRUN_FAKE_BIN or install Go to build longrun-fake")
    out = os.path.join(tmp, "longrun-fake")
    subprocess.run(["go", "build", "-o", out, "./cmd/longrun-fake"], cwd=ROOT, check=True)
    return out


class Fake:
    """A running longrun-fake process and small HTTP helpers."""

    def __init__(self, binary):
        self.proc = subprocess.Popen(
            [binary, "-addr", "127.0.0.1:0", "-speed", "0", "-log-level", "warn"],
            stdout=subprocess.PIPE, text=True)
        self.users = []
        for line in self.proc.stdout:  # blocks until each line is printed
            line = line.strip()
            if line.startswith("longrun fake listening on "):
                self.url = line.split()[4]
            elif line.startswith("control token: "):
                self.token = line.split(": ", 1)[1]
            elif line.startswith("name="):
                self.users.append(dict(kv.split("=", 1) for kv in line.split()))
            elif line == "ready":
                break
        else:
            raise RuntimeError("longrun-fake exited before it was ready")

    def close(self):
        self.proc.terminate()
        self.proc.communicate()  # drains stdout until the process exits
        return self.proc.returncode

    def request(self, method, path, body=None, headers=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers or {})
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as err:
            raw = err.read()
            try:
                return err.code, json.loads(raw)
            except ValueError:
                return err.code, raw.decode()

    def control(self, method, route, body=None):
        return self.request(method, "/_fake/" + route, body, {"Authorization": "Bearer " + self.token})

    def cloudsigma(self, method, path, body=None, user=None):
        user = user or self.users[0]
        basic = base64.b64encode(f"{user['email']}:{user['password']}".encode()).decode()
        return self.request(method, "/api/2.0/" + path, body, {"Authorization": "Basic " + basic})


class FakeControlTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp()
        cls.fake = Fake(fake_binary(cls.tmp))

    @classmethod
    def tearDownClass(cls):
        code = cls.fake.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        assert code == 0, f"longrun-fake exited with {code} on SIGTERM"

    def test_clone_step_fault_reset(self):
        fake = self.fake
        status, health = fake.request("GET", "/_fake/health")
        self.assertEqual((status, health["status"]), (200, "ok"))

        # Clone the seeded server web-1 as CloudSigma's API does it.
        status, servers = fake.cloudsigma("GET", "servers/")
        self.assertEqual(status, 200)
        web1 = next(s for s in servers["objects"] if s["name"] == "web-1")
        status, clone = fake.cloudsigma("POST", f"servers/{web1['uuid']}/action/?do=clone", {})
        self.assertEqual(status, 202, clone)
        job = clone["jobs"][0]["uuid"]
        status, doc = fake.cloudsigma("GET", f"jobs/{job}/")
        self.assertEqual((status, doc["state"], doc["operation"]), (200, "started", "server_clone"))
        self.assertLess(doc["data"]["progress"], 100)

        # Step the clock: a little, then until every job is done.
        status, out = fake.control("POST", "clock", {"action": "advance", "by": "30s"})
        self.assertEqual(status, 200, out)
        self.assertGreater(out["clock"]["running_jobs"]["cloudsigma"], 0)
        status, out = fake.control("POST", "clock", {"action": "run", "limit": "24h"})
        self.assertEqual(status, 200, out)
        self.assertTrue(out["done"])
        self.assertEqual(out["clock"]["running_jobs"]["cloudsigma"], 0)
        status, doc = fake.cloudsigma("GET", f"jobs/{job}/")
        self.assertEqual((doc["state"], doc["data"]["progress"]), ("success", 100))

        # A burst of three 503s on the job, then the job again.
        status, _ = fake.control("POST", "faults", {
            "dialect": "cloudsigma", "method": "GET", "path": f"/api/2.0/jobs/{job}/", "times": 3,
            "status": 503, "body": '{"detail": "maintenance"}', "headers": {"Retry-After": "1"}})
        self.assertEqual(status, 201)
        seen = [fake.cloudsigma("GET", f"jobs/{job}/")[0] for _ in range(4)]
        self.assertEqual(seen, [503, 503, 503, 200])
        status, log = fake.control("GET", "requests?dialect=cloudsigma")
        self.assertEqual([r["status"] for r in log["requests"]][-4:], [503, 503, 503, 200])

        # Reset: the clone and its job are gone, the seeded server is back.
        status, _ = fake.control("POST", "reset")
        self.assertEqual(status, 200)
        status, _ = fake.cloudsigma("GET", f"jobs/{job}/")
        self.assertEqual(status, 404)
        status, servers = fake.cloudsigma("GET", "servers/")
        self.assertEqual([s["name"] for s in servers["objects"]], ["web-1"])

    def test_control_needs_the_token(self):
        status, body = self.fake.request("GET", "/_fake/clock")
        self.assertEqual(status, 401)
        self.assertIn("Bearer", body["error"])


if __name__ == "__main__":
    unittest.main()
