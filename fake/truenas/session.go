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

	ctx    context.Context
	cancel context.CancelFunc

	mu             sync.Mutex
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

func (b *Backend) serveWS(w http.ResponseWriter, r *http.Request) {
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
		b: b, id: newUUID(), conn: conn, ctx: ctx, cancel: cancel,
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
		s.b.mu.Lock()
		m := s.b.methods[name]
		s.b.mu.Unlock()
		if m == nil {
			if hasID {
				s.sendError(id, CodeMethodNotFound, "Method does not exist", nil)
			}
			continue
		}
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

// call runs one method call like process_method_call: within the
// connection's soft/hard semaphore, mapping errors to JSON-RPC errors.
func (s *Session) call(m *method, id json.RawMessage, hasID bool, params []json.RawMessage) {
	s.mu.Lock()
	if s.inflight >= HardCallLimit {
		s.mu.Unlock()
		if hasID {
			s.sendError(id, CodeTooManyConcurrent, fmt.Sprintf("Maximum number of concurrent calls (%d) has exceeded", HardCallLimit), nil)
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
	s.send(map[string]any{"jsonrpc": "2.0", "result": encodeJSON(result), "id": id})
}

func (s *Session) invoke(m *method, id json.RawMessage, hasID bool, params []json.RawMessage) (any, error) {
	cred := s.Credentials()
	if !m.public && cred == nil {
		return nil, &CallError{Message: "Not authenticated", Errno: ErrnoNotAuthenticated}
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
	legacy := s.legacyJobs
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

// sendCallError maps a Go error to the middleware's JSON-RPC error.
func (s *Session) sendCallError(id json.RawMessage, err error) {
	var (
		ve  *ValidationError
		ves ValidationErrors
		ce  *CallError
		ex  *Exception
	)
	switch {
	case errors.As(err, &ve):
		s.sendError(id, CodeInvalidParams, "Invalid params",
			errorData(int(syscall.EINVAL), ve.Error(), "ValidationError", [][]any{{nullable(ve.Attribute), ve.Message, ve.errno()}}))
	case errors.As(err, &ves):
		extra := make([][]any, 0, len(ves))
		for _, v := range ves {
			extra = append(extra, []any{nullable(v.Attribute), v.Message, v.errno()})
		}
		s.sendError(id, CodeInvalidParams, "Invalid params", errorData(int(syscall.EINVAL), ves.Error(), "ValidationErrors", extra))
	case errors.As(err, &ce):
		s.sendError(id, CodeMethodCallError, "Method call error", errorData(ce.errnum(), ce.Error(), "CallError", ce.Extra))
	case errors.As(err, &ex):
		s.sendError(id, CodeMethodCallError, "Method call error", errorData(int(syscall.EINVAL), ex.Message, ex.Type, nil))
	default:
		s.sendError(id, CodeMethodCallError, "Method call error", errorData(int(syscall.EINVAL), err.Error(), "Exception", nil))
	}
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func errorData(errno int, reason, class string, extra any) map[string]any {
	return map[string]any{
		"error":   errno,
		"errname": errname(errno),
		"reason":  reason,
		"trace": map[string]any{
			"class":     class,
			"frames":    []any{},
			"formatted": "Traceback (most recent call last):\n  File \"/usr/lib/python3/dist-packages/middlewared/main.py\", line 1, in call\n" + class + ": " + reason + "\n",
			"repr":      class + "(" + pyRepr(reason) + ")",
		},
		"extra": extra,
	}
}

func pyRepr(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "\\'") + "'"
}

func (s *Session) sendError(id json.RawMessage, code int, message string, data any) {
	e := map[string]any{"code": code, "message": message}
	if data != nil {
		e["data"] = data
	}
	if id == nil {
		id = json.RawMessage("null")
	}
	s.send(map[string]any{"jsonrpc": "2.0", "error": e, "id": id})
}

func (s *Session) send(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.b.env.Logger.Error("truenas fake: encode", "error", err)
		return
	}
	s.enqueue(b)
}

func (s *Session) enqueue(frames ...[]byte) {
	s.qmu.Lock()
	if !s.closed {
		s.queue = append(s.queue, frames...)
	}
	s.qmu.Unlock()
	select {
	case s.qsignal <- struct{}{}:
	default:
	}
}

// enqueueEvent queues a job event, applying the event faults.
func (s *Session) enqueueEvent(frame []byte) {
	f := s.b.env.Faults
	out := [][]byte{frame}
	if f.Take(sim.FaultDuplicateEvents) {
		out = append(out, frame)
	}
	s.qmu.Lock()
	if s.held != nil {
		out = append(out, s.held)
		s.held = nil
	} else if f.Take(sim.FaultReorderEvents) {
		s.held = frame
		out = out[1:]
	}
	if f.Take(sim.FaultDropWebsocket) {
		s.dropAt = true
		out = append(out, nil) // nil marks: drop after what precedes
	}
	s.qmu.Unlock()
	if len(out) > 0 {
		s.enqueue(out...)
	}
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
	22: "EINVAL", 28: "ENOSPC", 95: "EOPNOTSUPP", 103: "ECONNABORTED", 110: "ETIMEDOUT",
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
