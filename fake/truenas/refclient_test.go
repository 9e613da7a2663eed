package truenas_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/longrun/longrun/fake/sim"
	"github.com/longrun/longrun/fake/truenas"
)

// The reference client judges the fake: truenas/api_client (not packaged
// by Debian) runs against it when LONGRUN_TRUENAS_API_CLIENT names a
// directory holding its truenas_api_client package; it needs python3
// with the websocket module (Debian: python3-websocket).
const refScript = `
import sys, inspect, websocket
# Debian 12's websocket-client 1.2.3 predates WebSocketApp(socket=...),
# which the reference client passes only for reserved ports: drop it.
if 'socket' not in inspect.signature(websocket.WebSocketApp.__init__).parameters:
    _init = websocket.WebSocketApp.__init__
    def _compat(self, *a, socket=None, **kw):
        _init(self, *a, **kw)
    websocket.WebSocketApp.__init__ = _compat
from truenas_api_client import Client, ValidationErrors, ClientException
from truenas_api_client.auth_api_key import APIKeyAuthMech
uri, how = sys.argv[1], sys.argv[2]
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
`

// TestReferenceClient runs truenas/api_client against the fake: its
// JSONRPCClient on /api/current (password, plain API key and, on 26.0,
// its default SCRAM API-key login) and its LegacyClient on /websocket
// (chosen by the URL, as the client chooses it).
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
	// Wall-clock scaled time: the reference client waits on real time.
	env := sim.NewEnv(sim.NewScaledClock(1000), nil, nil)
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
	cmd := exec.Command(py, "-c", refScript, url, how)
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
	}
	got := strings.Split(strings.TrimSpace(string(out)), "\n")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("reference client saw:\n%s\nwant:\n%s", out, strings.Join(want, "\n"))
	}
}
