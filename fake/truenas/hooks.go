package truenas

// This file is the extension surface of the TrueNAS fake: everything a
// file-transfer feature (/_upload, /_download, core.download, config.save,
// config.upload, filesystem.put) needs to plug a job into the engine
// without touching the websocket code.
//
// # Adding a job method
//
//	b.RegisterJobMethod("config.save", truenas.JobMethod{
//		Output: true, // the job writes a file: it needs an output pipe
//		Run: func(j *truenas.JobRun) (any, error) {
//			j.SetProgress(10, "Saving configuration", nil)
//			if _, err := j.Output().Write(data); err != nil {
//				return nil, err
//			}
//			return nil, nil
//		},
//	})
//
// Run executes on its own goroutine. It must block only through the
// JobRun: Sleep (fake time), Input().Read, Output().Write, Context().Done().
// That contract is what keeps jobs deterministic on a manual clock: when
// the clock fires a Sleep, it waits until the job blocks again before it
// moves on, so Advance(time.Minute) runs every step due in that minute.
//
// Run's return value becomes the job's result (JSON-encoded when the job
// ends). Its error decides the failure the client sees:
//
//   - *ValidationError or ValidationErrors: state FAILED, exc_info.type
//     "VALIDATION", exc_info.extra [[attribute, message, errno], ...];
//     a blocking (25.10+) call answers -32602 "Invalid params";
//   - *CallError: exc_info.type "CallError" with its errno and extra;
//     a blocking call answers -32001 "Method call error";
//   - *Exception: any other Python exception by class name (for example
//     "FileNotFoundError"), errno null;
//   - context.Canceled (returned after Context() ends because of
//     core.job_abort): state ABORTED, error null;
//   - any other Go error: an exception of class "Exception".
//
// # Starting a job from an HTTP handler
//
// /_upload authenticates the request with Authenticate, then starts the
// job with StartJob, handing it the uploaded file as the input pipe:
//
//	user, err := b.Authenticate(r)
//	job, err := b.StartJob(user, "config.upload", params, truenas.Pipes{Input: filePart})
//	// answer {"job_id": job.ID()}; job.Wait(ctx) blocks until it ends.
//
// For downloads, core.download (a plain method registered with
// RegisterMethod) starts the job with an io.Pipe's writer as Output and
// keeps the reader for /_download, and issues a one-use token with
// IssueToken(user, ttl, map[string]any{"job": id}, true).
//
// # Plain methods
//
// RegisterMethod adds a non-job method (core.download, auth.me, ...). Its
// errors map to JSON-RPC errors as above; a method that does not exist is
// -32601 "Method does not exist".

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/longrun/longrun/fake/sim"
)

// JobMethod describes a job method of the fake: how it is locked and
// queued, which pipes it needs, and what it does.
type JobMethod struct {
	// Description computes the job's description from its arguments
	// (the @job(description=...) lambda). Nil leaves it null.
	Description func(params []json.RawMessage) string
	// Lock names the job's lock from its arguments; jobs with the same
	// lock name run one at a time, in order. Nil or "" means no lock.
	Lock func(params []json.RawMessage) string
	// LockQueueSize is the real lock_queue_size: how many jobs may wait
	// for the lock before a new call attaches to the last waiting one
	// (its message_ids gain the new call's id, in a changed event). The
	// zero value means the real default, 5. Use QueueSize(0) for "refuse
	// with EBUSY while one runs" and QueueSize(-1) for unbounded (None).
	LockQueueSize *int
	// Transient jobs are forgotten when they end; from 26.0 on they send
	// no core.get_jobs events (24.10 to 25.10 send them all the same:
	// job.py's send_job_event checks transient only since NAS-137842).
	Transient bool
	// Abortable is reported in the job entry (abortable).
	Abortable bool
	// Logs is @job(logs=True): the entry's logs_path is set once the job
	// leaves WAITING and logs_excerpt when it ends ("" with no lines).
	// Without it, a job that writes log lines (JobRun.Log) gets them too.
	Logs bool
	// Input and Output say the job needs an input (upload) or output
	// (download) pipe. Starting it without one fails the call with
	// "Pipe 'input' is not open", as the real middleware does.
	Input, Output bool
	// ReadRoles is unused by the fake but kept for documentation parity.
	ReadRoles []string
	// Run does the work. See the file comment for its contract.
	Run func(j *JobRun) (any, error)
}

