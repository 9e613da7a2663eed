package freezer_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/longrun/longrun/fake"
)

// debianPython is the interpreter Debian's python3-keystonemiddleware (a
// dependency of python3-freezer-api, .ci/peers-debian.sh) installs into.
const debianPython = "/usr/bin/python3"

// TestUnauthorizedMatchesAuthToken compares the fake's refusal of a
// Freezer API request without a token with what keystonemiddleware's
// auth_token filter (the first filter of freezer-api's paste pipeline
// that answers) sends: status, Content-Type, Content-Length,
// WWW-Authenticate and the body byte for byte; and no
// X-Openstack-Request-Id, which only freezer-api's context middleware,
// behind auth_token, sets.
func TestUnauthorizedMatchesAuthToken(t *testing.T) {
	needPython(t, "keystonemiddleware.auth_token, webob")
	srv := fake.NewServer(t, fake.Options{})
	script, err := filepath.Abs("testdata/authtoken401.py")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, debianPython, script, srv.URL()+"/v3")
	cmd.WaitDelay = 10 * time.Second // a bound on a killed child's pipes, not a sleep
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("authtoken401.py: %v", err)
	}
	var want struct {
		Status  int         `json:"status"`
		Headers [][2]string `json:"headers"`
		Body    string      `json:"body"`
	}
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatalf("authtoken401.py printed %q: %v", out, err)
	}
	for _, path := range []string{"/v2/f1e2d3c4b5a6978812345678abcdef01/jobs", "/v1/jobs", "/v2"} {
		for _, tok := range []string{"", "not-a-token"} {
			req, _ := http.NewRequest(http.MethodGet, srv.URL()+path, nil)
			if tok != "" {
				req.Header.Set("X-Auth-Token", tok)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body := string(data)
			if resp.StatusCode != want.Status || body != want.Body {
				t.Errorf("GET %s token %q: %d %s\nauth_token: %d %s", path, tok, resp.StatusCode, body, want.Status, want.Body)
			}
			for _, h := range want.Headers {
				if got := resp.Header.Get(h[0]); got != h[1] {
					t.Errorf("GET %s token %q: %s %q, auth_token sends %q", path, tok, h[0], got, h[1])
				}
			}
			if got := resp.Header.Get("X-Openstack-Request-Id"); got != "" {
				t.Errorf("GET %s token %q: X-Openstack-Request-Id %q; auth_token refuses before freezer-api's context middleware names the request", path, tok, got)
			}
			if cl := resp.Header.Get("Content-Length"); cl != strconv.Itoa(len(want.Body)) {
				t.Errorf("GET %s: Content-Length %s", path, cl)
			}
		}
	}
}
