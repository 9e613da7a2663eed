package truenas

import (
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"time"
)

// Job states, as the middleware spells them.
const (
	StateWaiting = "WAITING"
	StateRunning = "RUNNING"
	StateSuccess = "SUCCESS"
	StateFailed  = "FAILED"
	StateAborted = "ABORTED"
)

// Job is a job of the fake's engine.
type Job struct {
	b      *Backend
	id     int
	method string
	spec   *JobMethod
	params []json.RawMessage
	cred   *Credentials
	pipes  Pipes

	// guarded by b.mu
	messageIDs  []json.RawMessage
	description *string
	percent     int
	pdesc       string
	extra       any
	wrapped     []*Job // jobs wrapping this one (job.wrap): they mirror its progress
	state       string
	result      json.RawMessage
	runErr      error
	errText     *string
	exception   *string
	excInfo     map[string]any
	logs        []string
	logsExcerpt *string
	started     time.Time
	finished    time.Time
	lockName    string
	aborted     bool
	changed     chan struct{} // closed and replaced on each change

	// raw caches encodeLocked's output and doc its decoded form (for
	// core.get_jobs filters) until the job next changes.
	raw json.RawMessage
	doc any

	run    *JobRun
	cancel context.CancelFunc
	done   chan struct{}
}

// ID is the job id.
func (j *Job) ID() int { return j.id }

// Method is the job's method name.
func (j *Job) Method() string { return j.method }

// State is the job's current state (WAITING, RUNNING, SUCCESS, FAILED,
// ABORTED).
func (j *Job) State() string {
	j.b.mu.Lock()
	defer j.b.mu.Unlock()
	return j.state
}

// Done is closed when the job has ended.
func (j *Job) Done() <-chan struct{} { return j.done }

// Wait blocks until the job ends or ctx does, and returns the job's
// result or its failure (the error Run returned; context.Canceled for an
// abort).
func (j *Job) Wait(ctx context.Context) (json.RawMessage, error) {
	select {
	case <-j.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	res, err := j.outcome()
	if err != nil {
		return nil, err
	}
	return res.(json.RawMessage), nil
}

// outcome is the result of an ended job as a blocking call answers it.
func (j *Job) outcome() (any, error) {
	j.b.mu.Lock()
	defer j.b.mu.Unlock()
	switch j.state {
	case StateSuccess:
		return j.result, nil
	case StateAborted:
		return json.RawMessage("null"), nil
	}
	return nil, j.runErr
}

// Abort aborts the job like core.job_abort.
func (j *Job) Abort() { j.b.abort(j) }

// Entry returns the job's wire document as core.get_jobs shows it.
func (j *Job) Entry() json.RawMessage {
	j.b.mu.Lock()
	defer j.b.mu.Unlock()
	return j.encodeLocked()
}

// WaitFor blocks until ch is closed or the job is aborted. A job must use
// it (rather than a bare receive) to wait on anything that is not fake
// time or a pipe, so the clock knows it is blocked.
func (r *JobRun) WaitFor(ch <-chan struct{}) error {
	r.park()
	select {
	case <-ch:
		return nil
	case <-r.ctx.Done():
		return r.ctx.Err()
	}
}

type dollarDate struct {
	Date int64 `json:"$date"`
}

// dateOrNil encodes a datetime as the middleware's JSON encoder does:
// {"$date": whole seconds since the epoch * 1000} (calendar.timegm of the
// time tuple drops the fraction).
func dateOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return dollarDate{t.Unix() * 1000}
}

// dirtyLocked drops the job's cached encoding after a change.
func (j *Job) dirtyLocked() {
	j.raw, j.doc = nil, nil
}

// encodeLocked is Job.__encode__ (cached until the job changes).
func (j *Job) encodeLocked() json.RawMessage {
	if j.raw == nil {
		j.raw = j.encodeFreshLocked()
	}
	return j.raw
}

