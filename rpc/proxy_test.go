package rpc_test

// A websocket proxy in front of the fake, for the scenario suite: it
// passes frames through in both directions (JSON-RPC 2.0 at /api/current
// or the legacy protocol at /websocket) and can drop or hold back job
// events, so a lost or late event is tested the same way on both
// protocols, and cut every connection at once.

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/longrun/longrun/fake"
)

// eventFilter decides what happens to one job event (core.get_jobs):
// pass, drop, or hold (delivered after the connection's next event).
type eventFilter func(msg string, fields map[string]any) filterAction

type filterAction int

const (
	pass filterAction = iota
	drop
	hold
)

type proxy struct {
	up     string // the fake's ws URL for this protocol
	legacy bool
	hs     *httptest.Server

	mu     sync.Mutex
	filter eventFilter
	conns  []*websocket.Conn
}

// fakeLegacyURL is the fake's /websocket endpoint.
func fakeLegacyURL(srv *fake.Server) string {
	return strings.TrimSuffix(srv.WebsocketURL(), "/api/current") + "/websocket"
}

func newProxy(t testing.TB, srv *fake.Server, legacy bool) *proxy {
	p := &proxy{up: srv.WebsocketURL(), legacy: legacy}
	if legacy {
		p.up = fakeLegacyURL(srv)
	}
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
	go func() {
		defer client.Close()
		var held [][]byte
		for {
			_, data, err := upstream.ReadMessage()
			if err != nil {
				return
			}
			switch p.classify(data) {
			case drop:
				continue
			case hold:
				held = append(held, data)
				continue
			}
			if client.WriteMessage(websocket.TextMessage, data) != nil {
				return
			}
			for _, h := range held {
				_ = client.WriteMessage(websocket.TextMessage, h)
			}
			held = nil
		}
	}()
	for {
		_, data, err := client.ReadMessage()
		if err != nil || upstream.WriteMessage(websocket.TextMessage, data) != nil {
			break
		}
	}
	client.Close()
	upstream.Close()
}

// classify applies the filter to a job event of either protocol.
func (p *proxy) classify(data []byte) filterAction {
	p.mu.Lock()
	filter := p.filter
	p.mu.Unlock()
	if filter == nil {
		return pass
	}
	var f struct {
		Method     string `json:"method"`
		Msg        string `json:"msg"`
		Collection string `json:"collection"`
		Fields     map[string]any
		Params     struct {
			Msg        string         `json:"msg"`
			Collection string         `json:"collection"`
			Fields     map[string]any `json:"fields"`
		} `json:"params"`
	}
	if json.Unmarshal(data, &f) != nil {
		return pass
	}
	switch {
	case f.Method == "collection_update" && f.Params.Collection == "core.get_jobs":
		return filter(f.Params.Msg, f.Params.Fields)
	case (f.Msg == "added" || f.Msg == "changed") && f.Collection == "core.get_jobs":
		return filter(f.Msg, f.Fields)
	}
	return pass
}