// QueueSize returns a pointer for JobMethod.LockQueueSize.
func QueueSize(n int) *int { return &n }

// MethodFunc is a plain (non-job) method. params are the JSON-RPC params,
// one raw value per positional argument.
type MethodFunc func(ctx context.Context, s *Session, params []json.RawMessage) (any, error)

// Pipes are the byte streams an HTTP handler hands to a job it starts.
type Pipes struct {
	// Input is what the job reads (the uploaded file).
	Input io.Reader
	// Output is where the job writes (the file to download).
	Output io.Writer
}

// RegisterJobMethod adds (or replaces) a job method.
func (b *Backend) RegisterJobMethod(name string, spec JobMethod) {
	if spec.Run == nil {
		panic("truenas: RegisterJobMethod " + name + " without Run")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	s := spec
	b.methods[name] = &method{name: name, job: &s}
}

// RegisterMethod adds (or replaces) a plain method. Methods that must work
// before login (auth.*, core.ping, core.set_options) are registered with
// RegisterPublicMethod.
func (b *Backend) RegisterMethod(name string, fn MethodFunc) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.methods[name] = &method{name: name, fn: fn}
}

// RegisterPublicMethod adds a plain method that needs no authentication.
func (b *Backend) RegisterPublicMethod(name string, fn MethodFunc) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.methods[name] = &method{name: name, fn: fn, public: true}
}

// Disable removes a method, so calling it answers -32601 "Method does not
// exist" (to emulate an older server without auth.login_ex, for example).
func (b *Backend) Disable(name string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.methods, name)
}

// StartJob starts job method on behalf of user outside any websocket call
// (from /_upload, or from core.download). The job is added to the queue
// and its added event sent before StartJob returns. It fails like the
// real middleware: a *CallError for an unknown method or a missing pipe,
// a *CallError with EBUSY when the lock refuses a queue.
func (b *Backend) StartJob(user sim.User, methodName string, params []json.RawMessage, pipes Pipes) (*Job, error) {
	return b.startJob(&Credentials{User: user, Type: CredLoginPassword}, methodName, params, pipes, nil)
}

// StartJobAs is StartJob with explicit credentials (how the caller
// authenticated, reported in the job's credentials field).
func (b *Backend) StartJobAs(cred *Credentials, methodName string, params []json.RawMessage, pipes Pipes) (*Job, error) {
	return b.startJob(cred, methodName, params, pipes, nil)
}

// JobByID returns a job the fake still remembers.
func (b *Backend) JobByID(id int) (*Job, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	j, ok := b.jobs[id]
	return j, ok
}

// ErrUnauthorized is returned by Authenticate for a request without valid
// credentials; answer it with 401 like the real /_upload.
var ErrUnauthorized = errors.New("truenas fake: unauthorized")

// Authenticate checks an HTTP request's credentials the ways the real
// middleware's HTTP endpoints accept them: "Authorization: Basic" with a
// user's name and password, "Authorization: Bearer <api key>",
// "Authorization: Token <token>", or "?auth_token=<token>" in the URL. A
// single-use token is used up. It returns the credentials or
// ErrUnauthorized.
func (b *Backend) Authenticate(r *http.Request) (*Credentials, error) {
	if tok := r.URL.Query().Get("auth_token"); tok != "" {
		return b.authToken(tok)
	}
	h := r.Header.Get("Authorization")
	scheme, rest, _ := strings.Cut(h, " ")
	rest = strings.TrimSpace(rest)
	switch strings.ToLower(scheme) {
	case "basic":
		name, pw, ok := r.BasicAuth()
		if !ok {
			return nil, ErrUnauthorized
		}
		if u, ok := b.checkPassword(name, pw); ok {
			return &Credentials{User: u, Type: CredLoginPassword}, nil
		}
	case "bearer":
		if u, ok := b.checkAPIKey("", rest); ok {
			return apiKeyCred(u), nil
		}
	case "token":
		return b.authToken(rest)
	}
	return nil, ErrUnauthorized
}

