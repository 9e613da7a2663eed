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
uri = sys.argv[1]
with Client(uri) as c:
    c.login_with_password('admin', 'secret')
    print('ping', c.call('core.ping'))
    print('copy', c.call('filesystem.copy', '/mnt/tank/a', '/mnt/tank/b', job=True))
    j = c.call('core.get_jobs', [['id', '=', 1]], {'get': True})
    print('job', j['id'], j['state'], j['progress']['percent'], j['message_ids'] != [])
    try:
        c.call('filesystem.copy', '/tmp/x', '/mnt/tank/b', job=True)
    except ValidationErrors as e:
        print('validation', e.errors[0].attribute, e.errors[0].errcode)
    try:
        c.call('filesystem.copy', '/mnt/tank/missing', '/mnt/tank/b', job=True)
    except ClientException as e:
        print('exception', e.trace['class'] if e.trace else None)
    print('count', c.call('core.get_jobs', [['state', 'in', ['SUCCESS', 'FAILED']]], {'count': True}))
`

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
	for _, v := range []truenas.Version{truenas.Version2510, truenas.Version2504} {
		t.Run(string(v), func(t *testing.T) { runReference(t, py, dir, v) })
	}
}

func runReference(t *testing.T, py, dir string, v truenas.Version) {
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
	url := "ws" + strings.TrimPrefix(hs.URL, "http") + "/api/current"
	cmd := exec.Command(py, "-c", refScript, url)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("reference client failed: %v\n%s", err, out)
	}
	want := []string{
		"ping pong",
		"copy True",
		"job 1 SUCCESS 100 True",
		"validation filesystem.copy.src 22",
		"exception FileNotFoundError",
		"count 3",
	}
	got := strings.Split(strings.TrimSpace(string(out)), "\n")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("reference client saw:\n%s\nwant:\n%s", out, strings.Join(want, "\n"))
	}
}
