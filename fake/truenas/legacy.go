package truenas

// The legacy websocket protocol of /websocket, as Application.on_message
// (middlewared/main.py, 13.0 through 24.10, and the /websocket handler
// kept by every later release) speaks it:
//
//	-> {"msg": "connect", "version": "1", "support": ["1"], "features": [...]}
//	<- {"msg": "connected", "session": "<uuid>"}      version "1"
//	<- {"msg": "failed", "version": "1"}              any other version, or
//	                                                  anything before connect
//	-> {"msg": "method", "id": "<id>", "method": "core.ping", "params": []}
//	<- {"id": "<id>", "msg": "result", "result": "pong"}
//	<- {"msg": "result", "id": "<id>", "error": {"error": errno, "errname":
//	     "EINVAL", "type": null|"VALIDATION", "reason": "...", "trace":
//	     null|{"class", "frames", "formatted", "repr"}, "extra": ...}}
//	-> {"msg": "ping", "id": "x"}                 <- {"msg": "pong", "id": "x"}
//	-> {"msg": "sub", "id": "s1", "name": "core.get_jobs"}
//	<- {"msg": "ready", "subs": ["s1"]}
//	<- {"msg": "added"|"changed"|"removed", "collection": "core.get_jobs",
//	     "id": 7, "fields": {...}}
//	-> {"msg": "unsub", "id": "s1"}               (no answer)
//
// A job method answers its job id at once. Frames the middleware cannot
// parse close the connection: invalid JSON with 1007 and the decoder's
// message, a frame without "msg" with 1011.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall"

	"github.com/gorilla/websocket"
)

// Legacy protocol errnos the middleware answers with.
const (
	errETOOMANYREFS = 109
	errEBADMSG      = 74
	// MaxExtendedMessage is the largest frame accepted for
	// filesystem.file_receive (2 MiB); others are limited to MaxMessage.
	MaxExtendedMessage = 2097152
)

// legacyErr is the error dict of Application.get_error_dict.
type legacyErr struct {
	errno  int
	reason string
	etype  any // nil or "VALIDATION"
	trace  *errorFacts
	extra  any
}

type legacyErrorDict struct {
	Error   int          `json:"error"`
	Errname string       `json:"errname"`
	Type    any          `json:"type"`
	Reason  string       `json:"reason"`
	Trace   *legacyTrace `json:"trace"`
	Extra   any          `json:"extra"`
}

type legacyErrorReply struct {
	Msg   string          `json:"msg"`
	ID    json.RawMessage `json:"id"`
	Error legacyErrorDict `json:"error"`
}

func (e legacyErr) dict() legacyErrorDict {
	d := legacyErrorDict{Error: e.errno, Errname: errname(e.errno), Type: e.etype, Reason: e.reason, Extra: e.extra}
	if e.trace != nil {
		d.Trace = &legacyTrace{
			Class: e.trace.class,
			Frames: []legacyTraceFrame{{
				Filename: "/usr/lib/python3/dist-packages/middlewared/main.py", Lineno: 211, Method: "call_method",
				Line:    "                result = await self.middleware.call_with_audit(message['method'], serviceobj, methodobj, params, self)\n",
				Argspec: []string{"self", "message", "serviceobj", "methodobj"},
				Locals:  map[string]string{"self": "<middlewared.main.Application object>"},
			}},
			Formatted: formatted(e.trace),
			Repr:      e.trace.repr,
		}
	}
	return d
}

// sendLegacyError answers a legacy call with an error (send_error).
func (s *Session) sendLegacyError(id json.RawMessage, e legacyErr) {
	if id == nil {
		id = json.RawMessage("null")
	}
	s.send(legacyErrorReply{Msg: "result", ID: id, Error: e.dict()})
}

type legacyEvent struct {
	Msg        string          `json:"msg"`
	Collection string          `json:"collection"`
	ID         int             `json:"id"`
	Fields     json.RawMessage `json:"fields,omitempty"`
}

// wsClose is how the middleware ends a connection over a frame it cannot
// handle: a close code and its text.
type wsClose struct {
	code int
	text string
}

// legacyFrame is one decoded frame of the legacy protocol.
type legacyFrame struct {
	kind     any // msg: "connect", "method", "ping", "sub", "unsub" or anything else
	raw      map[string]json.RawMessage
	version  any
	features []string
	id       json.RawMessage
	hasID    bool
	// method
	hasMethod bool
	method    string
	params    []json.RawMessage
	badParams bool // params given and neither falsy nor a list
	// sub
	name string
}

