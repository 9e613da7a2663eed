package rpc_test

// A websocket proxy in front of the fake's JSON-RPC endpoint, for the
// scenario suite: it passes JSON-RPC through, or speaks the legacy
// /websocket protocol to the client and translates each frame (the
// suite's legacy server until the fake serves /websocket itself), and it
// can drop or hold back job events, so a lost or late event is tested the
// same way on both protocols.

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/longrun/longrun/fake"
)

// eventFilter decides what happens to one collection_update of
// core.get_jobs: pass, drop, or hold (delivered after the next event).
type eventFilter func(msg string, fields map[string]any) filterAction

type filterAction int

const (
	pass filterAction = iota
	drop
	hold
)

type proxy struct {
	up     string // the fake's ws URL
	legacy bool
	hs     *httptest.Server

	mu     sync.Mutex
	filter eventFilter
	conns  []*websocket.Conn
}

func newProxy(t *testing.T, srv *fake.Server, legacy bool) *proxy { return newProxyTB(t, srv, legacy) }

func newProxyTB(t testing.TB, srv *fake.Server, legacy bool) *proxy {
	p := &proxy{up: srv.WebsocketURL(), legacy: legacy}
	p.hs = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.hs.Close)
	return p
}

// URL is the proxy's endpoint: /websocket for legacy, /api/current else.
func (p *proxy) URL() string {
	base := "ws" + strings.TrimPrefix(p.hs.URL, "http")
	if p.legacy {
		return base + "/websocket"
	}
	return base + "/api/current"
}

func (p *proxy) setFilter(f eventFilter) {
	p.mu.Lock()
	p.filter = f
	p.mu.Unlock()
}

// dropAll closes every client connection (a network cut).
func (p *proxy) dropAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

var upgrader = websocket.Upgrader{}

type session struct {
	p        *proxy
	client   *websocket.Conn
	upstream *websocket.Conn
	cmu, umu sync.Mutex // one writer each

	mu     sync.Mutex
	nextID int64
	calls  map[int64]json.RawMessage // upstream id -> client id (legacy)
	subs   map[int64]json.RawMessage // upstream core.subscribe id -> client sub id
	subIDs map[string]string         // client sub id -> upstream subscription id
	held   [][]byte
}

func (p *proxy) serve(w http.ResponseWriter, r *http.Request) {
	client, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	upstream, _, err := websocket.DefaultDialer.Dial(p.up, nil)
	if err != nil {
		client.Close()
		return
	}
	p.mu.Lock()
	p.conns = append(p.conns, client)
	p.mu.Unlock()
	s := &session{p: p, client: client, upstream: upstream,
		calls: map[int64]json.RawMessage{}, subs: map[int64]json.RawMessage{}, subIDs: map[string]string{}}
	go s.fromUpstream()
	s.fromClient()
	client.Close()
	upstream.Close()
}

func (s *session) toClient(v any) {
	data, ok := v.([]byte)
	if !ok {
		data, _ = json.Marshal(v)
	}
	s.cmu.Lock()
	defer s.cmu.Unlock()
	_ = s.client.WriteMessage(websocket.TextMessage, data)
}

func (s *session) toUpstream(v any) {
	data, ok := v.([]byte)
	if !ok {
		data, _ = json.Marshal(v)
	}
	s.umu.Lock()
	defer s.umu.Unlock()
	_ = s.upstream.WriteMessage(websocket.TextMessage, data)
}

func (s *session) fromClient() {
	for {
		_, data, err := s.client.ReadMessage()
		if err != nil {
			return
		}
		if !s.p.legacy {
			s.toUpstream(data)
			continue
		}
		var m struct {
			Msg     string          `json:"msg"`
			ID      json.RawMessage `json:"id"`
			Method  string          `json:"method"`
			Params  []any           `json:"params"`
			Name    string          `json:"name"`
			Version string          `json:"version"`
		}
		if json.Unmarshal(data, &m) != nil {
			return
		}
		switch m.Msg {
		case "connect":
			if m.Version != "1" {
				s.toClient(map[string]any{"msg": "failed", "version": "1"})
				continue
			}
			s.toClient(map[string]any{"msg": "connected", "session": "proxy-session"})
		case "method":
			s.mu.Lock()
			s.nextID++
			id := s.nextID
			s.calls[id] = m.ID
			s.mu.Unlock()
			if m.Params == nil {
				m.Params = []any{}
			}
			s.toUpstream(map[string]any{"jsonrpc": "2.0", "id": id, "method": m.Method, "params": m.Params})
		case "sub":
			s.mu.Lock()
			s.nextID++
			id := s.nextID
			s.subs[id] = m.ID
			s.mu.Unlock()
			s.toUpstream(map[string]any{"jsonrpc": "2.0", "id": id, "method": "core.subscribe", "params": []any{m.Name}})
		case "unsub":
			var cid string
			_ = json.Unmarshal(m.ID, &cid)
			s.mu.Lock()
			up := s.subIDs[cid]
			s.nextID++
			id := s.nextID
			s.mu.Unlock()
			if up != "" {
				s.toUpstream(map[string]any{"jsonrpc": "2.0", "id": id, "method": "core.unsubscribe", "params": []any{up}})
			}
		case "ping":
			pong := map[string]any{"msg": "pong"}
			if len(m.ID) > 0 {
				pong["id"] = m.ID
			}
			s.toClient(pong)
		}
	}
}