func (b *Backend) authToken(tok string) (*Credentials, error) {
	t, ok := b.LookupToken(tok, true)
	if !ok {
		return nil, ErrUnauthorized
	}
	return &Credentials{User: t.User, Type: CredToken}, nil
}

// Token is an authentication token issued by auth.generate_token or
// IssueToken.
type Token struct {
	User      sim.User
	Attrs     map[string]any
	Expires   time.Time // zero: never
	SingleUse bool
}

// DefaultTokenTTL is auth.generate_token's default ttl (600 seconds).
const DefaultTokenTTL = 600 * time.Second

// IssueToken makes a token for user valid for ttl of fake time (0: the
// default 600 s; negative: no expiry). attrs are kept for the caller (a
// download token carries {"job": id}).
func (b *Backend) IssueToken(user sim.User, ttl time.Duration, attrs map[string]any, singleUse bool) string {
	if ttl == 0 {
		ttl = DefaultTokenTTL
	}
	tok := randomToken()
	t := &Token{User: user, Attrs: attrs, SingleUse: singleUse}
	if ttl > 0 {
		t.Expires = b.env.Clock.Now().Add(ttl)
	}
	b.mu.Lock()
	b.tokens[tok] = t
	b.mu.Unlock()
	return tok
}

// LookupToken returns a valid token's record; with consume a single-use
// token is used up. Expired tokens are forgotten.
func (b *Backend) LookupToken(tok string, consume bool) (*Token, bool) {
	now := b.env.Clock.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	for k, t := range b.tokens {
		if sim.SecretEqual(k, tok) {
			if !t.Expires.IsZero() && !now.Before(t.Expires) {
				delete(b.tokens, k)
				return nil, false
			}
			if consume && t.SingleUse {
				delete(b.tokens, k)
			}
			c := *t
			return &c, true
		}
	}
	return nil, false
}

// ValidationError is one invalid argument: the real ValidationError. An
// empty Attribute is Python's None (InstanceNotFound has none).
type ValidationError struct {
	Attribute string
	Message   string
	Errno     int // EINVAL when zero

	emptyAttr bool // the attribute is "" rather than None
}

// Error implements error: str(ValidationError), "[ERRNAME] attribute: message".
func (e *ValidationError) Error() string {
	return fmt.Sprintf("[%s] %s: %s", errname(e.errno()), e.attr(), e.Message)
}

func (e *ValidationError) attr() string {
	if e.Attribute == "" && !e.emptyAttr {
		return "None"
	}
	return e.Attribute
}

func (e *ValidationError) errno() int {
	if e.Errno == 0 {
		return int(syscall.EINVAL)
	}
	return e.Errno
}

// triple is the (attribute, errmsg, errno) the middleware lists in extra.
func (e *ValidationError) triple() []any {
	var attr any = e.Attribute
	if e.Attribute == "" && !e.emptyAttr {
		attr = nil
	}
	return []any{attr, e.Message, e.errno()}
}

func (e *ValidationError) repr() string {
	attr := "None"
	if e.Attribute != "" || e.emptyAttr {
		attr = pyRepr(e.Attribute)
	}
	return fmt.Sprintf("ValidationError(%s, %s, %d)", attr, pyRepr(e.Message), e.errno())
}

// ValidationErrors are several invalid arguments at once.
type ValidationErrors []ValidationError

// Error implements error: one str(ValidationError) per line.
func (e ValidationErrors) Error() string {
	var sb strings.Builder
	for i := range e {
		sb.WriteString(e[i].Error())
		sb.WriteString("\n")
	}
	return sb.String()
}

func (e ValidationErrors) reprList() string {
	parts := make([]string, len(e))
	for i := range e {
		parts[i] = e[i].repr()
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// CallError is the real CallError: a message with an errno (EFAULT when
// zero) and optional extra data.
type CallError struct {
	Message string
	Errno   int
	Extra   any
}

// Error implements error.
func (e *CallError) Error() string { return fmt.Sprintf("[%s] %s", errname(e.errnum()), e.Message) }

func (e *CallError) errnum() int {
	if e.Errno == 0 {
		return int(syscall.EFAULT)
	}
	return e.Errno
}

// Exception is any other Python exception, by class name.
type Exception struct {
	Type    string // "FileNotFoundError", "RuntimeError", ...
	Message string
	// Repr is repr(exception) when it is not Type(repr(Message)), as
	// for KeyError(9999), whose str is "9999".
	Repr string
}

// Error implements error.
func (e *Exception) Error() string { return e.Message }

// JobRun is what a running job's Run function works with.
type JobRun struct {
	job   *Job
	b     *Backend
	ctx   context.Context
	input io.Reader
	out   io.Writer

	mu     sync.Mutex
	parked chan struct{} // closed when the job blocks again after a wake-up (expectPark)
}

// ID is the job's id.
func (r *JobRun) ID() int { return r.job.id }

// Method is the job's method name.
func (r *JobRun) Method() string { return r.job.method }

// Params are the job's arguments, one raw JSON value per argument.
func (r *JobRun) Params() []json.RawMessage { return r.job.params }

// Param decodes argument i into v; a missing argument leaves v alone and
// returns false.
func (r *JobRun) Param(i int, v any) (bool, error) {
	if i >= len(r.job.params) {
		return false, nil
	}
	return true, json.Unmarshal(r.job.params[i], v)
}

// User is who started the job.
func (r *JobRun) User() sim.User { return r.job.cred.User }

// Context ends when the job is aborted (core.job_abort) or the backend
// closes.
func (r *JobRun) Context() context.Context { return r.ctx }

// Done is Context().Done().
func (r *JobRun) Done() <-chan struct{} { return r.ctx.Done() }

// Clock is the fake's clock.
func (r *JobRun) Clock() *sim.Clock { return r.b.env.Clock }

// SetProgress updates the job's progress like job.set_progress: percent
// is truncated to an integer, an empty description or nil extra leaves the
// old value, and a changed event is sent only when something changed.
// A negative percent leaves the percent alone.
func (r *JobRun) SetProgress(percent float64, description string, extra any) {
	r.b.setProgress(r.job, percent, description, extra)
}

// SetDescription sets the job's description (job.set_description).
func (r *JobRun) SetDescription(d string) { r.b.setDescription(r.job, d) }

// Log appends a line to the job's log; logs_excerpt shows the log once
// the job ends.
func (r *JobRun) Log(line string) { r.b.appendLog(r.job, line) }

// Sleep waits d of fake time. It returns Context().Err() when the job is
// aborted first.
func (r *JobRun) Sleep(d time.Duration) error {
	woke := make(chan struct{})
	t := r.b.env.Clock.AfterFunc(d, func() {
		ch := r.expectPark()
		close(woke)
		// Let the job run until it blocks again, so that one Advance
		// runs every step that falls due within it.
		select {
		case <-ch:
		case <-r.ctx.Done():
		}
	})
	r.park()
	select {
	case <-woke:
		return nil
	case <-r.ctx.Done():
		t.Stop()
		return r.ctx.Err()
	}
}

// expectPark returns a channel closed when the job next blocks through
// the JobRun. Call it before waking the job: everyone who wakes the job
// before it blocks again (a clock callback, attach) shares one channel.
func (r *JobRun) expectPark() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.parked == nil {
		r.parked = make(chan struct{})
	}
	return r.parked
}

// park tells a waiting clock callback that the job is blocked again.
func (r *JobRun) park() {
	r.mu.Lock()
	ch := r.parked
	r.parked = nil
	r.mu.Unlock()
	if ch != nil {
		close(ch)
	}
}

// Input is the job's input pipe (the uploaded file), or nil. Reading it
// counts as blocking (see the file comment).
func (r *JobRun) Input() io.Reader {
	if r.input == nil {
		return nil
	}
	return parkReader{r}
}

// Output is the job's output pipe (the file to download), or nil.
func (r *JobRun) Output() io.Writer {
	if r.out == nil {
		return nil
	}
	return parkWriter{r}
}

type parkReader struct{ r *JobRun }

// Read reads the pipe, telling the clock the job may block.
func (p parkReader) Read(b []byte) (int, error) { p.r.park(); return p.r.input.Read(b) }

type parkWriter struct{ r *JobRun }

// Write writes the pipe, telling the clock the job may block.
func (p parkWriter) Write(b []byte) (int, error) { p.r.park(); return p.r.out.Write(b) }