// decodeLegacy reads a client frame as parse_message and on_message do,
// before any state is consulted. A frame the middleware would end the
// connection over yields its close code and text.
func decodeLegacy(data []byte) (*legacyFrame, *wsClose) {
	if len(data) > MaxExtendedMessage {
		return nil, &wsClose{websocket.CloseMessageTooBig, "Max message length is 64 kB"}
	}
	f := &legacyFrame{}
	if err := json.Unmarshal(data, &f.raw); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, &wsClose{websocket.CloseInternalServerErr, fmt.Sprintf("'%s' object has no attribute 'get'", pyTypeOfJSON(data))}
		}
		return nil, &wsClose{websocket.CloseInvalidFramePayloadData, pyJSONError(data, err)}
	}
	if f.raw == nil { // the frame was null
		return nil, &wsClose{websocket.CloseInternalServerErr, "'NoneType' object has no attribute 'get'"}
	}
	field := func(k string) (any, bool) {
		r, ok := f.raw[k]
		if !ok {
			return nil, false
		}
		var v any
		_ = json.Unmarshal(r, &v)
		return v, true
	}
	methodAny, hasMethod := field("method")
	if name, _ := methodAny.(string); name != "filesystem.file_receive" && len(data) > MaxMessage {
		return nil, &wsClose{websocket.CloseMessageTooBig, "Max message length is 64 kB"}
	}
	kind, present := field("msg")
	if !present {
		return nil, &wsClose{websocket.CloseInternalServerErr, "'msg'"}
	}
	f.kind = kind
	f.id, f.hasID = f.raw["id"]
	msg := map[string]any{}
	if hasMethod {
		msg["method"] = methodAny
	}
	for _, k := range []string{"version", "features", "name"} {
		if v, ok := field(k); ok {
			msg[k] = v
		}
	}
	switch kind {
	case "connect":
		f.version = msg["version"]
		if features, ok := msg["features"].([]any); ok {
			for _, x := range features {
				if s, ok := x.(string); ok {
					f.features = append(f.features, s)
				}
			}
		}
	case "method":
		nameAny, ok := msg["method"]
		if !ok {
			break
		}
		f.hasMethod = true
		if f.method, ok = nameAny.(string); !ok {
			return nil, &wsClose{websocket.CloseInternalServerErr, fmt.Sprintf("argument of type '%s' is not iterable", pyTypeName(nameAny))}
		}
		if p, ok := f.raw["params"]; ok && !isFalsy(p) {
			if json.Unmarshal(p, &f.params) != nil || bytes.TrimSpace(p)[0] != '[' {
				f.params, f.badParams = nil, true
			}
		}
		if f.params == nil && !f.badParams {
			f.params = []json.RawMessage{}
		}
	case "sub":
		nameAny, ok := msg["name"]
		if !ok {
			return nil, &wsClose{websocket.CloseInternalServerErr, "'name'"}
		}
		if f.name, ok = nameAny.(string); !ok {
			return nil, &wsClose{websocket.CloseInternalServerErr, fmt.Sprintf("'%s' object has no attribute 'split'", pyTypeName(nameAny))}
		}
		if !f.hasID {
			return nil, &wsClose{websocket.CloseInternalServerErr, "'id'"}
		}
	case "unsub":
		if !f.hasID {
			return nil, &wsClose{websocket.CloseInternalServerErr, "'id'"}
		}
	}
	return f, nil
}

// legacyMessage handles one frame of the legacy protocol. It returns
// false when the connection must end.
func (s *Session) legacyMessage(data []byte, calls *sync.WaitGroup) bool {
	f, cl := decodeLegacy(data)
	if cl != nil {
		s.closeWith(cl.code, cl.text)
		return false
	}
	s.mu.Lock()
	handshake := s.handshake
	s.mu.Unlock()
	switch {
	case f.kind == "connect":
		if v, _ := f.version.(string); v != "1" {
			s.send(map[string]string{"msg": "failed", "version": "1"})
			return true
		}
		s.mu.Lock()
		for _, x := range f.features {
			if x == "PY_EXCEPTIONS" {
				s.pyExceptions = true
			}
		}
		s.handshake = true
		s.mu.Unlock()
		s.send(struct {
			Msg     string `json:"msg"`
			Session string `json:"session"`
		}{"connected", s.id})
	case !handshake:
		s.send(map[string]string{"msg": "failed", "version": "1"})
	case f.kind == "method":
		return s.legacyMethod(f, calls)
	case f.kind == "ping":
		if f.hasID {
			s.send(struct {
				Msg string          `json:"msg"`
				ID  json.RawMessage `json:"id"`
			}{"pong", f.id})
		} else {
			s.send(map[string]string{"msg": "pong"})
		}
	case f.kind == "sub":
		if s.Credentials() == nil {
			s.sendLegacyError(f.id, legacyErr{errno: int(syscall.EACCES), reason: "Not authorized"})
			return true
		}
		s.mu.Lock()
		s.subs[legacyIdent(f.id)] = f.name
		s.mu.Unlock()
		s.send(struct {
			Msg  string            `json:"msg"`
			Subs []json.RawMessage `json:"subs"`
		}{"ready", []json.RawMessage{f.id}})
	case f.kind == "unsub":
		s.mu.Lock()
		delete(s.subs, legacyIdent(f.id))
		s.mu.Unlock()
	}
	return true
}

