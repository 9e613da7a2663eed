package truenas_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/longrun/longrun/fake/sim"
	"github.com/longrun/longrun/fake/truenas"
)

// legacyServer serves the backend and its file endpoints; it returns the
// HTTP base URL.
func legacyServer(t testing.TB, v truenas.Version) (*truenas.Backend, *sim.Clock, string) {
	t.Helper()
	clk := sim.NewClock(sim.Epoch)
	env := sim.NewEnv(clk, nil, nil)
	b := truenas.NewWithOptions(env, truenas.Options{Version: v, ScramIterations: 4096})
	files := truenas.NewFiles(b)
	mux := http.NewServeMux()
	b.Register(mux)
	files.Register(mux)
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		hs.CloseClientConnections()
		files.Close()
		b.Close()
		hs.Close()
	})
	return b, clk, hs.URL
}

// lwire speaks raw frames of the legacy protocol.
type lwire struct {
	t    *testing.T
	conn *websocket.Conn
}

func ldial(t *testing.T, base string) *lwire {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &lwire{t: t, conn: c}
}

func (w *lwire) write(frame string) {
	w.t.Helper()
	if err := w.conn.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
		w.t.Fatal(err)
	}
}

func (w *lwire) readRaw() string {
	w.t.Helper()
	_ = w.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, data, err := w.conn.ReadMessage()
	if err != nil {
		w.t.Fatalf("read: %v", err)
	}
	return string(data)
}

func (w *lwire) read() map[string]any {
	w.t.Helper()
	var m map[string]any
	raw := w.readRaw()
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		w.t.Fatalf("bad frame %s: %v", raw, err)
	}
	return m
}

// result reads frames until the result for id; it returns the frame's
// text and the collection events seen before it.
func (w *lwire) result(id string) (string, []map[string]any) {
	w.t.Helper()
	var events []map[string]any
	for {
		raw := w.readRaw()
		var m map[string]any
		_ = json.Unmarshal([]byte(raw), &m)
		if m["msg"] == "result" && m["id"] == id {
			return raw, events
		}
		events = append(events, m)
	}
}

func (w *lwire) connect() {
	w.t.Helper()
	w.write(`{"msg": "connect", "version": "1", "support": ["1"]}`)
	m := w.read()
	if m["msg"] != "connected" || !regexp.MustCompile(`^[0-9a-f-]{36}$`).MatchString(m["session"].(string)) {
		w.t.Fatalf("connect: %v", m)
	}
}

func (w *lwire) login() {
	w.t.Helper()
	w.write(`{"id": "login", "msg": "method", "method": "auth.login", "params": ["admin", "secret"]}`)
	if raw, _ := w.result("login"); raw != `{"id":"login","msg":"result","result":true}` {
		w.t.Fatalf("login: %s", raw)
	}
}

