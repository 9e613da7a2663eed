package ftrack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/longrun/longrun/fake/sim"
)

// serve starts the backend behind an httptest server.
func serve(t *testing.T) (*Backend, *httptest.Server) {
	t.Helper()
	b := New(sim.NewEnv(nil, nil, nil))
	t.Cleanup(b.Close)
	mux := http.NewServeMux()
	b.Register(mux)
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	return b, hs
}

// post sends body to /api as the seeded admin and decodes the answer.
func post(t *testing.T, hs *httptest.Server, body io.Reader, strict bool) (int, any) {
	t.Helper()
	req, _ := http.NewRequest("POST", hs.URL+"/api", body)
	req.Header.Set("ftrack-user", "admin")
	req.Header.Set("ftrack-api-key", "1-longrunfakeapikey")
	if strict {
		req.Header.Set("ftrack-strict-api", "true")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("status %d: %v", resp.StatusCode, err)
	}
	return resp.StatusCode, out
}

// allocated runs f and returns the bytes the process allocated meanwhile
// (every goroutine, the server's too).
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func exception(t *testing.T, v any) (string, string) {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("answer is not an error object: %.200v", v)
	}
	e, _ := m["exception"].(string)
	c, _ := m["content"].(string)
	return e, c
}

// The million-parenthesis expression and the 100,000-operation batch are
// refused with clear errors in the server's shape, within bounded memory,
// and the server answers the next request.
func TestHostileRequests(t *testing.T) {
	_, hs := serve(t)

	expr := "Job where " + strings.Repeat("(", 1_000_000) + `status is "done"` + strings.Repeat(")", 1_000_000)
	body, _ := json.Marshal([]map[string]any{{"action": "query", "expression": expr}})
	var status int
	var answer any
	alloc := allocated(func() { status, answer = post(t, hs, bytes.NewReader(body), true) })
	exc, content := exception(t, answer)
	if status != http.StatusBadRequest || exc != "ParseError" || !strings.Contains(content, "nested deeper than 64 levels") {
		t.Errorf("million parentheses: %d %s: %.300s", status, exc, content)
	}
	if len(content) > 1000 {
		t.Errorf("the error echoes %d bytes of the expression", len(content))
	}
	// The body itself is 2 MB; the server reads it once and parses 64 levels.
	if alloc > 32<<20 {
		t.Errorf("million parentheses allocated %d MiB", alloc>>20)
	}
	t.Logf("million parentheses (%d KiB of JSON): %s, %.1f MiB allocated", len(body)>>10, exc, float64(alloc)/(1<<20))

	var batch bytes.Buffer
	batch.WriteString("[")
	for i := range 100_000 {
		if i > 0 {
			batch.WriteString(",")
		}
		fmt.Fprintf(&batch, `{"action":"create","entity_type":"Job","entity_data":{"status":"running","user_id":"5b4a69a3-8e78-4c45-a8ba-8b13f0895e23","data":"{\"description\": \"job %d\"}"}}`, i)
	}
	batch.WriteString("]")
	size := batch.Len()
	alloc = allocated(func() { status, answer = post(t, hs, &batch, false) })
	exc, content = exception(t, answer)
	if status != http.StatusOK || exc != "ServerError" || !strings.Contains(content, "Too many operations in one request: the limit is 10000") {
		t.Errorf("100,000 operations: %d %s: %s", status, exc, content)
	}
	// It stops decoding at the 10,001st operation: far less than the
	// whole batch decoded into maps would take.
	if alloc > 64<<20 {
		t.Errorf("100,000 operations (%d MiB of JSON) allocated %d MiB", size>>20, alloc>>20)
	}
	t.Logf("100,000 operations (%.1f MiB of JSON): %s, %.1f MiB allocated", float64(size)/(1<<20), exc, float64(alloc)/(1<<20))

	status, answer = post(t, hs, strings.NewReader(`[{"action":"query","expression":"select id from Job"}]`), true)
	if list, ok := answer.([]any); status != 200 || !ok || len(list) != 1 {
		t.Fatalf("after the hostile requests: %d %.200v", status, answer)
	}
	if data := answer.([]any)[0].(map[string]any)["data"].([]any); len(data) != 0 {
		t.Errorf("the refused batch created %d jobs", len(data))
	}
}

