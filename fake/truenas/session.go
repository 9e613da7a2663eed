package truenas

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"github.com/longrun/longrun/fake/sim"
)

// JSON-RPC error codes the middleware answers with.
const (
	CodeParseError         = -32700
	CodeInvalidRequest     = -32600
	CodeMethodNotFound     = -32601
	CodeInvalidParams      = -32602
	CodeInternalError      = -32603
	CodeTooManyConcurrent  = -32000
	CodeMethodCallError    = -32001
	ErrnoNotAuthenticated  = 207
	ErrnoMethodNotFound    = 201
	collectionJobs         = "core.get_jobs"
	notificationCollection = "collection_update"
)

// writeTimeout bounds how long a frame may wait for a client that stopped
// reading (wall time: it guards the fake against a stuck peer).
const writeTimeout = 10 * time.Second

// Session is one websocket connection to the fake.
type Session struct {
	b    *Backend
	id   string
	conn *websocket.Conn
	// legacy is the pre-JSON-RPC protocol of /websocket.
	legacy bool

	// scram is an API-key SCRAM login in progress (auth.login_ex).
	scram *scramLogin

	ctx    context.Context
	cancel context.CancelFunc

	mu             sync.Mutex
	handshake      bool // legacy: connect answered with connected
	cred           *Credentials
	legacyJobs     bool
	privateMethods bool
	pyExceptions   bool
	subs           map[string]string // ident -> event name
	inflight       int
	soft           chan struct{}

	// outgoing frames, written by the writer goroutine in order
	qmu     sync.Mutex
	queue   [][]byte
	qsignal chan struct{}
	held    []byte // FaultReorderEvents: an event held back
	dropAt  bool   // FaultDropWebsocket: close after the next event
	closed  bool
	done    chan struct{}
}

// ID is the session's id.
func (s *Session) ID() string { return s.id }

// Credentials returns how the session authenticated, or nil.
func (s *Session) Credentials() *Credentials {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cred
}

// User returns the session's user, if it is authenticated.
func (s *Session) User() (sim.User, bool) {
	c := s.Credentials()
	if c == nil {
		return sim.User{}, false
	}
	return c.User, true
}

// Backend is the backend the session belongs to.
func (s *Session) Backend() *Backend { return s.b }

func (b *Backend) serveWS(w http.ResponseWriter, r *http.Request, legacy bool) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	b.wg.Add(1)
	b.mu.Unlock()
	defer b.wg.Done()
	conn, err := b.up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	ctx, cancel := context.WithCancel(b.ctx)
	s := &Session{
		b: b, id: newUUID(), conn: conn, ctx: ctx, cancel: cancel, legacy: legacy,
		legacyJobs: true, subs: map[string]string{},
		soft: make(chan struct{}, SoftCallLimit), qsignal: make(chan struct{}, 1),
		done: make(chan struct{}),
	}
	b.mu.Lock()
	b.sessions[s] = struct{}{}
	b.mu.Unlock()
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		s.writeLoop()
	}()
	var calls sync.WaitGroup
	s.readLoop(&calls)
	s.close()
	calls.Wait()
	<-writerDone
	b.mu.Lock()
	delete(b.sessions, s)
	b.mu.Unlock()
}

// close ends the session gracefully.
func (s *Session) close() {
	s.cancel()
	s.qmu.Lock()
	if !s.closed {
		s.closed = true
		close(s.done)
	}
	s.qmu.Unlock()
	_ = s.conn.Close()
}

// drop closes the connection without a close frame.
func (s *Session) drop() {
	s.b.env.Logger.Debug("truenas fake: dropping websocket", "session", s.id)
	s.close()
}

