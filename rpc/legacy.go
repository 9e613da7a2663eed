package rpc

// The legacy websocket protocol of /websocket, as the middleware's
// Application.on_message (middlewared/main.py, CORE 13 through SCALE
// 24.10, and the /websocket endpoint later releases keep) and the
// reference client's LegacyClient (truenas_api_client/legacy.py) speak it:
//
//	-> {"msg": "connect", "version": "1", "support": ["1"], "features": []}
//	<- {"msg": "connected", "session": "<id>"}  or {"msg": "failed", "version": "1"}
//	-> {"msg": "method", "id": "<id>", "method": "core.ping", "params": []}
//	<- {"msg": "result", "id": "<id>", "result": "pong"}
//	<- {"msg": "result", "id": "<id>", "error": {"error": errno, "errname": "EINVAL",
//	     "type": null|"VALIDATION", "reason": "...", "trace": {...}|null, "extra": ...}}
//	-> {"msg": "ping", "id": "<id>"}            <- {"msg": "pong", "id": "<id>"}
//	-> {"msg": "sub", "id": "<id>", "name": "core.get_jobs"}
//	<- {"msg": "ready", "subs": ["<id>"]}       (a refusal is a result with an error)
//	<- {"msg": "added"|"changed"|"removed", "collection": "...", "id": 7, "fields": {...}}
//	<- {"msg": "nosub", "collection": "...", "error": {...}}
//	-> {"msg": "unsub", "id": "<id>"}           (no answer)
//
// The Conn maps it onto the same frames as JSON-RPC: a sub is a call of
// core.subscribe answered by ready, an unsub a core.unsubscribe that
// needs no answer, the events are collection_update and nosub is
// notify_unsubscribed; the error object becomes the same *Error.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gorilla/websocket"
)

// Legacy errnos the middleware answers with, mapped to JSON-RPC codes.
const (
	errnoETOOMANYREFS = 109 // "Maximum number of concurrent calls (20) has exceeded."
	errnoENOENT       = 2
	errnoEACCES       = 13
)

// pingMethod marks a legacy protocol-level ping (not the core.ping method).
const pingMethod = "\x00ping"

// handshake sends connect and waits for connected (legacy protocol only),
// before the read loop starts.
func (c *Conn) handshake(ctx context.Context, ws *websocket.Conn) error {
	deadline := time.Now().Add(30 * time.Second)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = ws.SetWriteDeadline(deadline)
	if err := ws.WriteMessage(websocket.TextMessage,
		[]byte(`{"msg":"connect","version":"1","support":["1"],"features":[]}`)); err != nil {
		return &DisconnectedError{Method: "connect", Cause: err}
	}
	stop := context.AfterFunc(ctx, func() { _ = ws.SetReadDeadline(time.Now()) })
	defer stop()
	_ = ws.SetReadDeadline(deadline)
	defer ws.SetReadDeadline(time.Time{})
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return &DisconnectedError{Method: "connect", Cause: err}
		}
		var m struct {
			Msg string `json:"msg"`
		}
		if json.Unmarshal(data, &m) != nil {
			return protoErr("answer to connect is not a JSON object", data)
		}
		switch m.Msg {
		case "connected":
			return nil
		case "failed":
			return &ProtocolError{Reason: "server refused protocol version 1 (msg failed)", Frame: string(data)}
		}
		// Anything else before connected is ignored, as the reference
		// client does.
	}
}

// legacyRequest encodes a call as a legacy frame: method, sub, unsub or
// ping.
func legacyRequest(id int64, method string, params []any) ([]byte, error) {
	sid := strconv.FormatInt(id, 10)
	switch method {
	case "core.subscribe":
		if len(params) != 1 {
			return nil, errors.New("core.subscribe takes one event name")
		}
		return json.Marshal(struct {
			Msg  string `json:"msg"`
			ID   string `json:"id"`
			Name any    `json:"name"`
		}{"sub", sid, params[0]})
	case "core.unsubscribe":
		if len(params) != 1 {
			return nil, errors.New("core.unsubscribe takes one subscription id")
		}
		return json.Marshal(struct {
			Msg string `json:"msg"`
			ID  any    `json:"id"`
		}{"unsub", params[0]})
	case pingMethod:
		return []byte(`{"msg":"ping","id":"` + sid + `"}`), nil
	}
	return json.Marshal(struct {
		ID     string `json:"id"`
		Msg    string `json:"msg"`
		Method string `json:"method"`
		Params []any  `json:"params"`
	}{sid, "method", method, params})
}