// encodeFreshLocked is Job.__encode__: every field, in the real order of
// the emulated release.
func (j *Job) encodeFreshLocked() json.RawMessage {
	type progress struct {
		Percent     int    `json:"percent"`
		Description string `json:"description"`
		Extra       any    `json:"extra"`
	}
	type credentials struct {
		Type string `json:"type"`
		Data any    `json:"data"`
	}
	type entry struct {
		ID                  int                `json:"id"`
		MessageIDs          *[]json.RawMessage `json:"message_ids,omitempty"`
		Method              string             `json:"method"`
		Arguments           []json.RawMessage  `json:"arguments"`
		Transient           bool               `json:"transient"`
		Description         *string            `json:"description"`
		Abortable           bool               `json:"abortable"`
		LogsPath            *string            `json:"logs_path"`
		LogsExcerpt         *string            `json:"logs_excerpt"`
		Progress            progress           `json:"progress"`
		Result              json.RawMessage    `json:"result"`
		ResultEncodingError *string            `json:"result_encoding_error"`
		Error               *string            `json:"error"`
		Exception           *string            `json:"exception"`
		ExcInfo             map[string]any     `json:"exc_info"`
		State               string             `json:"state"`
		TimeStarted         any                `json:"time_started"`
		TimeFinished        any                `json:"time_finished"`
		Credentials         *credentials       `json:"credentials"`
	}
	rel := j.b.rel
	e := entry{
		ID: j.id, Method: j.method, Arguments: j.params,
		Transient: j.spec.Transient, Description: j.description, Abortable: j.spec.Abortable,
		LogsExcerpt: j.logsExcerpt,
		Progress:    progress{j.percent, j.pdesc, j.extra},
		Result:      json.RawMessage("null"),
		Error:       j.errText, Exception: j.exception, ExcInfo: j.excInfo,
		State: j.state, TimeStarted: dateOrNil(j.started), TimeFinished: dateOrNil(j.finished),
	}
	if rel.messageIDs {
		ids := j.messageIDs
		if ids == nil {
			ids = []json.RawMessage{}
		}
		e.MessageIDs = &ids
	}
	if e.Arguments == nil {
		e.Arguments = []json.RawMessage{}
	}
	if j.state == StateSuccess && j.result != nil {
		e.Result = j.result
	}
	if len(j.logs) > 0 || j.logsExcerpt != nil || (j.spec.Logs && j.state != StateWaiting) {
		p := fmt.Sprintf("/var/log/jobs/%d.log", j.id)
		e.LogsPath = &p
	}
	if j.cred != nil {
		e.Credentials = &credentials{Type: j.cred.Type, Data: j.cred.dump(rel)}
	}
	b, err := json.Marshal(e)
	if err != nil {
		return json.RawMessage(`{}`)
	}
	return b
}

// startJob is Middleware._call for a job method: build the job, apply
// the lock queue rules, add it (added event), and start it if it can run.
func (b *Backend) startJob(cred *Credentials, name string, params []json.RawMessage, pipes Pipes, msgID json.RawMessage) (*Job, error) {
	return b.startJobHeld(cred, name, params, pipes, msgID, nil)
}

// startSubjob is middleware.call of a job method from a job's Run before
// the job first blocks: whoever launched the job holds b.hold and waits
// for it, so the subjob is added under that hold. As in the middleware,
// where the call returns the queued Job before the queue runs it, the
// subjob runs only when the caller calls the returned launch (after
// registering as its wrapper), still before the caller first blocks, so
// a clock Advance after the outer call sees the subjob's timers too.
func (r *JobRun) startSubjob(name string, params ...any) (*Job, func(), error) {
	raw := make([]json.RawMessage, 0, len(params))
	for _, p := range params {
		raw = append(raw, encodeJSON(p))
	}
	var starts []*Job
	j, err := r.b.startJobHeld(r.job.cred, name, raw, Pipes{}, nil, &starts)
	launch := func() {
		for _, s := range starts {
			r.b.launch(s)
		}
	}
	return j, launch, err
}

// startJobHeld is startJob; with deferred non-nil, the caller already
// holds b.hold (see startSubjob) and launches the returned jobs itself.
func (b *Backend) startJobHeld(cred *Credentials, name string, params []json.RawMessage, pipes Pipes, msgID json.RawMessage, deferred *[]*Job) (*Job, error) {
	b.mu.Lock()
	m := b.methods[name]
	b.mu.Unlock()
	if m == nil || m.job == nil {
		return nil, &CallError{Message: fmt.Sprintf("Method %q not found", name), Errno: ErrnoMethodNotFound}
	}
	spec := m.job
	if spec.Input && pipes.Input == nil {
		return nil, &Exception{Type: "ValueError", Message: "Pipe 'input' is not open"}
	}
	if spec.Output && pipes.Output == nil {
		return nil, &Exception{Type: "ValueError", Message: "Pipe 'output' is not open"}
	}
	if params == nil {
		params = []json.RawMessage{}
	}
	j := &Job{
		b: b, method: name, spec: spec, params: params, cred: cred, pipes: pipes,
		state: StateWaiting, started: b.env.Clock.Now(), changed: make(chan struct{}),
		done: make(chan struct{}),
	}
	if msgID != nil {
		j.messageIDs = []json.RawMessage{msgID}
	}
	if spec.Description != nil {
		d := spec.Description(params)
		j.description = &d
	}
	if spec.Lock != nil {
		j.lockName = spec.Lock(params)
	}
	if deferred == nil {
		b.hold.Lock()
		defer b.hold.Unlock()
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, &CallError{Message: "middleware is shutting down", Errno: int(syscall.ESHUTDOWN)}
	}
	if j.lockName != "" {
		size := 5
		if spec.LockQueueSize != nil {
			size = *spec.LockQueueSize
		}
		switch {
		case size == 0:
			if running := b.locks[j.lockName]; running != nil && running.state == StateRunning {
				b.mu.Unlock()
				return nil, &CallError{Message: "This job is already being performed", Errno: int(syscall.EBUSY)}
			}
		case size > 0:
			queued := b.waiting[j.lockName]
			if len(queued) >= size {
				for i := len(queued) - 1; i >= 0; i-- {
					q := queued[i]
					if cred.FullAdmin() || (q.cred != nil && q.cred.User.Name == cred.User.Name) {
						if msgID != nil {
							q.messageIDs = append(q.messageIDs, msgID)
							b.emitLocked(q, "changed")
						}
						b.mu.Unlock()
						return q, nil
					}
				}
				b.mu.Unlock()
				return nil, &CallError{Message: "This job is already being performed by another user", Errno: int(syscall.EBUSY)}
			}
		}
	}
	b.nextID++
	j.id = b.nextID
	b.addLocked(j)
	b.waiting[j.lockName] = append(b.waiting[j.lockName], j)
	b.emitLocked(j, "added")
	starts := b.scheduleLocked(j.lockName)
	b.mu.Unlock()
	if deferred != nil {
		*deferred = starts
		return j, nil
	}
	for _, s := range starts {
		b.launch(s)
	}
	return j, nil
}

// addLocked stores a job, dropping the oldest finished one past MaxJobs
// (the finished job with the lowest id, as JobsDeque.add drops the first
// finished job in insertion order), without scanning the table.
func (b *Backend) addLocked(j *Job) {
	if len(b.jobs) > MaxJobs {
		for b.finished.Len() > 0 {
			id := heap.Pop(&b.finished).(int)
			if o := b.jobs[id]; o != nil && terminal(o.state) {
				b.forgetLocked(id)
				break
			}
		}
	}
	b.jobs[j.id] = j
	b.order = append(b.order, j.id)
}

// forgetLocked drops a job. Its id leaves b.order lazily: the order is
// compacted once half of it names forgotten jobs.
func (b *Backend) forgetLocked(id int) {
	if _, ok := b.jobs[id]; !ok {
		return
	}
	delete(b.jobs, id)
	b.dead++
	if b.dead > 64 && b.dead > len(b.order)/2 {
		live := b.order[:0]
		for _, x := range b.order {
			if _, ok := b.jobs[x]; ok {
				live = append(live, x)
			}
		}
		clear(b.order[len(live):])
		b.order = live
		b.dead = 0
	}
}

// idHeap is a min-heap of job ids.
type idHeap []int

func (h idHeap) Len() int           { return len(h) }
func (h idHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h idHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }

// Push implements heap.Interface.
func (h *idHeap) Push(x any) { *h = append(*h, x.(int)) }

