package truenas_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/longrun/longrun/fake/sim"
	"github.com/longrun/longrun/fake/truenas"
)

// The reference client judges the fake: truenas/api_client (not packaged
// by Debian) runs against it when LONGRUN_TRUENAS_API_CLIENT names a
// directory holding its truenas_api_client package; it needs python3
// with the websocket module (Debian: python3-websocket).
const refScript = `
import sys, inspect, threading, websocket
# Debian 12's websocket-client 1.2.3 predates WebSocketApp(socket=...),
# which the reference client passes only for reserved ports: drop it.
if 'socket' not in inspect.signature(websocket.WebSocketApp.__init__).parameters:
    _init = websocket.WebSocketApp.__init__
    def _compat(self, *a, socket=None, **kw):
        _init(self, *a, **kw)
    websocket.WebSocketApp.__init__ = _compat
from truenas_api_client import Client, ValidationErrors, ClientException
from truenas_api_client.auth_api_key import APIKeyAuthMech
uri, how, transient_events = sys.argv[1], sys.argv[2], sys.argv[3] == 'yes'
with Client(uri) as c:
    print('client', type(c).__name__)
    if how == 'password':
        c.login_with_password('admin', 'secret')
    elif how == 'scram':
        c.login_with_api_key('admin', '1-longrunfakeapikey', channel_binding=False)
    else:
        c.login_with_api_key('admin', '1-longrunfakeapikey', APIKeyAuthMech.PLAIN)
    print('ping', c.call('core.ping'))
    try:
        c.call('core.ping', 'x')
    except ValidationErrors as e:
        print('args', e.errors[0].errmsg)
    except ClientException as e:
        print('args', e.error)
    print('version', c.call('system.version'))
    print('copy', c.call('filesystem.copy', '/mnt/tank/a', '/mnt/tank/b', job=True))
    j = c.call('core.get_jobs', [['id', '=', 1]], {'get': True})
    print('job', j['id'], j['state'], j['progress']['percent'], j['progress']['description'],
          'message_ids' in j, j['time_finished'] is not None, j['credentials']['type'])
    try:
        c.call('filesystem.copy', '/tmp/x', '/mnt/tank/b', job=True)
    except ValidationErrors as e:
        print('validation', e.errors[0].attribute, e.errors[0].errcode)
    try:
        c.call('filesystem.copy', '/mnt/tank/missing', '/mnt/tank/b', job=True)
    except ClientException as e:
        print('exception', e.trace['class'] if e.trace else None)
    print('count', c.call('core.get_jobs', [['state', 'in', ['SUCCESS', 'FAILED']]], {'count': True}))
    print('in', [j['id'] for j in c.call('core.get_jobs', [['id', 'in', list(range(2, 40))]])],
          c.call('core.get_jobs', [['id', 'nin', list(range(2, 40))]], {'count': True}))
    # midclt call -j: the callback sees every progress event.
    seen = threading.Event()
    def progress(job):
        if job['progress']['percent'] == 100:
            seen.set()
    print('progress', c.call('filesystem.copy', '/mnt/tank/a', '/mnt/tank/c', job=True, callback=progress), seen.wait(5))
    j = c.call('filesystem.copy', '/mnt/tank/a', '/mnt/tank/d', job='RETURN')
    c.call('core.job_abort', j.job_id)
    try:
        j.result()
    except ClientException as e:
        print('aborted', e.error)
    # A plain call of a job method answers the job id.
    vid = c.call('filesystem.copy', '/tmp/x', '/mnt/tank/e')
    try:
        c.call('core.job_wait', vid, job=True)
    except ClientException as e:
        print('job_wait', type(e).__name__, e.trace['class'], repr(e.error))
    try:
        c.call('core.job_abort', 9999)
    except ValidationErrors as e:
        print('missing', type(e).__name__, e.errors[0].errmsg)
    except ClientException as e:
        print('missing', type(e).__name__, e.error, e.trace['class'])
    # count is taken before offset and limit; the last order_by key sorts first.
    print('page', c.call('core.get_jobs', [], {'count': True, 'limit': 1}),
          [x['id'] for x in c.call('core.get_jobs', [['id', '<=', 4]], {'order_by': ['-id', 'state'], 'select': ['id', 'state']})])
    if transient_events:
        print('scrub', c.call('pool.scrub', 1, 'START', job=True))
`