// legacyErrorDict turns a JSON-RPC error into the legacy error object.
func legacyErrorDict(e map[string]any) map[string]any {
	d := map[string]any{"error": 22, "errname": "EINVAL", "type": nil, "reason": e["message"], "trace": nil, "extra": nil}
	if data, ok := e["data"].(map[string]any); ok {
		for _, k := range []string{"error", "errname", "reason", "trace", "extra"} {
			if v, ok := data[k]; ok {
				d[k] = v
			}
		}
	}
	if code, _ := e["code"].(float64); code == -32602 {
		d["type"] = "VALIDATION"
	} else if code == -32601 {
		d["error"], d["errname"] = 201, "ENOMETHOD"
	} else if code == -32000 {
		d["error"], d["errname"] = 109, "ETOOMANYREFS"
	}
	return d
}

func (s *session) fromUpstream() {
	defer s.client.Close()
	for {
		_, data, err := s.upstream.ReadMessage()
		if err != nil {
			return
		}
		var f struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
			Params json.RawMessage `json:"params"`
			Result json.RawMessage `json:"result"`
			Error  map[string]any  `json:"error"`
		}
		if json.Unmarshal(data, &f) != nil {
			continue
		}
		switch f.Method {
		case "collection_update":
			var ev map[string]any
			_ = json.Unmarshal(f.Params, &ev)
			out := data
			if s.p.legacy {
				lf := map[string]any{"msg": ev["msg"], "collection": ev["collection"]}
				for _, k := range []string{"id", "fields", "extra"} {
					if v, ok := ev[k]; ok {
						lf[k] = v
					}
				}
				out, _ = json.Marshal(lf)
			}
			s.event(ev, out)
			continue
		case "notify_unsubscribed":
			if s.p.legacy {
				var u map[string]any
				_ = json.Unmarshal(f.Params, &u)
				u["msg"] = "nosub"
				s.toClient(u)
			} else {
				s.toClient(data)
			}
			continue
		}
		if !s.p.legacy {
			s.toClient(data)
			continue
		}
		id, err := strconv.ParseInt(string(f.ID), 10, 64)
		if err != nil {
			continue
		}
		s.mu.Lock()
		cid, isCall := s.calls[id]
		sid, isSub := s.subs[id]
		delete(s.calls, id)
		delete(s.subs, id)
		if isSub && f.Error == nil {
			var up, c string
			_ = json.Unmarshal(f.Result, &up)
			_ = json.Unmarshal(sid, &c)
			s.subIDs[c] = up
		}
		s.mu.Unlock()
		switch {
		case isCall && f.Error != nil:
			s.toClient(map[string]any{"msg": "result", "id": cid, "error": legacyErrorDict(f.Error)})
		case isCall:
			s.toClient(map[string]any{"id": cid, "msg": "result", "result": f.Result})
		case isSub && f.Error != nil:
			s.toClient(map[string]any{"msg": "result", "id": sid, "error": legacyErrorDict(f.Error)})
		case isSub:
			s.toClient(map[string]any{"msg": "ready", "subs": []any{sid}})
		}
	}
}

// event applies the filter to a job event.
func (s *session) event(ev map[string]any, out []byte) {
	s.p.mu.Lock()
	filter := s.p.filter
	s.p.mu.Unlock()
	act := pass
	if filter != nil && ev["collection"] == "core.get_jobs" {
		fields, _ := ev["fields"].(map[string]any)
		msg, _ := ev["msg"].(string)
		act = filter(msg, fields)
	}
	switch act {
	case drop:
		return
	case hold:
		s.mu.Lock()
		s.held = append(s.held, out)
		s.mu.Unlock()
		return
	}
	s.toClient(out)
	s.mu.Lock()
	held := s.held
	s.held = nil
	s.mu.Unlock()
	for _, h := range held {
		s.toClient(h)
	}
}