// The two exchanges of the middleware's own websocket documentation
// (apidocs/templates/websocket/jobs.md), replayed frame by frame over
// /websocket: the job call answers its id, core.get_jobs with the id
// filter answers the entry, and core.download answers [job id,
// "/_download/<id>?auth_token=<token>"] whose URL then serves the file.
func TestLegacySeedExchanges(t *testing.T) {
	_, clk, base := legacyServer(t, truenas.Version2410)
	w := ldial(t, base)
	w.connect()
	w.login()

	w.write(`{"id": "6841f242-840a-11e6-a437-00e04d680384", "msg": "method", "method": "catalog.sync_all", "params": []}`)
	raw, _ := w.result("6841f242-840a-11e6-a437-00e04d680384")
	if raw != `{"id":"6841f242-840a-11e6-a437-00e04d680384","msg":"result","result":1}` {
		t.Fatalf("job call: %s", raw)
	}
	clk.Advance(truenas.SyncStep * truenas.SyncSteps)

	w.write(`{"id": "d8e715be-6bc7-11e6-8c28-00e04d680384", "msg": "method", "method": "core.get_jobs", "params": [[["id", "=", 1]]]}`)
	raw, _ = w.result("d8e715be-6bc7-11e6-8c28-00e04d680384")
	var res struct {
		ID     string                       `json:"id"`
		Msg    string                       `json:"msg"`
		Result []map[string]json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal([]byte(raw), &res); err != nil || len(res.Result) != 1 {
		t.Fatalf("get_jobs: %s", raw)
	}
	if !strings.HasPrefix(raw, `{"id":"d8e715be-6bc7-11e6-8c28-00e04d680384","msg":"result","result":[{"id":1,"method":"catalog.sync_all","arguments":[],`) {
		t.Fatalf("get_jobs frame: %s", raw)
	}
	e := res.Result[0]
	for _, k := range []string{"id", "method", "arguments", "logs_path", "logs_excerpt", "progress", "result", "error",
		"exception", "exc_info", "state", "time_started", "time_finished"} {
		if _, ok := e[k]; !ok {
			t.Errorf("entry lacks %q (documented): %s", k, raw)
		}
	}
	if _, ok := e["message_ids"]; ok {
		t.Errorf("24.10 entries carry no message_ids: %s", raw)
	}
	if string(e["state"]) != `"SUCCESS"` || string(e["progress"]) != `{"percent":100,"description":"Synced 'TRUENAS' catalog","extra":null}` {
		t.Errorf("state %s progress %s", e["state"], e["progress"])
	}
	started := sim.Epoch.Unix() * 1000
	if string(e["time_started"]) != `{"$date":`+jsonInt(int(started))+`}` {
		t.Errorf("time_started %s, want whole seconds %d", e["time_started"], started)
	}
	if string(e["time_finished"]) == "null" {
		t.Errorf("time_finished null on a finished job")
	}

	w.write(`{"id": "d8e715be-6bc7-11e6-8c28-00e04d680384", "msg": "method", "method": "core.download", "params": ["config.save", [{}], "freenas-FreeNAS-11.3-MASTER-201910090828-20191017122016.db"]}`)
	raw, _ = w.result("d8e715be-6bc7-11e6-8c28-00e04d680384")
	m := regexp.MustCompile(`^\{"id":"d8e715be-6bc7-11e6-8c28-00e04d680384","msg":"result","result":\[2,"(/_download/2\?auth_token=[A-Za-z0-9_-]+)"\]\}$`).FindStringSubmatch(raw)
	if m == nil {
		t.Fatalf("core.download: %s", raw)
	}
	resp, err := http.Get(base + m[1])
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(body) == 0 {
		t.Fatalf("download: %d, %d bytes", resp.StatusCode, len(body))
	}
}

func TestLegacyHandshakeAndErrors(t *testing.T) {
	_, _, base := legacyServer(t, truenas.Version2504)
	w := ldial(t, base)
	w.write(`{"id": "1", "msg": "method", "method": "core.ping"}`)
	if raw := w.readRaw(); raw != `{"msg":"failed","version":"1"}` {
		t.Fatalf("before connect: %s", raw)
	}
	w.write(`{"msg": "connect", "version": "2", "support": ["2"]}`)
	if raw := w.readRaw(); raw != `{"msg":"failed","version":"1"}` {
		t.Fatalf("bad version: %s", raw)
	}
	w.connect()
	w.write(`{"msg": "ping", "id": "p1"}`)
	if raw := w.readRaw(); raw != `{"msg":"pong","id":"p1"}` {
		t.Fatalf("ping: %s", raw)
	}
	w.write(`{"id": "a", "msg": "method", "method": "core.ping"}`)
	if raw, _ := w.result("a"); raw != `{"id":"a","msg":"result","result":"pong"}` {
		t.Fatalf("ping method: %s", raw)
	}
	w.write(`{"id": "b", "msg": "method", "method": "core.get_jobs", "params": []}`)
	if raw, _ := w.result("b"); raw != `{"msg":"result","id":"b","error":{"error":207,"errname":"ENOTAUTHENTICATED","type":null,"reason":"Not authenticated","trace":null,"extra":null}}` {
		t.Fatalf("unauthenticated: %s", raw)
	}
	w.write(`{"id": "s", "msg": "sub", "name": "core.get_jobs"}`)
	if raw, _ := w.result("s"); raw != `{"msg":"result","id":"s","error":{"error":13,"errname":"EACCES","type":null,"reason":"Not authorized","trace":null,"extra":null}}` {
		t.Fatalf("unauthenticated sub: %s", raw)
	}
	w.write(`{"id": "c", "msg": "method"}`)
	if raw, _ := w.result("c"); raw != `{"msg":"result","id":"c","error":{"error":22,"errname":"EINVAL","type":null,"reason":"Message is malformed: 'method' is absent.","trace":null,"extra":null}}` {
		t.Fatalf("no method: %s", raw)
	}
	w.login()
	w.write(`{"id": "d", "msg": "method", "method": "core.nope", "params": []}`)
	var d struct {
		Error struct {
			Error  int            `json:"error"`
			Reason string         `json:"reason"`
			Trace  map[string]any `json:"trace"`
		} `json:"error"`
	}
	raw, _ := w.result("d")
	_ = json.Unmarshal([]byte(raw), &d)
	if d.Error.Error != 201 || d.Error.Reason != "[ENOMETHOD] Method 'nope' not found in 'core'" || d.Error.Trace["class"] != "CallError" {
		t.Fatalf("unknown method: %s", raw)
	}
	if _, ok := d.Error.Trace["frames"]; !ok {
		t.Fatalf("legacy traces carry frames: %s", raw)
	}
	w.write(`{"id": "e", "msg": "method", "method": "core.ping", "params": ["x"]}`)
	raw, _ = w.result("e")
	want := `{"msg":"result","id":"e","error":{"error":11,"errname":"EAGAIN","type":"VALIDATION","reason":"[EINVAL] : Too many arguments (expected 0, found 1)\n","trace":{"class":"ValidationErrors",`
	if !strings.HasPrefix(raw, want) || !strings.HasSuffix(raw, `"extra":[["","Too many arguments (expected 0, found 1)",22]]}}`) {
		t.Fatalf("too many arguments: %s", raw)
	}
	w.write(`{"id": "f", "msg": "method", "method": "core.get_jobs", "params": {"a": 1}}`)
	if raw, _ := w.result("f"); raw != "{\"msg\":\"result\",\"id\":\"f\",\"error\":{\"error\":22,\"errname\":\"EINVAL\",\"type\":null,\"reason\":\"`params` must be a list.\",\"trace\":null,\"extra\":null}}" {
		t.Fatalf("params not a list: %s", raw)
	}
	w.write(`{"id": "u", "msg": "unsub"}`)
	w.write(`not json`)
	_ = w.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, _, err := w.conn.ReadMessage()
	var ce *websocket.CloseError
	if !errorsAs(err, &ce) || ce.Code != websocket.CloseInvalidFramePayloadData {
		t.Fatalf("invalid JSON: %v", err)
	}
}

func TestLegacyTooManyArguments2410IsCallError(t *testing.T) {
	_, _, base := legacyServer(t, truenas.Version2410)
	w := ldial(t, base)
	w.connect()
	w.write(`{"id": "e", "msg": "method", "method": "core.ping", "params": ["x"]}`)
	raw, _ := w.result("e")
	if !strings.HasPrefix(raw, `{"msg":"result","id":"e","error":{"error":14,"errname":"EFAULT","type":null,"reason":"[EFAULT] Too many arguments (expected 0, found 1)","trace":{"class":"CallError","frames":[`) {
		t.Fatalf("too many arguments: %s", raw)
	}
}

// A sub to core.get_jobs gets ready, then added/changed events in the
// legacy shape, the final one with state SUCCESS and time_finished set.
func TestLegacySubscriptionEvents(t *testing.T) {
	_, clk, base := legacyServer(t, truenas.Version2510)
	w := ldial(t, base)
	w.connect()
	w.login()
	w.write(`{"id": "sub1", "msg": "sub", "name": "core.get_jobs"}`)
	if raw := w.readRaw(); raw != `{"msg":"ready","subs":["sub1"]}` {
		t.Fatalf("sub: %s", raw)
	}
	w.write(`{"id": "c1", "msg": "method", "method": "filesystem.copy", "params": ["/mnt/tank/a", "/mnt/tank/b"]}`)
	raw, events := w.result("c1")
	if raw != `{"id":"c1","msg":"result","result":1}` {
		t.Fatalf("copy: %s", raw)
	}
	if len(events) == 0 || events[0]["msg"] != "added" || events[0]["collection"] != "core.get_jobs" || events[0]["id"] != float64(1) {
		t.Fatalf("added event: %v", events)
	}
	if _, ok := events[0]["fields"].(map[string]any)["message_ids"]; !ok {
		t.Fatalf("25.10 entries carry message_ids: %v", events[0])
	}
	clk.Advance(truenas.CopyStep * truenas.CopySteps)
	var last map[string]any
	for {
		m := w.read()
		if m["msg"] != "changed" {
			t.Fatalf("unexpected %v", m)
		}
		f := m["fields"].(map[string]any)
		if f["state"] == "SUCCESS" {
			if f["time_finished"] == nil {
				t.Fatalf("SUCCESS event without time_finished: %v", f)
			}
			last = f
			if f["result"] == true {
				break
			}
		}
	}
	if d := last["progress"].(map[string]any)["description"]; d != "Copied 2000000 of 2000000 bytes" {
		t.Fatalf("final description %q", d)
	}
	w.write(`{"id": "sub1", "msg": "unsub"}`)
	w.write(`{"msg": "ping", "id": "after"}`)
	if raw := w.readRaw(); raw != `{"msg":"pong","id":"after"}` {
		t.Fatalf("after unsub: %s", raw)
	}
}

// Routes: 24.10 serves /websocket only; later releases serve their own
// /api/vX.Y.Z, /api/current and /api/versions, and nothing else.
func TestVersionRoutes(t *testing.T) {
	for _, tc := range []struct {
		v      truenas.Version
		path   string
		status int
	}{
		{truenas.Version2410, "/api/current", 404},
		{truenas.Version2410, "/api/versions", 404},
		{truenas.Version2504, "/api/current", 400},
		{truenas.Version2504, "/api/v25.04.2", 400},
		{truenas.Version2504, "/api/v25.10.0", 404},
		{truenas.Version2510, "/api/v25.10.1", 400},
		{truenas.Version2510, "/api/v99.1.0", 404},
		{truenas.Version2600, "/api/v26.0.0", 400},
		{truenas.Version2600, "/websocket", 400},
	} {
		_, _, base := legacyServer(t, tc.v)
		resp, err := http.Get(base + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status { // 400: a plain GET of a websocket route
			t.Errorf("%s %s: %d, want %d", tc.v, tc.path, resp.StatusCode, tc.status)
		}
	}
	_, _, base := legacyServer(t, truenas.Version2510)
	resp, err := http.Get(base + "/api/versions")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.TrimSpace(string(body)) != `["v25.04.0","v25.04.1","v25.04.2","v25.10.0","v25.10.1"]` {
		t.Fatalf("versions: %s", body)
	}
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }
