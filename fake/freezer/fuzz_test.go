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

// FuzzJobsAPI sends arbitrary bodies to every jobs route of the backend:
// it must answer with one of the real server's statuses and a JSON body,
// never panic.
func FuzzJobsAPI(f *testing.F) {
	f.Add(0, `{"client_id": "n1", "job_actions": [{"freezer_action": {"action": "backup"}}], "job_schedule": {"schedule_interval": "1 days"}}`)
	f.Add(1, `{"match": [{"client_id": "n1"}], "match_not": [{"status": "stop"}]}`)
	f.Add(2, `{"start": null}`)
	f.Add(3, `{"job_schedule": {"status": "weird"}, "action_defaults": {"mode": "fs"}}`)
	f.Add(4, `{"job_actions": [{"freezer_action": {"action": "x"}, "action_id": "a1"}], "client_id": "h", "job_schedule": {}}`)
	f.Add(0, `{"job_actions": [null, 5, "x"], "client_id": 5, "job_schedule": []}`)
	f.Add(1, `[1, {"a": 1e999}]`)
	routes := []struct{ method, path string }{
		{"POST", "/v1/jobs"}, {"GET", "/v1/jobs"}, {"POST", "/v1/jobs/j1/event"},
		{"PATCH", "/v2/p1/jobs/j1"}, {"POST", "/v2/p1/jobs/j1"},
	}
	known := map[int]bool{200: true, 201: true, 202: true, 204: true, 400: true, 404: true, 500: true, 753: true}
	f.Fuzz(func(t *testing.T, route int, body string) {
		route %= 5
		if route < 0 {
			route = -route
		}
		r := routes[route%len(routes)]
		// A fresh backend each time: the jobs a POST stores would
		// otherwise pile up and slow every list.
		b := freezer.New(sim.NewEnv(nil, nil, nil))
		mux := http.NewServeMux()
		b.Register(mux)
		tok, _ := b.IssueToken("admin")
		req := httptest.NewRequest(r.method, r.path, strings.NewReader(body))
		req.Header.Set("X-Auth-Token", tok)
		rec := httptest.NewRecorder()
		done := make(chan struct{})
		go func() { mux.ServeHTTP(rec, req); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second): // a watchdog, not a pause
			t.Fatalf("%s %s %q: no answer", r.method, r.path, body)
		}
		if !known[rec.Code] {
			t.Fatalf("%s %s %q: status %d", r.method, r.path, body, rec.Code)
		}
		if rec.Body.Len() > 0 && !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s %s %q: body %q", r.method, r.path, body, rec.Body.String())
		}
	})
}