func (s *Session) readLoop(calls *sync.WaitGroup) {
	s.conn.SetReadLimit(2*1024*1024 + 1)
	for {
		mt, data, err := s.conn.ReadMessage()
		if err != nil {
			return
		}
		if mt != websocket.TextMessage {
			s.closeWith(websocket.CloseUnsupportedData, fmt.Sprintf("Invalid websocket message type: %d", mt))
			return
		}
		authed := s.Credentials() != nil
		if !authed && len(data) > MaxUnauthenticatedMessage {
			s.closeWith(websocket.CloseInvalidFramePayloadData, "Anonymous connection max message length is 8 kB")
			return
		}
		if s.legacy {
			if !s.legacyMessage(data, calls) {
				return
			}
			continue
		}
		var msg map[string]json.RawMessage
		if err := json.Unmarshal(data, &msg); err != nil {
			if bytes.HasPrefix(bytes.TrimSpace(data), []byte("[")) {
				s.sendError(nil, CodeParseError, "Batch messages are not supported at this time", nil)
			} else {
				s.sendError(nil, CodeParseError, err.Error(), nil)
			}
			continue
		}
		var name string
		_ = json.Unmarshal(msg["method"], &name)
		if len(data) > MaxMessage {
			s.closeWith(websocket.CloseMessageTooBig, "Max message length is 64 kB")
			return
		}
		id, hasID := msg["id"]
		if err := validateRequest(msg); err != nil {
			if hasID {
				s.sendError(id, CodeInvalidRequest, err.Error(), nil)
			}
			continue
		}
		var params []json.RawMessage
		if p, ok := msg["params"]; ok {
			_ = json.Unmarshal(p, &params)
		}
		m := s.b.lookupMethod(name)
		if m == nil {
			if hasID {
				s.sendError(id, CodeMethodNotFound, "Method does not exist", nil)
			}
			continue
		}
		s.b.countCall(name)
		calls.Add(1)
		go func() {
			defer calls.Done()
			s.call(m, id, hasID, params)
		}()
	}
}

func validateRequest(msg map[string]json.RawMessage) error {
	v, ok := msg["jsonrpc"]
	if !ok {
		return errors.New("Missing 'jsonrpc' member")
	}
	if string(bytes.TrimSpace(v)) != `"2.0"` {
		return errors.New("'jsonrpc' member must be of type string and must be exactly '2.0'")
	}
	if id, ok := msg["id"]; ok {
		t := bytes.TrimSpace(id)
		if len(t) == 0 || !(t[0] == '"' || t[0] == '-' || (t[0] >= '0' && t[0] <= '9') || string(t) == "null") ||
			bytes.ContainsAny(t, ".eE") && t[0] != '"' {
			return errors.New("'id' member must be of type null, string or number")
		}
	}
	m, ok := msg["method"]
	if !ok {
		return errors.New("Missing 'method' member")
	}
	var name string
	if json.Unmarshal(m, &name) != nil || name == "" {
		return errors.New("'method' member must be of type string")
	}
	if p, ok := msg["params"]; ok {
		t := bytes.TrimSpace(p)
		if len(t) == 0 || t[0] != '[' {
			return errors.New("'params' member must be of type array")
		}
		var params []json.RawMessage
		if json.Unmarshal(t, &params) != nil {
			return errors.New("'params' member must be of type array")
		}
	}
	return nil
}

func (s *Session) closeWith(code int, text string) {
	_ = s.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
}

// call runs one method call like process_method_call (JSON-RPC) or
// Application.call_method (legacy): within the connection's soft/hard
// semaphore, mapping errors to the protocol's error object.
func (s *Session) call(m *method, id json.RawMessage, hasID bool, params []json.RawMessage) {
	s.mu.Lock()
	if s.inflight >= HardCallLimit {
		s.mu.Unlock()
		if hasID {
			if s.legacy {
				s.sendLegacyError(id, legacyErr{errno: errETOOMANYREFS,
					reason: fmt.Sprintf("Maximum number of concurrent calls (%d) has exceeded.", HardCallLimit)})
			} else {
				s.sendError(id, CodeTooManyConcurrent, fmt.Sprintf("Maximum number of concurrent calls (%d) has exceeded", HardCallLimit), nil)
			}
		}
		return
	}
	s.inflight++
	s.mu.Unlock()
	// The reply goes out after the call has left the semaphore, as in
	// process_method_call, so a client that saw the reply has its slot back.
	result, ok, err := func() (any, bool, error) {
		defer func() {
			s.mu.Lock()
			s.inflight--
			s.mu.Unlock()
		}()
		select {
		case s.soft <- struct{}{}:
		case <-s.ctx.Done():
			return nil, false, nil
		}
		defer func() { <-s.soft }()
		r, e := s.invoke(m, id, hasID, params)
		return r, true, e
	}()
	if !ok || !hasID {
		return
	}
	if s.b.env.Faults.Take(sim.FaultSlowReplies) {
		if s.b.env.Clock.Sleep(s.ctx, time.Second) != nil {
			return
		}
	}
	if err != nil {
		if errors.Is(err, context.Canceled) && s.ctx.Err() != nil {
			return
		}
		s.sendCallError(id, err)
		return
	}
	s.sendResult(id, encodeJSON(result))
}

// sendResult answers a call with its result in the session's protocol.
// result and id are valid JSON (encodeJSON's output and a value of the
// parsed request), so the frame is assembled without re-encoding them.
func (s *Session) sendResult(id, result json.RawMessage) {
	var b []byte
	if s.legacy {
		b = make([]byte, 0, len(result)+len(id)+32)
		b = append(b, `{"id":`...)
		b = append(b, id...)
		b = append(b, `,"msg":"result","result":`...)
		b = append(b, result...)
		b = append(b, '}')
	} else {
		b = make([]byte, 0, len(result)+len(id)+36)
		b = append(b, `{"jsonrpc":"2.0","result":`...)
		b = append(b, result...)
		b = append(b, `,"id":`...)
		b = append(b, id...)
		b = append(b, '}')
	}
	s.enqueue(b)
}

// tooManyArguments is the middleware's check of the positional arguments
// against the method's signature (accept.py): a ValidationErrors on the
// attribute "" since 25.04, a CallError (EFAULT) in 24.10.
func (s *Session) tooManyArguments(name string, n int) error {
	s.b.mu.Lock()
	limit, ok := s.b.arity[name]
	rel := s.b.rel
	s.b.mu.Unlock()
	if !ok || n <= limit {
		return nil
	}
	msg := fmt.Sprintf("Too many arguments (expected %d, found %d)", limit, n)
	if rel.tooManyCall {
		return &CallError{Message: msg}
	}
	return ValidationErrors{{Message: msg, emptyAttr: true}}
}

func (s *Session) invoke(m *method, id json.RawMessage, hasID bool, params []json.RawMessage) (any, error) {
	cred := s.Credentials()
	if !m.public && cred == nil {
		return nil, &CallError{Message: "Not authenticated", Errno: ErrnoNotAuthenticated}
	}
	if err := s.tooManyArguments(m.name, len(params)); err != nil {
		return nil, err
	}
	if m.fn != nil {
		return m.fn(s.ctx, s, params)
	}
	var msgID json.RawMessage
	if hasID {
		msgID = id
	}
	job, err := s.b.startJob(cred, m.name, params, Pipes{}, msgID)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	legacy := s.legacyJobs || s.legacy
	s.mu.Unlock()
	if legacy {
		return job.id, nil
	}
	select {
	case <-job.done:
	case <-s.ctx.Done():
		return nil, s.ctx.Err()
	}
	return job.outcome()
}

// errorFacts are what the middleware reports of a Python exception.
type errorFacts struct {
	validation bool // ValidationError(s)
	many       bool // ValidationErrors
	errno      int
	reason     string
	class      string
	extra      any
	repr       string
}

// factsOf maps a Go error to the exception the middleware would raise.
func factsOf(err error) errorFacts {
	var (
		ve  *ValidationError
		ves ValidationErrors
		ce  *CallError
		ex  *Exception
	)
	switch {
	case errors.As(err, &ve):
		return errorFacts{validation: true, errno: ve.errno(), reason: ve.Error(), class: "ValidationError",
			extra: [][]any{ve.triple()}, repr: ve.repr()}
	case errors.As(err, &ves):
		extra := make([][]any, 0, len(ves))
		for i := range ves {
			extra = append(extra, ves[i].triple())
		}
		return errorFacts{validation: true, many: true, errno: int(syscall.EINVAL), reason: ves.Error(),
			class: "ValidationErrors", extra: extra, repr: "ValidationErrors(" + ves.reprList() + ")"}
	case errors.As(err, &ce):
		return errorFacts{errno: ce.errnum(), reason: ce.Error(), class: "CallError", extra: ce.Extra,
			repr: fmt.Sprintf("CallError(%s, %d, %s)", pyRepr(ce.Message), ce.errnum(), pyValue(ce.Extra))}
	case errors.As(err, &ex):
		repr := ex.Repr
		if repr == "" {
			repr = ex.Type + "(" + pyRepr(ex.Message) + ")"
		}
		return errorFacts{errno: int(syscall.EINVAL), reason: ex.Message, class: ex.Type, repr: repr}
	default:
		return errorFacts{errno: int(syscall.EINVAL), reason: err.Error(), class: "Exception", repr: "Exception(" + pyRepr(err.Error()) + ")"}
	}
}