// Pop implements heap.Interface.
func (h *idHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func terminal(state string) bool {
	return state == StateSuccess || state == StateFailed || state == StateAborted
}

// scheduleLocked starts the waiting jobs of one lock (or the unlocked
// ones, lock ""): while the lock is free, it takes the first waiting job,
// marks it RUNNING (or ABORTED if it was aborted while waiting) and
// returns the ones to launch. Work is proportional to the jobs it starts.
func (b *Backend) scheduleLocked(lock string) []*Job {
	var starts []*Job
	for len(b.waiting[lock]) > 0 {
		if lock != "" && b.locks[lock] != nil {
			break
		}
		q := b.waiting[lock]
		j := q[0]
		q[0] = nil
		if len(q) == 1 {
			delete(b.waiting, lock)
		} else {
			b.waiting[lock] = q[1:]
		}
		if lock != "" {
			b.locks[lock] = j
		}
		if j.aborted {
			b.finishLocked(j, nil, context.Canceled)
			continue
		}
		j.state = StateRunning
		b.emitLocked(j, "changed")
		starts = append(starts, j)
	}
	return starts
}

// launch runs a RUNNING job's Run on its own goroutine and returns once
// the job first blocks (so a following clock Advance sees its timers).
func (b *Backend) launch(j *Job) {
	ctx, cancel := context.WithCancel(b.ctx)
	first := make(chan struct{})
	r := &JobRun{job: j, b: b, ctx: ctx, input: j.pipes.Input, out: j.pipes.Output, parked: first}
	b.mu.Lock()
	j.run, j.cancel = r, cancel
	aborted := j.aborted
	b.mu.Unlock()
	if aborted {
		cancel()
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		defer cancel()
		res, err := safeRun(j.spec.Run, r)
		if err == nil && ctx.Err() != nil && j.isAborted() {
			err = context.Canceled
		}
		b.mu.Lock()
		b.finishLocked(j, res, err)
		b.mu.Unlock()
		b.hold.Lock()
		b.mu.Lock()
		starts := b.scheduleLocked(j.lockName)
		b.mu.Unlock()
		for _, s := range starts {
			b.launch(s)
		}
		b.hold.Unlock()
		r.park()
	}()
	select {
	case <-first:
	case <-j.done:
	}
}

func (j *Job) isAborted() bool {
	j.b.mu.Lock()
	defer j.b.mu.Unlock()
	return j.aborted
}

func safeRun(run func(*JobRun) (any, error), r *JobRun) (res any, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &Exception{Type: "RuntimeError", Message: fmt.Sprint(p)}
		}
	}()
	return run(r)
}

// finishLocked ends a job with Run's outcome and sends the final event.
func (b *Backend) finishLocked(j *Job, res any, err error) {
	if terminal(j.state) {
		return
	}
	switch {
	case err == nil:
		raw, merr := json.Marshal(res)
		if merr != nil {
			err = &Exception{Type: "TypeError", Message: "Object of type " + fmt.Sprintf("%T", res) + " is not JSON serializable"}
			break
		}
		j.result = raw
		// set_state('SUCCESS') stamps time_finished; set_progress(100, '')
		// then sends an event that keeps the last description (an empty
		// one is ignored).
		j.state = StateSuccess
		j.finished = b.env.Clock.Now()
		if j.percent != 100 {
			b.setProgressLocked(j, 100, "", nil)
		}
	case errors.Is(err, context.Canceled):
		j.state = StateAborted
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		j.state = StateFailed
		j.runErr = err
		msg, typ, errno, extra, repr := describeFailure(err)
		j.errText = &msg
		exc := fmt.Sprintf("Traceback (most recent call last):\n  File \"/usr/lib/python3/dist-packages/middlewared/job.py\", line 1, in run\n%s: %s\n", typ, msg)
		if typ == "VALIDATION" {
			exc = fmt.Sprintf("Traceback (most recent call last):\n  File \"/usr/lib/python3/dist-packages/middlewared/job.py\", line 1, in run\nmiddlewared.service_exception.ValidationErrors: %s\n", msg)
		}
		j.exception = &exc
		j.excInfo = map[string]any{"repr": repr, "type": typ, "errno": errno, "extra": extra}
	}
	if j.finished.IsZero() {
		j.finished = b.env.Clock.Now()
	}
	if len(j.logs) > 0 || j.spec.Logs {
		ex := logsExcerpt(j.logs)
		j.logsExcerpt = &ex
	}
	if j.lockName != "" && b.locks[j.lockName] == j {
		delete(b.locks, j.lockName)
	}
	close(j.done)
	b.emitLocked(j, "changed")
	if j.spec.Transient {
		b.forgetLocked(j.id)
	} else {
		heap.Push(&b.finished, j.id)
	}
}

func describeFailure(err error) (msg, typ string, errno, extra any, repr string) {
	f := factsOf(err)
	switch {
	case f.validation && f.many:
		return f.reason, "VALIDATION", nil, f.extra, f.repr
	case f.validation:
		return f.reason, "VALIDATION", f.errno, f.extra, f.repr
	case f.class == "CallError":
		return f.reason, "CallError", f.errno, f.extra, f.repr
	}
	return f.reason, f.class, nil, nil, f.repr
}

func logsExcerpt(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	if len(lines) <= 20 {
		return strings.Join(lines, "\n") + "\n"
	}
	return strings.Join(lines[:10], "\n") + "\n" + fmt.Sprintf("... %d more lines ...\n", len(lines)-20) +
		strings.Join(lines[len(lines)-10:], "\n") + "\n"
}