func TestQueryLimits(t *testing.T) {
	b := seeded(t)
	b.SetLimits(Limits{MaxQueryTerms: 3, MaxInValues: 2, MaxResults: 3, MaxQueryDepth: 2})
	for expr, want := range map[string]string{
		`select id from Job where status is done and status is done and status is done and status is done`: "more than 3 criteria",
		`select id from Job where id in ("a", "b", "c")`:                                                   "more than 2 values",
		`select id from Job where ((status is done))`:                                                      "nested deeper than 2 levels",
		`select id from Job where not not not status is done`:                                              "nested deeper than 2 levels",
	} {
		_, aerr := b.query(context.Background(), &txn{limits: b.limits}, expr)
		if aerr == nil || aerr.Exception != "ParseError" || !strings.Contains(aerr.Content, want) {
			t.Errorf("%s: %v", expr, aerr)
		}
	}
	tx := &txn{limits: b.limits}
	if _, aerr := b.query(context.Background(), tx, `select id from Job limit 2`); aerr != nil {
		t.Fatal(aerr)
	}
	// Results count over the whole request.
	_, aerr := b.query(context.Background(), tx, `select id from Job limit 2`)
	if aerr == nil || aerr.Exception != "ServerError" || !strings.Contains(aerr.Content, "at most 3") {
		t.Errorf("result limit: %v", aerr)
	}
}

// bigBackend holds n jobs, inserted directly.
func bigBackend(t testing.TB, n int) *Backend {
	b := New(sim.NewEnv(nil, nil, nil))
	t.Cleanup(b.Close)
	for i := range n {
		b.insert(nil, types["Job"], entity{"id": fmt.Sprintf("job-%06d", i), "status": "running", "type": "api_job",
			"user_id": "5b4a69a3-8e78-4c45-a8ba-8b13f0895e23", "data": nil, "created_at": b.now(), "finished_at": nil})
	}
	return b
}

// A 10,000-value in list over 100,000 jobs answers at once: the list is
// converted once per query into a set.
func TestLargeInList(t *testing.T) {
	b := bigBackend(t, 100_000)
	ids := make([]string, 10_000)
	for i := range ids {
		ids[i] = fmt.Sprintf(`"job-%06d"`, i*10)
	}
	res, aerr := b.query(context.Background(), &txn{limits: DefaultLimits}, "select id from Job where id in ("+strings.Join(ids, ",")+")")
	if aerr != nil {
		t.Fatal(aerr)
	}
	if n := len(res.(map[string]any)["data"].([]any)); n != 10_000 {
		t.Errorf("%d jobs", n)
	}
}

// A query whose client went away stops scanning and answers nothing.
func TestQueryStopsWhenClientGoes(t *testing.T) {
	b := bigBackend(t, 100_000)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, aerr := b.query(ctx, &txn{limits: DefaultLimits}, `select id from Job where data like "%x%" limit 10`)
	if aerr != errGone {
		t.Errorf("cancelled query: %v", aerr)
	}
}

// A failed batch leaves nothing behind, even though other requests ran
// between its operations.
func TestFailedBatchIsUndone(t *testing.T) {
	b, hs := serve(t)
	_, answer := post(t, hs, strings.NewReader(`[
		{"action":"create","entity_type":"Job","entity_key":["j1"],"entity_data":{"status":"running","user_id":"5b4a69a3-8e78-4c45-a8ba-8b13f0895e23"}},
		{"action":"update","entity_type":"User","entity_key":["5b4a69a3-8e78-4c45-a8ba-8b13f0895e23"],"entity_data":{"first_name":"Changed"}},
		{"action":"create","entity_type":"Job","entity_key":["j1"],"entity_data":{"status":"running","user_id":"5b4a69a3-8e78-4c45-a8ba-8b13f0895e23"}}]`), false)
	if exc, _ := exception(t, answer); exc != "ServerError" {
		t.Fatalf("duplicate create: %v", answer)
	}
	if b.JobCount() != 0 {
		t.Errorf("%d jobs after the failed batch", b.JobCount())
	}
	b.mu.RLock()
	first := b.tables["User"]["5b4a69a3-8e78-4c45-a8ba-8b13f0895e23"]["first_name"]
	b.mu.RUnlock()
	if first == "Changed" {
		t.Errorf("the failed batch's update stayed")
	}
}