// sendCallError maps a Go error to the middleware's error reply: the
// JSON-RPC error of process_method_call, or the legacy error object of
// Application.call_method.
func (s *Session) sendCallError(id json.RawMessage, err error) {
	f := factsOf(err)
	if s.legacy {
		le := legacyErr{errno: f.errno, reason: f.reason, trace: &f, extra: f.extra}
		if f.validation {
			le.etype = "VALIDATION"
			if f.many {
				le.errno = int(syscall.EAGAIN)
			}
		}
		s.sendLegacyError(id, le)
		return
	}
	switch {
	case f.validation:
		s.sendError(id, CodeInvalidParams, "Invalid params", errorData(int(syscall.EINVAL), f.reason, &f, f.extra))
	default:
		s.sendError(id, CodeMethodCallError, "Method call error", errorData(f.errno, f.reason, &f, f.extra))
	}
}

// pyValue renders a few Go values as Python's repr would.
func pyValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case string:
		return pyRepr(x)
	case bool:
		if x {
			return "True"
		}
		return "False"
	}
	return fmt.Sprint(v)
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// rpcTrace is the JSON-RPC trace (truenas_error_traceback): class,
// formatted, repr; no frames.
type rpcTrace struct {
	Class     string `json:"class"`
	Formatted string `json:"formatted"`
	Repr      string `json:"repr"`
}

// legacyTrace is the legacy trace (Application._tb_error): class, frames
// (one per traceback level, with locals), formatted, repr.
type legacyTrace struct {
	Class     string             `json:"class"`
	Frames    []legacyTraceFrame `json:"frames"`
	Formatted string             `json:"formatted"`
	Repr      string             `json:"repr"`
}

type legacyTraceFrame struct {
	Filename string            `json:"filename"`
	Lineno   int               `json:"lineno"`
	Method   string            `json:"method"`
	Line     string            `json:"line"`
	Argspec  []string          `json:"argspec,omitempty"`
	Locals   map[string]string `json:"locals,omitempty"`
}

func formatted(f *errorFacts) string {
	cls := f.class
	if f.validation {
		cls = "middlewared.service_exception." + f.class
	} else if f.class == "CallError" {
		cls = "middlewared.service_exception.CallError"
	}
	return "Traceback (most recent call last):\n" +
		"  File \"/usr/lib/python3/dist-packages/middlewared/main.py\", line 211, in call_method\n" +
		"    result = await self.middleware.call_with_audit(message['method'], serviceobj, methodobj, params, self)\n" +
		cls + ": " + f.reason + "\n"
}

// rpcErrorData is format_truenas_error's dict, in its key order.
type rpcErrorData struct {
	Error   int       `json:"error"`
	Errname string    `json:"errname"`
	Reason  string    `json:"reason"`
	Trace   *rpcTrace `json:"trace"`
	Extra   any       `json:"extra"`
}

func errorData(errno int, reason string, f *errorFacts, extra any) rpcErrorData {
	d := rpcErrorData{Error: errno, Errname: errname(errno), Reason: reason, Extra: extra}
	if f != nil {
		d.Trace = &rpcTrace{Class: f.class, Formatted: formatted(f), Repr: f.repr}
	}
	return d
}

func pyRepr(s string) string {
	if strings.Contains(s, "'") && !strings.Contains(s, "\"") {
		return "\"" + strings.ReplaceAll(s, "\\", "\\\\") + "\""
	}
	s = strings.ReplaceAll(s, "\\", "\\\\")
	s = strings.ReplaceAll(s, "\n", "\\n")
	return "'" + strings.ReplaceAll(s, "'", "\\'") + "'"
}

type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    any    `json:"data,omitempty"`
}

type rpcErrorReply struct {
	JSONRPC string          `json:"jsonrpc"`
	Error   rpcError        `json:"error"`
	ID      json.RawMessage `json:"id"`
}

func (s *Session) sendError(id json.RawMessage, code int, message string, data any) {
	if id == nil {
		id = json.RawMessage("null")
	}
	s.send(rpcErrorReply{JSONRPC: "2.0", Error: rpcError{Code: code, Message: message, Data: data}, ID: id})
}

func (s *Session) send(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.b.env.Logger.Error("truenas fake: encode", "error", err)
		return
	}
	s.enqueue(b)
}

// enqueue queues frames for the writer. An event held back by the
// reorder fault goes out right after them.
func (s *Session) enqueue(frames ...[]byte) {
	s.qmu.Lock()
	s.pushLocked(frames...)
	s.qmu.Unlock()
	s.signal()
}

func (s *Session) pushLocked(frames ...[]byte) {
	if s.closed || len(frames) == 0 {
		return
	}
	s.queue = append(s.queue, frames...)
	if s.held != nil {
		s.queue = append(s.queue, s.held)
		s.held = nil
	}
}

func (s *Session) signal() {
	select {
	case s.qsignal <- struct{}{}:
	default:
	}
}

// FaultLoseEvents drops a job event on its way to one connection (a lost
// frame); FaultReorderEvents (sim.FaultReorderEvents) holds one back and
// sends it right after the connection's next frame, so it is late but
// never lost.
const (
	FaultLoseEvents    = "truenas.lose-events"
	FaultReorderEvents = sim.FaultReorderEvents
)

// enqueueEvent queues a job event, applying the event faults.
func (s *Session) enqueueEvent(frame []byte) {
	f := s.b.env.Faults
	if f.Take(FaultLoseEvents) {
		s.b.env.Logger.Debug("truenas fake: losing an event", "session", s.id)
		return
	}
	out := [][]byte{frame}
	if f.Take(sim.FaultDuplicateEvents) {
		out = append(out, frame)
	}
	s.qmu.Lock()
	if s.held == nil && f.Take(FaultReorderEvents) {
		// Hold this event; it follows the next frame of the connection.
		s.pushLocked(out[1:]...)
		s.held = frame
	} else {
		s.pushLocked(out...)
	}
	if f.Take(sim.FaultDropWebsocket) {
		s.dropAt = true
		if !s.closed {
			s.queue = append(s.queue, nil) // nil marks: drop after what precedes
		}
	}
	s.qmu.Unlock()
	s.signal()
}

func (s *Session) writeLoop() {
	for {
		s.b.hold.RLock()
		s.qmu.Lock()
		q := s.queue
		s.queue = nil
		closed := s.closed
		s.qmu.Unlock()
		for _, frame := range q {
			if frame == nil {
				s.b.hold.RUnlock()
				s.drop()
				return
			}
			_ = s.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
			if err := s.conn.WriteMessage(websocket.TextMessage, frame); err != nil {
				s.b.hold.RUnlock()
				s.close()
				return
			}
		}
		s.b.hold.RUnlock()
		if closed {
			return
		}
		select {
		case <-s.qsignal:
		case <-s.done:
		}
	}
}

func (s *Session) subscribed(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.subs {
		if n == name || n == "*" {
			return true
		}
	}
	return false
}

var errnames = map[int]string{
	1: "EPERM", 2: "ENOENT", 5: "EIO", 11: "EAGAIN", 13: "EACCES", 14: "EFAULT", 16: "EBUSY", 17: "EEXIST",
	22: "EINVAL", 28: "ENOSPC", 74: "EBADMSG", 95: "EOPNOTSUPP", 103: "ECONNABORTED", 108: "ESHUTDOWN",
	109: "ETOOMANYREFS", 110: "ETIMEDOUT",
	201: "ENOMETHOD", 202: "ESERVICESTARTFAILURE", 203: "EALERTCHECKERUNAVAILABLE", 204: "EREMOTENODEERROR",
	205: "EDATASETISLOCKED", 206: "EINVALIDRRDTIMESTAMP", 207: "ENOTAUTHENTICATED",
	208: "ESSLCERTVERIFICATIONERROR", 209: "EREBOOTREQUIRED", 210: "EHAUNAVAILABLE",
}

func errname(n int) string {
	if s, ok := errnames[n]; ok {
		return s
	}
	return "EUNKNOWN"
}