func (b *Backend) abort(j *Job) {
	b.mu.Lock()
	if terminal(j.state) {
		b.mu.Unlock()
		return
	}
	j.aborted = true
	cancel := j.cancel
	b.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

func (b *Backend) setProgress(j *Job, percent float64, desc string, extra any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if terminal(j.state) {
		return
	}
	b.setProgressLocked(j, percent, desc, extra)
}

// setProgressLocked is job.py's set_progress: it sends a changed event
// when something changed, then hands the whole progress to every job
// wrapping this one, at once (before this job's next event).
func (b *Backend) setProgressLocked(j *Job, percent float64, desc string, extra any) {
	changed := false
	if percent >= 0 {
		p := int(percent)
		if p != j.percent {
			j.percent, changed = p, true
		}
	}
	if desc != "" && desc != j.pdesc {
		j.pdesc, changed = desc, true
	}
	// job.py's set_progress: "if extra:", a falsy extra ({}, [], 0, "",
	// False) changes nothing.
	if extra != nil && !isFalsy(encodeJSON(extra)) {
		if string(encodeJSON(extra)) != string(encodeJSON(j.extra)) {
			j.extra, changed = extra, true
		}
	}
	if changed {
		b.emitLocked(j, "changed")
	}
	for _, w := range j.wrapped {
		if !terminal(w.state) {
			b.setProgressLocked(w, float64(j.percent), j.pdesc, j.extra)
		}
	}
}

func (b *Backend) setDescription(j *Job, d string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if j.description == nil || *j.description != d {
		j.description = &d
		b.emitLocked(j, "changed")
	}
}

func (b *Backend) appendLog(j *Job, line string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	j.logs = append(j.logs, line)
	j.dirtyLocked()
}

// emitLocked sends the job's event to every session subscribed to
// core.get_jobs that may read it (collection_update on JSON-RPC, a
// collection message on the legacy protocol), and wakes local watchers.
func (b *Backend) emitLocked(j *Job, msg string) {
	j.dirtyLocked()
	close(j.changed)
	j.changed = make(chan struct{})
	if j.spec.Transient && !b.rel.transientEvents {
		return
	}
	var rpcFrame, legacyFrame []byte
	for s := range b.sessions {
		if !s.subscribed(collectionJobs) || !s.canRead(j) {
			continue
		}
		var frame []byte
		if s.legacy {
			if legacyFrame == nil {
				legacyFrame, _ = json.Marshal(legacyEvent{Msg: msg, Collection: collectionJobs, ID: j.id, Fields: j.encodeLocked()})
			}
			frame = legacyFrame
		} else {
			if rpcFrame == nil {
				rpcFrame, _ = json.Marshal(rpcNotification{JSONRPC: "2.0", Method: notificationCollection,
					Params: rpcEvent{Msg: msg, Collection: collectionJobs, ID: j.id, Fields: j.encodeLocked()}})
			}
			frame = rpcFrame
		}
		if frame != nil {
			s.enqueueEvent(frame)
		}
	}
}

type rpcEvent struct {
	Msg        string          `json:"msg"`
	Collection string          `json:"collection"`
	ID         int             `json:"id"`
	Fields     json.RawMessage `json:"fields,omitempty"`
}

type rpcNotification struct {
	JSONRPC string   `json:"jsonrpc"`
	Method  string   `json:"method"`
	Params  rpcEvent `json:"params"`
}

// dump is SessionManagerCredentials.dump() of the emulated release, in
// its key order.
func (c *Credentials) dump(rel release) any {
	var key *apiKeyRef
	if c.Type == CredAPIKey {
		key = &apiKeyRef{ID: c.APIKeyID, Name: c.APIKeyName}
	}
	if rel.oldCreds {
		if key != nil {
			return struct {
				APIKey *apiKeyRef `json:"api_key"`
			}{key}
		}
		return struct {
			Username string `json:"username"`
		}{c.User.Name}
	}
	return struct {
		Username string     `json:"username"`
		LoginID  string     `json:"login_id"`
		LoginAt  any        `json:"login_at"`
		APIKey   *apiKeyRef `json:"api_key,omitempty"`
	}{c.User.Name, c.LoginID, dateOrNil(c.LoginAt), key}
}

type apiKeyRef struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

// canRead is JobAccess.READ: full admins see every job, others their own.
func (s *Session) canRead(j *Job) bool {
	c := s.Credentials()
	if c == nil {
		return false
	}
	if c.FullAdmin() {
		return true
	}
	return j.cred != nil && j.cred.User.Name == c.User.Name
}
