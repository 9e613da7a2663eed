package truenas

import (
	"encoding/json"
	"testing"

	"github.com/gorilla/websocket"
)

// FuzzDecodeLegacy feeds client frames of the legacy /websocket protocol
// to its decoder: it must never panic, and it must either close the
// connection with one of the middleware's codes or yield a frame whose
// parts are consistent (a method frame has list params unless it is
// flagged, a sub frame has an id and a name).
func FuzzDecodeLegacy(f *testing.F) {
	for _, s := range []string{
		`{"msg": "connect", "version": "1", "support": ["1"]}`,
		`{"msg": "connect", "version": "1", "support": ["1"], "features": ["PY_EXCEPTIONS"]}`,
		`{"id": "6841f242", "msg": "method", "method": "core.get_jobs", "params": [[["id", "=", 1]]]}`,
		`{"id": "x", "msg": "method", "method": "core.download", "params": ["config.save", [{}], "a.db"]}`,
		`{"id": "x", "msg": "method", "method": 5}`,
		`{"id": "x", "msg": "method", "method": "core.ping", "params": {"a": 1}}`,
		`{"id": "x", "msg": "method", "method": "core.ping", "params": 0}`,
		`{"msg": "ping", "id": 1}`, `{"msg": "sub", "id": "s", "name": "core.get_jobs"}`,
		`{"msg": "sub", "name": 3, "id": 1}`, `{"msg": "unsub"}`, `{"msg": null}`, `[]`, `"x"`, `{`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, cl := decodeLegacy(data)
		if cl != nil {
			switch cl.code {
			case websocket.CloseMessageTooBig, websocket.CloseInvalidFramePayloadData, websocket.CloseInternalServerErr:
			default:
				t.Fatalf("close code %d", cl.code)
			}
			if fr != nil {
				t.Fatal("a frame and a close")
			}
			return
		}
		if fr == nil {
			t.Fatal("neither a frame nor a close")
		}
		switch fr.kind {
		case "method":
			if fr.hasMethod && !fr.badParams && fr.params == nil {
				t.Fatal("method frame without params")
			}
			for _, p := range fr.params {
				if !json.Valid(p) {
					t.Fatalf("invalid param %q", p)
				}
			}
		case "sub":
			if !fr.hasID {
				t.Fatal("sub without id")
			}
		}
	})
}

// FuzzValidateRequest feeds JSON-RPC request objects to the validation
// of /api/current: never a panic, and an accepted request has a string
// method and list params.
func FuzzValidateRequest(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc": "2.0", "id": 1, "method": "core.ping", "params": []}`,
		`{"jsonrpc": "2.0", "method": "core.ping"}`, `{"jsonrpc": "1.0", "id": 1, "method": "x"}`,
		`{"jsonrpc": "2.0", "id": 1.5, "method": "x"}`, `{"jsonrpc": "2.0", "id": {}, "method": "x"}`,
		`{"jsonrpc": "2.0", "id": "a", "method": "x", "params": {}}`, `{"jsonrpc": "2.0", "id": null, "method": ""}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var msg map[string]json.RawMessage
		if json.Unmarshal(data, &msg) != nil {
			return
		}
		if validateRequest(msg) != nil {
			return
		}
		var name string
		if json.Unmarshal(msg["method"], &name) != nil || name == "" {
			t.Fatalf("accepted method %s", msg["method"])
		}
		if p, ok := msg["params"]; ok {
			var params []json.RawMessage
			if json.Unmarshal(p, &params) != nil {
				t.Fatalf("accepted params %s", p)
			}
		}
	})
}