// legacyFrame is any message the server sends on /websocket.
type legacyFrame struct {
	Msg        string            `json:"msg"`
	ID         json.RawMessage   `json:"id"`
	Result     json.RawMessage   `json:"result"`
	Error      *ErrorData        `json:"error"`
	Collection string            `json:"collection"`
	Fields     json.RawMessage   `json:"fields"`
	Extra      json.RawMessage   `json:"extra"`
	Subs       []json.RawMessage `json:"subs"`
}

// legacyID reads a request id back: the client sends decimal strings;
// the middleware echoes whatever it got.
func legacyID(raw json.RawMessage) (int64, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, false
	}
	var s string
	if raw[0] == '"' {
		if json.Unmarshal(raw, &s) != nil {
			return 0, false
		}
	} else {
		s = string(raw)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	return n, true
}

// decodeLegacyFrame parses one /websocket frame into the frame the
// dispatcher routes. It never panics and rejects what is not a legacy
// message.
func decodeLegacyFrame(data []byte) (*frame, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return nil, protoErr("frame is not a JSON object", data)
	}
	var lf legacyFrame
	if err := json.Unmarshal(data, &lf); err != nil {
		return nil, protoErr("malformed JSON: "+err.Error(), data)
	}
	switch lf.Msg {
	case "result", "pong":
		id, ok := legacyID(lf.ID)
		f := &frame{ID: json.RawMessage(`"?"`)}
		if ok {
			f.ID = json.RawMessage(strconv.FormatInt(id, 10))
		}
		if lf.Msg == "pong" {
			f.Result = json.RawMessage(`"pong"`)
			return f, nil
		}
		if lf.Error != nil {
			f.Error = legacyError(lf.Error)
			return f, nil
		}
		f.Result = lf.Result
		if f.Result == nil {
			f.Result = json.RawMessage("null")
		}
		return f, nil
	case "added", "changed", "removed":
		if lf.Collection == "" {
			return nil, protoErr(lf.Msg+" without collection", data)
		}
		return &frame{Method: "collection_update", ev: &Event{
			Msg: lf.Msg, Collection: lf.Collection, ID: lf.ID, Fields: lf.Fields, Extra: lf.Extra,
		}}, nil
	case "ready":
		f := &frame{Method: "ready"}
		for _, raw := range lf.Subs {
			if id, ok := legacyID(raw); ok {
				f.subs = append(f.subs, id)
			}
		}
		return f, nil
	case "nosub":
		return &frame{Method: "notify_unsubscribed", unsub: &unsubscribed{Collection: lf.Collection, Error: lf.Error}}, nil
	case "connected", "failed":
		return &frame{Method: lf.Msg}, nil
	case "":
		return nil, protoErr(`frame without "msg"`, data)
	}
	return nil, protoErr(fmt.Sprintf("unknown msg %q", lf.Msg), data)
}

// legacyError maps the legacy error object onto the JSON-RPC error the
// rest of the package (and its sentinels) know.
func legacyError(d *ErrorData) *Error {
	e := &Error{Code: CodeMethodCallError, Message: d.Reason, Data: d}
	switch {
	case d.Type == "VALIDATION":
		e.Code = CodeInvalidParams
	case d.Errno == ErrnoMethodNotFound:
		e.Code = CodeMethodNotFound
	case d.Errno == errnoETOOMANYREFS:
		e.Code = CodeTooManyConcurrent
	}
	if e.Message == "" {
		e.Message = d.Errname
	}
	return e
}