// legacyIdent keys a legacy subscription by its id's JSON text.
func legacyIdent(id json.RawMessage) string { return "legacy:" + string(bytes.TrimSpace(id)) }

func (s *Session) legacyMethod(f *legacyFrame, calls *sync.WaitGroup) bool {
	fail := func(e legacyErr) bool {
		if !f.hasID {
			s.closeWith(websocket.CloseInternalServerErr, "'id'")
			return false
		}
		s.sendLegacyError(f.id, e)
		return true
	}
	if !f.hasMethod {
		return fail(legacyErr{errno: int(syscall.EINVAL), reason: "Message is malformed: 'method' is absent."})
	}
	m := s.b.lookupMethod(f.method)
	if m == nil {
		ce := s.b.lookupError(f.method)
		facts := factsOf(ce)
		return fail(legacyErr{errno: ce.errnum(), reason: ce.Error(), trace: &facts, extra: ce.Extra})
	}
	s.b.countCall(f.method)
	if !m.public && s.Credentials() == nil {
		return fail(legacyErr{errno: ErrnoNotAuthenticated, reason: "Not authenticated"})
	}
	if f.badParams {
		return fail(legacyErr{errno: int(syscall.EINVAL), reason: "`params` must be a list."})
	}
	calls.Add(1)
	go func() {
		defer calls.Done()
		s.call(m, f.id, f.hasID, f.params)
	}()
	return true
}

// lookupError is _method_lookup's CallError for a method that does not
// exist.
func (b *Backend) lookupError(name string) *CallError {
	if !strings.Contains(name, ".") {
		return &CallError{Message: "Invalid method name", Errno: errEBADMSG}
	}
	service, method, _ := cutLast(name, ".")
	b.mu.Lock()
	known := false
	for n := range b.methods {
		if strings.HasPrefix(n, service+".") {
			known = true
			break
		}
	}
	b.mu.Unlock()
	if !known {
		return &CallError{Message: fmt.Sprintf("Service %s not found", pyRepr(service)), Errno: ErrnoMethodNotFound}
	}
	return &CallError{Message: fmt.Sprintf("Method %s not found in %s", pyRepr(method), pyRepr(service)), Errno: ErrnoMethodNotFound}
}

func cutLast(s, sep string) (string, string, bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// isFalsy reports whether a JSON value is false in Python (`params or []`).
func isFalsy(raw json.RawMessage) bool {
	switch t := string(bytes.TrimSpace(raw)); t {
	case "null", "false", "0", `""`, "[]", "{}", "0.0":
		return true
	}
	return false
}

// pyTypeOfJSON names the Python type of a JSON document's top value.
func pyTypeOfJSON(data []byte) string {
	t := bytes.TrimSpace(data)
	if len(t) == 0 {
		return "object"
	}
	switch t[0] {
	case '[':
		return "list"
	case '"':
		return "str"
	case 't', 'f':
		return "bool"
	case 'n':
		return "NoneType"
	}
	if bytes.ContainsAny(t, ".eE") {
		return "float"
	}
	return "int"
}

func pyTypeName(v any) string {
	switch v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case float64:
		return "int"
	case string:
		return "str"
	case []any:
		return "list"
	case map[string]any:
		return "dict"
	}
	return "object"
}

// pyJSONError renders a decode failure roughly as Python's json module
// words it ("Expecting value: line 1 column 1 (char 0)").
func pyJSONError(data []byte, err error) string {
	var se *json.SyntaxError
	off := 0
	if ok := asSyntax(err, &se); ok {
		off = int(se.Offset)
		if off > 0 {
			off--
		}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return "Expecting value: line 1 column 1 (char 0)"
	}
	line, col := 1, 1
	for i := 0; i < off && i < len(data); i++ {
		if data[i] == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return fmt.Sprintf("Expecting value: line %d column %d (char %d)", line, col, off)
}

func asSyntax(err error, se **json.SyntaxError) bool {
	s, ok := err.(*json.SyntaxError)
	if ok {
		*se = s
	}
	return ok
}
