package freezer_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/longrun/longrun/fake/freezer"
	"github.com/longrun/longrun/fake/sim"
)

// FuzzJobsAPI sends an arbitrary body to one jobs route of a backend that
// holds a started job, then lets the agent run for an hour of fake time
// and reads the jobs back: every answer must have one of the real
// server's statuses and a JSON body, and nothing may panic.
//
// Requests are served synchronously: a handler or agent that hangs is
// caught by go test's -timeout, with every goroutine's stack, rather than
// by a wall-clock watchdog that a loaded machine could trip.
func FuzzJobsAPI(f *testing.F) {
	f.Add(0, `{"client_id": "n1", "job_actions": [{"freezer_action": {"action": "backup"}}], "job_schedule": {"schedule_interval": "1 days"}}`)
	f.Add(1, `{"match": [{"client_id": "n1"}], "match_not": [{"status": "stop"}]}`)
	f.Add(2, `{"start": null}`)
	f.Add(2, `{"abort": null}`)
	f.Add(3, `{"job_schedule": {"status": "weird"}, "action_defaults": {"mode": "fs"}}`)
	f.Add(3, `{"job_schedule": {"schedule_date": "2000-01-01T00:00:00"}}`)
	f.Add(4, `{"job_actions": [{"freezer_action": {"action": "x"}, "action_id": "a1"}], "client_id": "h", "job_schedule": {"schedule_interval": "continuous"}}`)
	f.Add(0, `{"job_actions": [null, 5, "x"], "client_id": 5, "job_schedule": []}`)
	f.Add(1, `[1, {"a": 1e999}]`)
	f.Add(18, `{"container": "c", "hostname": "h", "backup_name": "b", "x": [NaN, Infinity, -Infinity, "NaN"], "y": -1E400}`)
	f.Add(0, `{"client_id": "n1", "job_actions": [], "description": NaN, "session_tag": Infinity}`)
	f.Add(5, ``)
	f.Add(6, `{"stop": null}`)
	f.Add(7, `{"client_id": "n1", "hostname": "h"}`)
	f.Add(9, `{"freezer_action": {"action": "b", "mode": "fs"}, "max_retries": 2}`)
	f.Add(10, `{"freezer_action": {"action": 5}}`)
	f.Add(12, `{"schedule": {"schedule_interval": "1 days"}, "jobs": {"j1": {"status": "x"}}}`)
	f.Add(15, `{"start": {"job_id": "j1", "current_tag": 0}}`)
	f.Add(15, `{"end": {"job_id": "j1", "result": "success"}}`)
	f.Add(15, `{"start": {"job_id": "j1", "current_tag": "zz"}}`)
	f.Add(16, `{"start": {"job_id": "j1", "current_tag": 0}}`)
	f.Add(18, `{"container": "c", "hostname": "h", "backup_name": "b", "x": [null]}`)
	f.Add(17, `{"match": [{"_all": "[{\"status\": \"active\"}]"}]}`)
	routes := []struct{ method, path string }{
		{"POST", "/v1/jobs"}, {"GET", "/v1/jobs"}, {"POST", "/v1/jobs/j1/event"},
		{"PATCH", "/v2/p1/jobs/j1"}, {"POST", "/v2/p1/jobs/j1"}, {"DELETE", "/v1/jobs/j1"},
		{"POST", "/v2/p1/jobs/j1/event"},
		{"POST", "/v2/p1/clients"}, {"GET", "/v1/clients"}, {"POST", "/v2/p1/actions"}, {"PATCH", "/v2/p1/actions/a1"},
		{"POST", "/v1/actions/a1"}, {"POST", "/v2/p1/sessions"}, {"PATCH", "/v2/p1/sessions/s1"}, {"POST", "/v2/p1/sessions/s1"},
		{"POST", "/v2/p1/sessions/s1/action"}, {"POST", "/v1/sessions/s1/action"}, {"GET", "/v2/p1/sessions"},
		{"POST", "/v2/p1/backups"}, {"GET", "/v2/p1/backups"}, {"GET", "/v2/p1/actions"},
	}
	known := map[int]bool{200: true, 201: true, 202: true, 204: true, 400: true, 404: true, 405: true, 409: true, 500: true, 753: true}
	const seed = `{"client_id": "n1", "job_actions": [{"freezer_action": {"action": "backup"}}], "job_schedule": {"schedule_interval": "10 minutes"}}`
	f.Fuzz(func(t *testing.T, route int, body string) {
		r := routes[uint(route)%uint(len(routes))]
		// A fresh backend each time: the jobs a POST stores would
		// otherwise pile up and slow every list.
		env := sim.NewEnv(nil, nil, nil)
		b := freezer.New(env)
		defer b.Close()
		mux := http.NewServeMux()
		b.Register(mux)
		tok, _ := b.IssueToken("admin")
		serve := func(method, path, body string) *httptest.ResponseRecorder {
			req := httptest.NewRequest(method, path, strings.NewReader(body))
			req.Header.Set("X-Auth-Token", tok)
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, req)
			return rec
		}
		check := func(method, path, body string, rec *httptest.ResponseRecorder) {
			t.Helper()
			if !known[rec.Code] {
				t.Fatalf("%s %s %q: status %d", method, path, body, rec.Code)
			}
			plain := rec.Code == 500 && rec.Header().Get("Content-Type") == "text/plain"
			// Python's json.dumps writes NaN, Infinity and -Infinity
			// where JSON has no literal; the rest must be JSON.
			if rec.Body.Len() > 0 && !json.Valid([]byte(pyLiterals.Replace(rec.Body.String()))) && !plain {
				t.Fatalf("%s %s %q: body %q", method, path, body, rec.Body.String())
			}
		}
		// Job j1 (project p1, so v1 and v2 both see it), started and
		// scheduled by the agent.
		if rec := serve("POST", "/v2/p1/jobs/j1", seed); rec.Code != 201 {
			t.Fatalf("seed job: %d %s", rec.Code, rec.Body)
		}
		if rec := serve("POST", "/v2/p1/jobs/j1/event", `{"start": null}`); rec.Code != 202 {
			t.Fatalf("seed start: %d %s", rec.Code, rec.Body)
		}
		env.Clock.Advance(freezer.PickupDelay)
		// Session s1 holds j1 and was started once.
		for _, req := range [][3]string{
			{"POST", "/v2/p1/sessions/s1", `{"schedule": {}, "session_tag": 0}`},
			{"PUT", "/v2/p1/sessions/s1/jobs/j1", ""},
			{"POST", "/v2/p1/actions", `{"action_id": "a1", "freezer_action": {"action": "backup"}}`},
		} {
			if rec := serve(req[0], req[1], req[2]); rec.Code >= 300 {
				t.Fatalf("seed %s %s: %d %s", req[0], req[1], rec.Code, rec.Body)
			}
		}

		check(r.method, r.path, body, serve(r.method, r.path, body))

		// The agent acts on whatever is stored now; the documents it
		// leaves still read back.
		env.Clock.Advance(time.Hour)
		tok, _ = b.IssueToken("admin") // the first one expired meanwhile
		for _, p := range []string{"/v1/jobs?limit=100", "/v1/jobs/j1", "/v2/p1/sessions", "/v1/actions", "/v2/p1/backups", "/v1/clients"} {
			rec := serve("GET", p, "")
			check("GET", p, "", rec)
			if rec.Code != 200 && rec.Code != 404 {
				t.Fatalf("GET %s after %s %s %q: %d %s", p, r.method, r.path, body, rec.Code, rec.Body)
			}
		}
	})
}

// pyLiterals turns the literals Python's json.dumps writes for non-finite
// floats into a number, for a JSON validity check.
var pyLiterals = strings.NewReplacer("-Infinity", "0", "Infinity", "0", "NaN", "0")
