package freezer_test

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/fake/sim"
)

// TestConformanceWire sends the same raw HTTP requests
// (testdata/probes/*.py through testdata/probe.py) to the real freezer-api
// 13 and to the fake, on v1 (a server with enable_v1_api) and on v2 (the
// upstream default), and compares every answer: status, Content-Type,
// Allow and the body byte for byte (key order included), once ids, times,
// the host and the SQL statement the real server appends to a storage
// error are masked. The probes cover every route of every resource:
// json-home, 406, OPTIONS, 405, clients, actions, sessions (start, end,
// add and remove a job), backups, the _all search, events, refusals.
func TestConformanceWire(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: starts the real freezer-api (-short)")
	}
	needPython(t, "freezer_api.cmd.api", "python3-freezer-api")
	probes, err := filepath.Glob("testdata/probes/*.py")
	if err != nil || len(probes) == 0 {
		t.Fatalf("no probes: %v", err)
	}
	runner, err := filepath.Abs("testdata/probe.py")
	if err != nil {
		t.Fatal(err)
	}
	u := sim.DefaultUsers()[0]
	for _, v := range []string{"v1", "v2"} {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			prefix := "/v1"
			if v == "v2" {
				prefix = "/v2/" + u.Project
			}
			srv := fake.NewServer(t, fake.Options{Clock: sim.NewClock(sim.Epoch)})
			tok, _ := srv.Freezer().IssueToken(u.Name)
			real := startRealServer(t, v == "v1")
			onReal := probe(t, runner, real, "real-server-ignores-it", prefix, probes)
			onFake := probe(t, runner, srv.URL(), tok, prefix, probes)
			r, f := strings.Split(maskWire(onReal), "\n"), strings.Split(maskWire(onFake), "\n")
			request := ""
			for i := range max(len(r), len(f)) {
				var lr, lf string
				if i < len(r) {
					lr = r[i]
				}
				if i < len(f) {
					lf = f[i]
				}
				if strings.HasPrefix(lr, "== ") {
					request = lr
				}
				if lr != lf {
					t.Errorf("%s answered differently:\nreal: %s\nfake: %s", request, lr, lf)
				}
			}
			t.Logf("%s: %d requests compared", v, strings.Count(onReal, "\n== ")+1)
		})
	}
}

var (
	maskSQL  = regexp.MustCompile(`(?m)\\n\[SQL: .*$`)
	maskHost = regexp.MustCompile(`127\.0\.0\.1:[0-9]+`)
)

// maskWire hides what differs between any two runs.
func maskWire(s string) string {
	s = maskSQL.ReplaceAllString(s, `"}`)
	s = maskHost.ReplaceAllString(s, "HOST")
	return maskCLI(s)
}

// probe runs the probe scripts against the API at base.
func probe(t *testing.T, runner, base, token, prefix string, scripts []string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, debianPython, append([]string{runner, base, token, prefix}, scripts...)...)
	cmd.WaitDelay = 10 * time.Second // a bound on a killed child's pipes, not a sleep
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("probe.py against %s: %v\n%s\n%s", base, err, out, stderr.String())
	}
	return string(out)
}