// TestReferenceClient runs truenas/api_client against the fake: its
// JSONRPCClient on /api/current (password, plain API key and, on 26.0,
// its default SCRAM API-key login) and its LegacyClient on /websocket
// (chosen by the URL, as the client chooses it). Beyond calls, job=True
// and core.get_jobs filters, it runs what midclt and the client's users
// do: a job progress callback (midclt call -j), job='RETURN' then
// core.job_abort, core.job_wait on a failed job, a missing job id,
// count with paging and a two-key order_by, and job=True on a transient
// job.
func TestReferenceClient(t *testing.T) {
	dir := os.Getenv("LONGRUN_TRUENAS_API_CLIENT")
	if dir == "" {
		t.Skip("LONGRUN_TRUENAS_API_CLIENT is not set (a checkout of truenas/api_client)")
	}
	py, err := exec.LookPath("/usr/bin/python3")
	if err != nil {
		t.Skip("no /usr/bin/python3")
	}
	if out, err := exec.Command(py, "-c", "import websocket").CombinedOutput(); err != nil {
		t.Skipf("python3 has no websocket module (apt-get install python3-websocket): %s", out)
	}
	for _, tc := range []struct {
		v      truenas.Version
		path   string
		how    string
		client string
	}{
		{truenas.Version2510, "/api/current", "password", "JSONRPCClient"},
		{truenas.Version2504, "/api/current", "plain", "JSONRPCClient"},
		{truenas.Version2600, "/api/current", "scram", "JSONRPCClient"},
		{truenas.Version2410, "/websocket", "password", "LegacyClient"},
		{truenas.Version2504, "/websocket", "plain", "LegacyClient"},
		{truenas.Version2600, "/websocket", "plain", "LegacyClient"},
	} {
		t.Run(string(tc.v)+tc.path+"-"+tc.how, func(t *testing.T) { runReference(t, py, dir, tc.v, tc.path, tc.how, tc.client) })
	}
}

func runReference(t *testing.T, py, dir string, v truenas.Version, path, how, client string) {
	// Wall-clock scaled time: the reference client waits on real time
	// (slow enough that core.job_abort finds its copy running).
	env := sim.NewEnv(sim.NewScaledClock(200), nil, nil)
	b := truenas.New(env)
	b.SetVersion(v)
	mux := http.NewServeMux()
	b.Register(mux)
	hs := httptest.NewServer(mux)
	defer func() {
		hs.CloseClientConnections()
		b.Close()
		hs.Close()
	}()
	url := "ws" + strings.TrimPrefix(hs.URL, "http") + path
	// Transient jobs send events up to 25.10 only; without them
	// job=True on pool.scrub never ends (the client waits for the event).
	transient := "yes"
	if v == truenas.Version2600 {
		transient = "no"
	}
	// A client left waiting for an event that never comes fails the test
	// rather than hanging it.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, "-c", refScript, url, how, transient)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("reference client failed: %v\n%s", err, out)
	}
	// ValidationErrors: the client reads the first error's message.
	args := "Too many arguments (expected 0, found 1)"
	if v == truenas.Version2410 {
		args = "[EFAULT] Too many arguments (expected 0, found 1)"
	}
	cred := "LOGIN_PASSWORD"
	if how != "password" {
		cred = "API_KEY"
	}
	versions := map[truenas.Version]string{truenas.Version2410: "TrueNAS-SCALE-24.10.2", truenas.Version2504: "TrueNAS-25.04.2",
		truenas.Version2510: "TrueNAS-25.10.1", truenas.Version2600: "TrueNAS-26.0.0"}
	// A missing job id: KeyError before 25.10, InstanceNotFound after.
	missing := "missing ValidationErrors Job with id 9999 does not exist"
	if v == truenas.Version2410 || v == truenas.Version2504 {
		missing = "missing ClientException 9999 KeyError"
	}
	msgIDs := "True"
	if v == truenas.Version2410 || v == truenas.Version2504 {
		msgIDs = "False"
	}
	want := []string{
		"client " + client,
		"ping pong",
		"args " + args,
		"version " + versions[v],
		"copy True",
		"job 1 SUCCESS 100 Copied 2000000 of 2000000 bytes " + msgIDs + " True " + cred,
		"validation filesystem.copy.src 22",
		"exception FileNotFoundError",
		"count 3",
		"in [2, 3] 1",
		"progress True True",
		"aborted Job 5 did not succeed (state='ABORTED')",
		"job_wait ClientException CallError '[EFAULT] [EINVAL] filesystem.copy.src: Path must reside within a pool mount point\\n'",
		missing,
		"page 7 [3, 2, 4, 1]",
	}
	if transient == "yes" {
		want = append(want, "scrub None")
	}
	got := strings.Split(strings.TrimSpace(string(out)), "\n")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("reference client saw:\n%s\nwant:\n%s", out, strings.Join(want, "\n"))
	}
}
