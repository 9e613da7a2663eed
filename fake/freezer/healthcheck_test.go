package freezer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/longrun/longrun/fake"
)

// TestHealthcheckMatchesOslo sends the same requests to the fake's
// /healthcheck and to oslo.middleware's Healthcheck app as freezer-api's
// freezer-paste.ini configures it, and compares status, Content-Type and
// body.
func TestHealthcheckMatchesOslo(t *testing.T) {
	needPython(t, "oslo_middleware.healthcheck, webob")
	reqs := [][3]string{
		{"GET", "/healthcheck", ""},
		{"HEAD", "/healthcheck", ""},
		{"POST", "/healthcheck", ""},
		{"GET", "/healthcheck", "application/json"},
		{"GET", "/healthcheck", "text/html"},
		{"GET", "/healthcheck", "application/json, text/plain"},
		{"GET", "/healthcheck", "application/json;q=0.9, text/html;q=0.9"},
		{"GET", "/healthcheck", "*/*"},
		{"GET", "/healthcheck", "text/*"},
		{"GET", "/healthcheck", "application/*"},
		{"GET", "/healthcheck", "image/png"},
		{"GET", "/healthcheck", "text/plain;q=0, */*;q=0.5"},
		{"GET", "/healthcheck/", ""},
		{"GET", "/healthcheck/anything", "application/json"},
	}
	in, _ := json.Marshal(reqs)
	script, err := filepath.Abs("testdata/healthcheck.py")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, debianPython, script)
	cmd.WaitDelay = 10 * time.Second // a bound on a killed child's pipes, not a sleep
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("healthcheck.py: %v", err)
	}
	var want []struct {
		Status      int    `json:"status"`
		ContentType string `json:"content_type"`
		Body        string `json:"body"`
	}
	if err := json.Unmarshal(out, &want); err != nil || len(want) != len(reqs) {
		t.Fatalf("healthcheck.py printed %q: %v", out, err)
	}
	srv := fake.NewServer(t, fake.Options{})
	for i, rq := range reqs {
		req, _ := http.NewRequest(rq[0], srv.URL()+rq[1], nil)
		if rq[2] != "" {
			req.Header.Set("Accept", rq[2])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		w := want[i]
		if resp.StatusCode != w.Status || resp.Header.Get("Content-Type") != w.ContentType || string(body) != w.Body {
			t.Errorf("%s %s Accept %q:\nfake: %d %q %q\noslo: %d %q %q", rq[0], rq[1], rq[2],
				resp.StatusCode, resp.Header.Get("Content-Type"), body, w.Status, w.ContentType, w.Body)
		}
	}
}

// needPython skips the test unless Debian's python3 can import modules
// (python3-freezer-api brings them; .ci/peers-debian.sh installs it).
func needPython(t *testing.T, modules string) {
	t.Helper()
	if out, err := exec.Command(debianPython, "-c", "import "+modules).CombinedOutput(); err != nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		t.Skipf("skipping: %s cannot import %s (%s); install the Debian package python3-freezer-api (.ci/peers-debian.sh)", debianPython, modules, lines[len(lines)-1])
	}
}
