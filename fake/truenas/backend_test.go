package truenas_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/longrun/longrun/fake/sim"
	"github.com/longrun/longrun/fake/truenas"
)

// wire is a raw JSON-RPC client for testing the fake's wire behaviour.
type wire struct {
	t    *testing.T
	conn *websocket.Conn
	next int
}

type frame struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int             `json:"code"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	} `json:"error"`
}

type update struct {
	Msg        string          `json:"msg"`
	Collection string          `json:"collection"`
	ID         int             `json:"id"`
	Fields     json.RawMessage `json:"fields"`
}

func (f frame) update(t *testing.T) update {
	t.Helper()
	var u update
	if err := json.Unmarshal(f.Params, &u); err != nil {
		t.Fatalf("bad collection_update params: %v", err)
	}
	return u
}

func setup(t *testing.T) (*truenas.Backend, *sim.Clock, string) {
	t.Helper()
	clk := sim.NewClock(sim.Epoch)
	env := sim.NewEnv(clk, nil, nil)
	b := truenas.New(env)
	mux := http.NewServeMux()
	b.Register(mux)
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		hs.CloseClientConnections()
		b.Close()
		hs.Close()
	})
	return b, clk, "ws" + strings.TrimPrefix(hs.URL, "http") + "/api/current"
}

func dial(t *testing.T, url string) *wire {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &wire{t: t, conn: c}
}

func (w *wire) send(method string, params ...any) int {
	w.t.Helper()
	w.next++
	if params == nil {
		params = []any{}
	}
	if err := w.conn.WriteJSON(map[string]any{"jsonrpc": "2.0", "id": w.next, "method": method, "params": params}); err != nil {
		w.t.Fatal(err)
	}
	return w.next
}

func (w *wire) read() frame {
	w.t.Helper()
	_ = w.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var f frame
	if err := w.conn.ReadJSON(&f); err != nil {
		w.t.Fatalf("read: %v", err)
	}
	return f
}

// reply reads frames until the reply to id, returning the events seen
// before it.
func (w *wire) reply(id int) (frame, []frame) {
	w.t.Helper()
	var events []frame
	for {
		f := w.read()
		if f.Method != "" {
			events = append(events, f)
			continue
		}
		if string(f.ID) == jsonInt(id) {
			return f, events
		}
		w.t.Fatalf("unexpected reply %s", f.ID)
	}
}

func jsonInt(i int) string { b, _ := json.Marshal(i); return string(b) }

func (w *wire) call(method string, params ...any) json.RawMessage {
	w.t.Helper()
	f, _ := w.reply(w.send(method, params...))
	if f.Error != nil {
		w.t.Fatalf("%s: error %d %s %s", method, f.Error.Code, f.Error.Message, f.Error.Data)
	}
	return f.Result
}

func login(t *testing.T, w *wire) {
	t.Helper()
	res := w.call("auth.login_ex", map[string]any{"mechanism": "PASSWORD_PLAIN", "username": "admin", "password": "secret"})
	var r struct {
		ResponseType string `json:"response_type"`
	}
	json.Unmarshal(res, &r)
	if r.ResponseType != "SUCCESS" {
		t.Fatalf("login: %s", res)
	}
}

func TestNotAuthenticated(t *testing.T) {
	_, _, url := setup(t)
	w := dial(t, url)
	f, _ := w.reply(w.send("core.get_jobs"))
	if f.Error == nil || f.Error.Code != -32001 {
		t.Fatalf("want -32001, got %+v", f)
	}
	var d struct {
		Error   int    `json:"error"`
		Errname string `json:"errname"`
		Reason  string `json:"reason"`
	}
	json.Unmarshal(f.Error.Data, &d)
	if d.Error != 207 || d.Errname != "ENOTAUTHENTICATED" || d.Reason != "[ENOTAUTHENTICATED] Not authenticated" {
		t.Fatalf("data %s", f.Error.Data)
	}
	if got := string(w.call("core.ping")); got != `"pong"` {
		t.Fatalf("ping %s", got)
	}
	res := w.call("auth.login_ex", map[string]any{"mechanism": "PASSWORD_PLAIN", "username": "admin", "password": "wrong"})
	if !strings.Contains(string(res), `"AUTH_ERR"`) {
		t.Fatalf("bad password: %s", res)
	}
	f, _ = w.reply(w.send("no.such_method"))
	if f.Error == nil || f.Error.Code != -32601 || f.Error.Message != "Method does not exist" {
		t.Fatalf("unknown method: %+v", f.Error)
	}
}

func TestBlockingJobCall(t *testing.T) {
	_, clk, url := setup(t)
	w := dial(t, url)
	opts := w.call("core.set_options", map[string]any{"legacy_jobs": false})
	if !strings.Contains(string(opts), `"legacy_jobs":false`) {
		t.Fatalf("set_options: %s", opts)
	}
	login(t, w)
	w.call("core.subscribe", "core.get_jobs")
	id := w.send("filesystem.copy", "/mnt/tank/src", "/mnt/tank/dst")
	// The added event comes before anything else, with our message id.
	f := w.read()
	u := f.update(t)
	if f.Method != "collection_update" || u.Msg != "added" || u.Collection != "core.get_jobs" {
		t.Fatalf("first frame %+v", f)
	}
	var fields struct {
		MessageIDs []int  `json:"message_ids"`
		State      string `json:"state"`
	}
	json.Unmarshal(u.Fields, &fields)
	if len(fields.MessageIDs) != 1 || fields.MessageIDs[0] != id || fields.State != "WAITING" {
		t.Fatalf("added fields %s", u.Fields)
	}
	clk.Advance(truenas.CopyStep * truenas.CopySteps)
	reply, events := w.reply(id)
	if string(reply.Result) != "true" {
		t.Fatalf("result %s", reply.Result)
	}
	last := events[len(events)-1].update(t)
	if !strings.Contains(string(last.Fields), `"state":"SUCCESS"`) || !strings.Contains(string(last.Fields), `"percent":100`) {
		t.Fatalf("last event %s", last.Fields)
	}
	if len(events) < truenas.CopySteps {
		t.Fatalf("only %d events", len(events))
	}
}

func TestLegacyJobCallAndFilters(t *testing.T) {
	_, clk, url := setup(t)
	w := dial(t, url)
	login(t, w)
	res := w.call("filesystem.copy", "/mnt/a", "/mnt/b")
	if string(res) != "1" {
		t.Fatalf("legacy job call returned %s", res)
	}
	w.call("filesystem.copy", "/tmp/a", "/mnt/b") // fails validation
	clk.Advance(time.Hour)
	got := w.call("core.get_jobs", [][]any{{"state", "=", "FAILED"}}, map[string]any{"select": []string{"id", "exc_info.type"}})
	if string(got) != `[{"exc_info":{"type":"VALIDATION"},"id":2}]` {
		t.Fatalf("filtered %s", got)
	}
	got = w.call("core.get_jobs", []any{"OR", [][]any{{"id", "=", 1}, {"method", "C^", "FILESYSTEM"}}}, map[string]any{"count": true})
	if string(got) != "2" {
		t.Fatalf("count %s", got)
	}
	// filter_list selects before it orders: order_by names the selected key.
	got = w.call("core.get_jobs", [][]any{}, map[string]any{"order_by": []string{"-job"}, "get": true, "select": []any{[]string{"id", "job"}}})
	if string(got) != `{"job":2}` {
		t.Fatalf("get %s", got)
	}
}

func TestLockAttach(t *testing.T) {
	_, _, url := setup(t)
	w := dial(t, url)
	login(t, w)
	w.call("core.subscribe", "core.get_jobs")
	a := w.call("cloud_backup.sync", 1)
	b := w.call("cloud_backup.sync", 1)
	id := w.send("cloud_backup.sync", 1)
	f, events := w.reply(id)
	if string(f.Result) != string(b) || string(a) == string(b) {
		t.Fatalf("attach: %s %s %s", a, b, f.Result)
	}
	last := events[len(events)-1].update(t)
	if last.Msg != "changed" || !strings.Contains(string(last.Fields), fmt.Sprintf(`"message_ids":[%d,%d]`, id-1, id)) {
		t.Fatalf("attach event %s %s", last.Msg, last.Fields)
	}
}

func TestInvalidFrames(t *testing.T) {
	_, _, url := setup(t)
	w := dial(t, url)
	w.conn.WriteMessage(websocket.TextMessage, []byte(`{"jsonrpc":"1.0","id":5,"method":"core.ping"}`))
	f := w.read()
	if f.Error == nil || f.Error.Code != -32600 || string(f.ID) != "5" {
		t.Fatalf("bad version: %+v", f)
	}
	w.conn.WriteMessage(websocket.TextMessage, []byte(`[{"jsonrpc":"2.0","id":6,"method":"core.ping"}]`))
	f = w.read()
	if f.Error == nil || f.Error.Code != -32700 || f.Error.Message != "Batch messages are not supported at this time" || string(f.ID) != "null" {
		t.Fatalf("batch: %+v", f)
	}
	w.conn.WriteMessage(websocket.TextMessage, []byte(`{"jsonrpc":"2.0","id":7,"method":"core.ping","params":{}}`))
	if f = w.read(); f.Error == nil || f.Error.Code != -32600 {
		t.Fatalf("params object: %+v", f)
	}
	// Before login a frame may hold 8 kB at most.
	big := `{"jsonrpc":"2.0","id":8,"method":"core.ping","params":["` + strings.Repeat("x", 9000) + `"]}`
	w.conn.WriteMessage(websocket.TextMessage, []byte(big))
	_, _, err := w.conn.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseInvalidFramePayloadData {
		t.Fatalf("oversized anonymous frame: %v", err)
	}
}

func TestAbortWaitingAndJobWait(t *testing.T) {
	b, clk, url := setup(t)
	w := dial(t, url)
	login(t, w)
	w.call("cloud_backup.sync", 1)       // job 1 runs
	w.call("cloud_backup.sync", 1)       // job 2 waits for the lock
	waitID := w.call("core.job_wait", 2) // job 3 waits on job 2
	if string(waitID) != "3" {
		t.Fatalf("job_wait id %s", waitID)
	}
	w.call("core.job_abort", 2)
	// An aborted WAITING job stays queued until the lock frees, then ends ABORTED.
	if got := w.call("core.get_jobs", [][]any{{"id", "=", 2}}, map[string]any{"get": true, "select": []string{"state"}}); string(got) != `{"state":"WAITING"}` {
		t.Fatalf("job 2 %s", got)
	}
	clk.Advance(time.Hour)
	// core.job_wait (job 3) follows job 2's end on its own goroutine, not
	// on the clock: wait for that event rather than race it.
	waiter, ok := b.JobByID(3)
	if !ok {
		t.Fatal("job 3 missing")
	}
	<-waiter.Done()
	got := w.call("core.get_jobs", [][]any{}, map[string]any{"select": []string{"id", "state"}, "order_by": []string{"id"}})
	if string(got) != `[{"id":1,"state":"SUCCESS"},{"id":2,"state":"ABORTED"},{"id":3,"state":"SUCCESS"}]` {
		t.Fatalf("states %s", got)
	}
	f, _ := w.reply(w.send("core.job_abort", 99))
	if f.Error == nil || f.Error.Code != -32602 || !strings.Contains(string(f.Error.Data), `[[null,"Job with id 99 does not exist",2]]`) {
		t.Fatalf("abort unknown job: %+v %s", f.Error, f.Error.Data)
	}
}

func TestTokensAndHTTPAuth(t *testing.T) {
	b, clk, url := setup(t)
	w := dial(t, url)
	login(t, w)
	var tok string
	json.Unmarshal(w.call("auth.generate_token", 60, map[string]any{}, true, false), &tok)
	r := httptest.NewRequest("GET", "/_upload?auth_token="+tok, nil)
	if c, err := b.Authenticate(r); err != nil || c.User.Name != "admin" || c.Type != truenas.CredToken {
		t.Fatalf("token: %+v %v", c, err)
	}
	clk.Advance(time.Minute)
	if _, err := b.Authenticate(r); !errors.Is(err, truenas.ErrUnauthorized) {
		t.Fatalf("expired token accepted: %v", err)
	}
	r = httptest.NewRequest("POST", "/_upload", nil)
	r.Header.Set("Authorization", "Bearer 1-longrunfakeapikey")
	if c, err := b.Authenticate(r); err != nil || c.Type != truenas.CredAPIKey {
		t.Fatalf("bearer: %v", err)
	}
	r.SetBasicAuth("guest", "guest")
	if c, err := b.Authenticate(r); err != nil || c.User.Name != "guest" {
		t.Fatalf("basic: %v", err)
	}
	r.SetBasicAuth("guest", "nope")
	if _, err := b.Authenticate(r); !errors.Is(err, truenas.ErrUnauthorized) {
		t.Fatalf("bad basic accepted: %v", err)
	}
	one := b.IssueToken(sim.DefaultUsers()[0], 0, map[string]any{"job": 1}, true)
	if tk, ok := b.LookupToken(one, true); !ok || tk.Attrs["job"] != 1 {
		t.Fatal("single-use token lookup")
	}
	if _, ok := b.LookupToken(one, true); ok {
		t.Fatal("single-use token used twice")
	}
}

func TestOwnJobsOnly(t *testing.T) {
	_, _, url := setup(t)
	admin := dial(t, url)
	login(t, admin)
	admin.call("filesystem.copy", "/mnt/a", "/mnt/b")
	guest := dial(t, url)
	guest.call("auth.login_ex", map[string]any{"mechanism": "API_KEY_PLAIN", "username": "guest", "api_key": "2-guestapikey"})
	if got := string(guest.call("core.get_jobs")); got != "[]" {
		t.Fatalf("guest sees %s", got)
	}
	if got := string(admin.call("core.get_jobs", [][]any{}, map[string]any{"count": true})); got != "1" {
		t.Fatalf("admin count %s", got)
	}
}
