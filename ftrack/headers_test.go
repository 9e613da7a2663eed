package ftrack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/ftrack"
)

// TestRequestShape checks the headers and the lazy init batch against a
// recording server.
func TestRequestShape(t *testing.T) {
	var mu sync.Mutex
	var headers []http.Header
	var bodies [][]map[string]any
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ops []map[string]any
		_ = json.NewDecoder(r.Body).Decode(&ops)
		mu.Lock()
		headers = append(headers, r.Header.Clone())
		bodies = append(bodies, ops)
		mu.Unlock()
		if r.URL.Path != "/api" || r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		var out []any
		for _, op := range ops {
			switch op["action"] {
			case "query_server_information":
				out = append(out, json.RawMessage(recServerInformation))
			case "query_schemas":
				out = append(out, json.RawMessage("["+recJobSchema+"]"))
			default:
				out = append(out, json.RawMessage(`{"action":"query","data":[],"metadata":{"next":{"offset":null}}}`))
			}
		}
		_ = json.NewEncoder(w).Encode(out)
	}))
	defer hs.Close()
	s, err := ftrack.NewSession(hs.URL+"/", "jane", "k-123456", ftrack.WithStrictAPI(true))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, _, err := ftrack.Query[ftrack.Job](ctx, s, "select id from Job"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ftrack.Query[ftrack.Job](ctx, s, "select id from Job"); err != nil {
		t.Fatal(err)
	}
	if len(headers) != 2 {
		t.Fatalf("%d requests", len(headers))
	}
	h := headers[0]
	for k, want := range map[string]string{"ftrack-user": "jane", "ftrack-api-key": "k-123456", "Content-Type": "application/json",
		"Accept": "application/json", "ftrack-strict-api": "true"} {
		if got := h.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	if len(bodies[0]) != 3 || bodies[0][0]["action"] != "query_server_information" || bodies[0][1]["action"] != "query_schemas" || bodies[0][2]["action"] != "query" {
		t.Errorf("first batch %v", bodies[0])
	}
	if len(bodies[1]) != 1 {
		t.Errorf("second batch %v (init asked again)", bodies[1])
	}
	info, err := s.ServerInformation(ctx)
	if err != nil || info.Version != "dev" || len(headers) != 2 {
		t.Errorf("cached information %+v, %v, %d requests", info, err, len(headers))
	}
}

// TestAPIKeyNeverLogged runs a whole story with a debug logger and errors,
// and looks for the key in everything written.
func TestAPIKeyNeverLogged(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{})
	var logs bytes.Buffer
	l := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, _ := ftrack.NewSession(srv.URL(), adminUser, adminKey, ftrack.WithLogger(l))
	ctx := context.Background()
	job, err := s.CreateJob(ctx, ftrack.CreateJobRequest{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.Attach(ctx, job.ID, "x.txt", strings.NewReader("hello"), 5)
	if err != nil {
		t.Fatal(err)
	}
	rc, _, err := s.Download(ctx, a.ComponentID)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, rc)
	rc.Close()
	var errs []string
	_, _, err = s.Download(ctx, "missing")
	errs = append(errs, err.Error())
	// a server that echoes the key in its error body
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"exception":"ServerError","content":"bad key ` + r.Header.Get("ftrack-api-key") + ` in ?apiKey=` + r.Header.Get("ftrack-api-key") + `","error_code":null}`))
	}))
	defer echo.Close()
	s2, _ := ftrack.NewSession(echo.URL, adminUser, adminKey, ftrack.WithLogger(l), ftrack.WithStrictAPI(true))
	_, err = s2.CreateJob(ctx, ftrack.CreateJobRequest{UserID: "u"})
	errs = append(errs, err.Error())
	_, _, err = s2.Download(ctx, "c")
	errs = append(errs, err.Error())
	if logs.Len() == 0 {
		t.Fatal("nothing logged at debug level")
	}
	for _, text := range append(errs, logs.String()) {
		if strings.Contains(text, adminKey) {
			t.Errorf("api key leaked: %s", text)
		}
	}
}

// TestFetchFollowsServerPaging: a server that caps the page it answers
// (here at one job) is followed through metadata.next, so Fetch loses no
// job, and the expression orders by id to keep the pages stable.
func TestFetchFollowsServerPaging(t *testing.T) {
	var mu sync.Mutex
	var exprs []string
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ops []struct {
			Expression string `json:"expression"`
		}
		if err := json.NewDecoder(r.Body).Decode(&ops); err != nil || len(ops) != 1 {
			http.Error(w, "one query per batch expected", http.StatusBadRequest)
			return
		}
		mu.Lock()
		exprs = append(exprs, ops[0].Expression)
		mu.Unlock()
		page := `{"action":"query","data":[{"__entity_type__":"Job","id":"a","status":"done"}],"metadata":{"next":{"offset":1}}}`
		if strings.Contains(ops[0].Expression, "offset 1 ") {
			page = `{"action":"query","data":[{"__entity_type__":"Job","id":"b","status":"running","data":"{\"description\": \"40%\"}"}],"metadata":{"next":{"offset":null}}}`
		}
		_, _ = io.WriteString(w, "["+page+"]")
	}))
	defer hs.Close()
	s, err := ftrack.NewSession(hs.URL, "jane", "k-123456", ftrack.WithLazyInit(false))
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Fetch(context.Background(), "a", "b")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != "a" || got[1].ID != "b" || got[1].Progress.Percent != 40 || string(got[0].Raw) == "" {
		t.Fatalf("fetched %+v", got)
	}
	want := `select id, status, type, data, user_id, created_at, finished_at from Job where id in ("a", "b") order by id offset 0 limit 2`
	if len(exprs) != 2 || exprs[0] != want || !strings.HasSuffix(exprs[1], " offset 1 limit 2") {
		t.Fatalf("expressions %q", exprs)
	}
}

// TestJobsYieldsAnErrorOnce: a next offset that does not move would page
// forever; List refuses the page and All yields its error once, then
// stops.
func TestJobsYieldsAnErrorOnce(t *testing.T) {
	var requests atomic.Int32
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		_, _ = io.WriteString(w, `[{"action":"query","data":[{"__entity_type__":"Job","id":"a","status":"running"}],"metadata":{"next":{"offset":0}}}]`)
	}))
	defer hs.Close()
	s, err := ftrack.NewSession(hs.URL, "jane", "k-123456", ftrack.WithLazyInit(false))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	var errs []error
	for j, err := range s.All(context.Background(), &ftrack.ListOptions{}) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ids = append(ids, j.ID)
	}
	if len(ids) != 0 || len(errs) != 1 || !errors.Is(errs[0], ftrack.ErrMalformedResponse) || requests.Load() != 1 {
		t.Fatalf("jobs %v, errors %v, %d requests", ids, errs, requests.Load())
	}
}
