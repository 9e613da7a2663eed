package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/longrun/longrun/jobs"
)

const collectionJobs = "core.get_jobs"

var (
	_ jobs.Source      = (*Conn)(nil)
	_ jobs.Pusher      = (*Conn)(nil)
	_ jobs.MultiPusher = (*Conn)(nil)
)

// tracker follows the jobs the Conn cares about through the one shared
// core.get_jobs subscription: jobs started by CallJob (bound by
// message_ids) and jobs watched by Changes. Events for other jobs are
// dropped on arrival. It runs on the reader goroutine and never blocks.
type tracker struct {
	c     *Conn
	mu    sync.Mutex
	jobs  map[int64]*tracked
	byReq map[int64]*JobHandle // request id -> handle not yet bound to a job
	kick  chan struct{}        // wakes run when a job's check moved earlier
	all   map[*allStream]struct{}
}

type tracked struct {
	fields   map[string]json.RawMessage
	handles  []*JobHandle
	watchers map[*watcher]struct{}
	// The job is checked with core.get_jobs at due when it has heard
	// nothing since: a lost event never loses a completion.
	due   time.Time
	delay time.Duration
}

type watcher struct {
	ch     chan *jobs.Job
	closed bool
}

func newTracker(c *Conn) *tracker {
	return &tracker{c: c, jobs: map[int64]*tracked{}, byReq: map[int64]*JobHandle{}, kick: make(chan struct{}, 1)}
}

// decode decodes the merged fields (not cached: a followed job keeps only
// its fields, to stay small at 100,000 jobs).
func (tj *tracked) decode() (*JobEntry, []byte) {
	var e JobEntry
	raw, err := e.fromFields(tj.fields)
	if err != nil {
		return nil, nil
	}
	return &e, raw
}

func fieldState(fields map[string]json.RawMessage) string {
	var s string
	_ = json.Unmarshal(fields["state"], &s)
	return s
}

func fieldPercent(fields map[string]json.RawMessage) (float64, bool) {
	var p struct {
		Percent *float64 `json:"percent"`
	}
	if json.Unmarshal(fields["progress"], &p) != nil || p.Percent == nil {
		return 0, false
	}
	return *p.Percent, true
}

// merge folds an event's fields into what is known, key by key. A late
// event (an older state, or less progress in the same RUNNING state,
// which out-of-order delivery produces) does not move the job back.
//
// It reports whether the merged job is exactly the event (the event
// carried every field known and none was held back), so that the event's
// own JSON can be decoded instead of the merged fields re-encoded.
func (tj *tracked) merge(fields map[string]json.RawMessage) (whole bool) {
	cur, inc := fieldState(tj.fields), fieldState(fields)
	if inc != "" && stateRank(inc) < stateRank(cur) {
		if m, ok := fields["message_ids"]; ok {
			tj.fields["message_ids"] = m
		}
		return false
	}
	skipProgress := false
	if inc == cur || inc == "" {
		if cp, ok := fieldPercent(tj.fields); ok {
			if ip, ok := fieldPercent(fields); ok && ip < cp {
				skipProgress = true
			}
		}
	}
	for k, v := range fields {
		if k == "progress" && skipProgress {
			continue
		}
		tj.fields[k] = v
	}
	return !skipProgress && len(tj.fields) == len(fields)
}

// decodeEntry decodes a job entry from its JSON in one pass. fields, when
// given, is the same entry split by key and supplies its unknown members
// (a snapshot needs none: its Raw keeps them).
func decodeEntry(raw json.RawMessage, fields map[string]json.RawMessage) (*JobEntry, error) {
	var a jobEntryAlias
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, err
	}
	for k, v := range fields {
		if !knownJobFields[k] {
			if a.Unknown == nil {
				a.Unknown = map[string]json.RawMessage{}
			}
			a.Unknown[k] = v
		}
	}
	e := JobEntry(a)
	return &e, nil
}

func eventJobID(ev *Event, fields map[string]json.RawMessage) (int64, bool) {
	for _, raw := range []json.RawMessage{ev.ID, fields["id"]} {
		if len(raw) == 0 {
			continue
		}
		if id, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
			return id, true
		}
	}
	return 0, false
}

func messageIDs(fields map[string]json.RawMessage) []int64 {
	var raw []json.RawMessage
	if json.Unmarshal(fields["message_ids"], &raw) != nil {
		return nil
	}
	out := make([]int64, 0, len(raw))
	for _, r := range raw {
		if n, err := strconv.ParseInt(string(r), 10, 64); err == nil {
			out = append(out, n)
		}
	}
	return out
}

func (t *tracker) onEvent(ev *Event) {
	if ev.Msg != "added" && ev.Msg != "changed" {
		return
	}
	// Skip the decoding of jobs nobody follows; a job only AllChanges
	// streams follow is decoded once, straight from the event.
	if id, err := strconv.ParseInt(string(ev.ID), 10, 64); err == nil {
		t.mu.Lock()
		idle := t.jobs[id] == nil && len(t.byReq) == 0
		all := len(t.all) > 0
		t.mu.Unlock()
		if idle {
			if all {
				snap := allSnapshot(id, ev.Fields)
				t.mu.Lock()
				t.pushAllLocked(snap)
				t.mu.Unlock()
			}
			return
		}
	}
	fields, err := decodeJobFields(ev.Fields)
	if err != nil {
		t.c.cfg.logger.Warn("longrun/rpc: dropping bad job event", "error", err)
		return
	}
	id, ok := eventJobID(ev, fields)
	if !ok {
		return
	}
	t.apply(id, fields, ev.Fields, true)
}

// newTracked is a job the Conn starts to follow: checked first after
// the reconcile interval.
func (t *tracker) newTracked() *tracked {
	d := t.c.cfg.checkMin
	return &tracked{fields: map[string]json.RawMessage{}, delay: d, due: t.c.cfg.clock.Now().Add(d)}
}

// wake makes run look at the due times again.
func (t *tracker) wake() {
	select {
	case t.kick <- struct{}{}:
	default:
	}
}

// apply merges fields for job id and notifies its handles and watchers.
// heard is true for an event (the job's check moves back by the minimum
// interval) and false for an answer to a check.
// raw is the JSON fields came from.
func (t *tracker) apply(id int64, fields map[string]json.RawMessage, raw json.RawMessage, heard bool) {
	t.mu.Lock()
	tj := t.jobs[id]
	var binds []*JobHandle
	if len(t.byReq) > 0 {
		for _, mid := range messageIDs(fields) {
			if h := t.byReq[mid]; h != nil {
				delete(t.byReq, mid)
				binds = append(binds, h)
			}
		}
	}
	if tj == nil {
		if len(binds) == 0 {
			if len(t.all) > 0 {
				t.pushAllLocked(allSnapshot(id, raw))
			}
			t.mu.Unlock()
			return
		}
		tj = t.newTracked()
		t.jobs[id] = tj
		defer t.wake()
	}
	whole := tj.merge(fields)
	if heard {
		tj.delay = t.c.cfg.checkMin
		tj.due = t.c.cfg.clock.Now().Add(tj.delay)
	}
	tj.handles = append(tj.handles, binds...)
	var entry *JobEntry
	if whole {
		entry, _ = decodeEntry(raw, fields)
	} else {
		entry, raw = tj.decode()
	}
	if entry == nil || fieldState(tj.fields) == "" {
		t.mu.Unlock()
		for _, h := range binds {
			h.bind(id)
		}
		return
	}
	entry.ID = id
	handles := append([]*JobHandle(nil), tj.handles...)
	if len(tj.watchers) > 0 || len(t.all) > 0 {
		snap := entry.toJob(raw)
		for w := range tj.watchers {
			w.push(snap)
		}
		t.pushAllLocked(snap)
	}
	if entry.Terminal() {
		tj.handles = nil
		t.dropIfIdle(id, tj)
	}
	t.mu.Unlock()
	for _, h := range binds {
		h.setID(id)
	}
	for _, h := range handles {
		h.update(entry)
	}
	for _, h := range binds {
		h.bind(id)
	}
}

func (t *tracker) dropIfIdle(id int64, tj *tracked) {
	if len(tj.handles) == 0 && len(tj.watchers) == 0 {
		delete(t.jobs, id)
	}
}

// push hands a snapshot to a watcher, replacing one it has not taken.
func (w *watcher) push(j *jobs.Job) {
	if w.closed {
		return
	}
	select {
	case w.ch <- j:
		return
	default:
	}
	select {
	case <-w.ch:
	default:
	}
	select {
	case w.ch <- j:
	default:
	}
}

func (t *tracker) watch(id int64) *watcher {
	w := &watcher{ch: make(chan *jobs.Job, 1)}
	t.mu.Lock()
	defer t.mu.Unlock()
	tj := t.jobs[id]
	if tj == nil {
		tj = t.newTracked()
		t.jobs[id] = tj
		defer t.wake()
	}
	if tj.watchers == nil {
		tj.watchers = map[*watcher]struct{}{}
	}
	tj.watchers[w] = struct{}{}
	if fieldState(tj.fields) != "" {
		if e, raw := tj.decode(); e != nil {
			e.ID = id
			w.push(e.toJob(raw))
		}
	}
	return w
}

func (t *tracker) unwatch(id int64, w *watcher) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !w.closed {
		w.closed = true
		close(w.ch)
	}
	if tj := t.jobs[id]; tj != nil {
		delete(tj.watchers, w)
		t.dropIfIdle(id, tj)
	}
}

func (t *tracker) track(id int64, h *JobHandle) {
	t.mu.Lock()
	tj := t.jobs[id]
	if tj == nil {
		tj = t.newTracked()
		t.jobs[id] = tj
	}
	tj.handles = append(tj.handles, h)
	t.mu.Unlock()
	t.wake()
}

func (t *tracker) untrack(id int64, h *JobHandle) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tj := t.jobs[id]
	if tj == nil {
		return
	}
	for i, x := range tj.handles {
		if x == h {
			tj.handles = append(tj.handles[:i], tj.handles[i+1:]...)
			break
		}
	}
	t.dropIfIdle(id, tj)
}

// reconcile checks every followed job that has not ended, after a
// reconnect: a job that ended while the socket was down completes its
// handles and watchers; one the server forgot fails them with
// jobs.ErrNotFound.
func (t *tracker) reconcile() {
	ids, _ := t.dueJobs(time.Time{}, true)
	if len(ids) > 0 {
		if err := t.check(ids); err != nil {
			t.c.cfg.logger.Warn("longrun/rpc: reconciling jobs after reconnect failed", "error", err)
		}
	}
}

// dueJobs lists the followed jobs that have not ended and are due for a
// check at now (all of them with all), and the earliest due time of the
// others.
func (t *tracker) dueJobs(now time.Time, all bool) (ids []int64, next time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for id, tj := range t.jobs {
		if len(tj.handles) == 0 && len(tj.watchers) == 0 {
			continue
		}
		if terminalState(fieldState(tj.fields)) {
			continue
		}
		if all || !tj.due.After(now) {
			ids = append(ids, id)
			continue
		}
		if next.IsZero() || tj.due.Before(next) {
			next = tj.due
		}
	}
	return ids, next
}

// check asks core.get_jobs for ids (in frames under the server's message
// limit) and applies the answers; each job still running backs its next
// check off.
func (t *tracker) check(ids []int64) error {
	ctx, cancel := context.WithTimeout(t.c.life, 2*time.Minute)
	defer cancel()
	entries, err := t.c.fetchEntries(ctx, ids)
	now := t.c.cfg.clock.Now()
	t.mu.Lock()
	for _, id := range ids {
		if tj := t.jobs[id]; tj != nil {
			tj.delay = min(tj.delay*2, t.c.cfg.checkMax)
			tj.due = now.Add(tj.delay)
		}
	}
	t.mu.Unlock()
	if err != nil {
		return err
	}
	seen := make(map[int64]bool, len(entries))
	for _, raw := range entries {
		fields, err := decodeJobFields(raw)
		if err != nil {
			continue
		}
		var id int64
		if json.Unmarshal(fields["id"], &id) != nil {
			continue
		}
		seen[id] = true
		t.apply(id, fields, raw, false)
	}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		t.mu.Lock()
		tj := t.jobs[id]
		if tj != nil && string(tj.fields["transient"]) == "true" {
			// A transient job leaves the list when it ends; its handle
			// learns the outcome from core.job_wait.
			t.mu.Unlock()
			continue
		}
		var handles []*JobHandle
		if tj != nil {
			handles = tj.handles
			tj.handles = nil
			for w := range tj.watchers {
				if !w.closed {
					w.closed = true
					close(w.ch)
				}
			}
			delete(t.jobs, id)
		}
		t.mu.Unlock()
		for _, h := range handles {
			h.complete(nil, &jobs.NotFoundError{ID: strconv.FormatInt(id, 10)})
		}
	}
	return nil
}

// run is the connection's one checker goroutine: it wakes at the
// earliest due check of a followed job and asks for all due jobs in one
// batched core.get_jobs, however many jobs the Conn follows.
func (t *tracker) run() {
	defer t.c.wg.Done()
	clk := t.c.cfg.clock
	var (
		timer   <-chan time.Time
		timerAt time.Time
	)
	for {
		now := clk.Now()
		ids, next := t.dueJobs(now, false)
		if len(ids) > 0 {
			if err := t.check(ids); err != nil {
				t.c.cfg.logger.Debug("longrun/rpc: checking followed jobs failed", "jobs", len(ids), "error", err)
			}
			select {
			case <-t.c.done:
				return
			default:
			}
			continue
		}
		if !next.IsZero() && (timer == nil || next.Before(timerAt)) {
			timer, timerAt = clk.After(next.Sub(now)), next
		}
		select {
		case <-t.c.done:
			return
		case <-t.kick:
		case <-timer:
			timer = nil
		}
	}
}

// closeAll fails every handle and closes every watcher and stream.
func (t *tracker) closeAll(err error) {
	t.breakAll()
	t.mu.Lock()
	var handles []*JobHandle
	for id, tj := range t.jobs {
		handles = append(handles, tj.handles...)
		for w := range tj.watchers {
			if !w.closed {
				w.closed = true
				close(w.ch)
			}
		}
		delete(t.jobs, id)
	}
	for id, h := range t.byReq {
		handles = append(handles, h)
		delete(t.byReq, id)
	}
	t.mu.Unlock()
	for _, h := range handles {
		if errors.Is(err, ErrClosed) {
			h.complete(nil, ErrClosed)
		} else {
			h.complete(nil, &DisconnectedError{Method: h.method, Cause: err})
		}
	}
}

// JobHandle follows one job started by CallJob.
type JobHandle struct {
	c      *Conn
	reqID  int64
	method string
	legacy bool

	mu        sync.Mutex
	id        int64
	bound     chan struct{} // closed when the job id is known or the job is done
	isBound   bool
	slot      bool // holds a call slot until the reply
	entry     *JobEntry
	progress  chan JobProgress
	lastPct   float64
	lastDesc  string
	done      chan struct{}
	finished  bool
	result    json.RawMessage
	err       error
	reconcile bool
}

// ID is the job id, as every id at the jobs boundary, a string ("" if
// the server never revealed it: a transient job in the 25.10 reply
// style). jobs.Wait(ctx, conn, h.ID()) follows it like any job.
func (h *JobHandle) ID() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.id == 0 {
		return ""
	}
	return strconv.FormatInt(h.id, 10)
}

// ToJob is the job's last snapshot as the shared Job (nil before the
// first one).
func (h *JobHandle) ToJob() *jobs.Job {
	e := h.Entry()
	if e == nil {
		return nil
	}
	return e.ToJob()
}

// Method is the job's method.
func (h *JobHandle) Method() string { return h.method }

// Entry is the last job entry seen, or nil.
func (h *JobHandle) Entry() *JobEntry {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.entry
}

// Progress streams the job's progress. Snapshots a slow reader has not
// taken are replaced by newer ones (the last is always delivered); the
// channel is closed when the job ends.
func (h *JobHandle) Progress() <-chan JobProgress { return h.progress }

// Done is closed when the job has ended (Wait then returns at once).
func (h *JobHandle) Done() <-chan struct{} { return h.done }

// Wait waits for the job to end and decodes its result into result
// (which may be nil). A job that ended FAILED or ABORTED, or whose
// blocking call answered an error, returns a *JobError (errors.Is
// jobs.ErrJobFailed, jobs.ErrJobAborted, ErrInvalidParams). When ctx
// ends first, the job goes on; Wait returns a *jobs.TimeoutError with the
// last snapshot (errors.Is the ctx's error).
func (h *JobHandle) Wait(ctx context.Context, result any) error {
	select {
	case <-h.done:
	case <-ctx.Done():
		select {
		case <-h.done:
		default:
			return &jobs.TimeoutError{Last: h.ToJob(), Cause: ctx.Err()}
		}
	}
	if h.err != nil {
		return h.err
	}
	if result != nil && len(h.result) > 0 {
		if err := json.Unmarshal(h.result, result); err != nil {
			return fmt.Errorf("rpc: %s: decoding job result: %w", h.method, err)
		}
	}
	return nil
}

// Result is the raw result once the job has succeeded.
func (h *JobHandle) Result() json.RawMessage {
	select {
	case <-h.done:
		return h.result
	default:
		return nil
	}
}

// Abort asks the server to abort the job (core.job_abort).
func (h *JobHandle) Abort(ctx context.Context) error {
	select {
	case <-h.bound:
	case <-ctx.Done():
		return ctx.Err()
	}
	h.mu.Lock()
	id := h.id
	h.mu.Unlock()
	if id == 0 {
		return errors.New("rpc: job id unknown; cannot abort")
	}
	return h.c.abort(ctx, id)
}

func (h *JobHandle) setID(id int64) {
	h.mu.Lock()
	if h.id == 0 {
		h.id = id
	}
	h.mu.Unlock()
}

func (h *JobHandle) bind(id int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.id == 0 {
		h.id = id
	}
	if !h.isBound {
		h.isBound = true
		close(h.bound)
	}
}

func (h *JobHandle) releaseSlot() {
	h.mu.Lock()
	had := h.slot
	h.slot = false
	h.mu.Unlock()
	if had {
		h.c.release()
	}
}

// update takes a fresh entry from the tracker.
func (h *JobHandle) update(e *JobEntry) {
	h.mu.Lock()
	if h.finished {
		h.mu.Unlock()
		return
	}
	h.entry = e
	if e.Progress.Percent != h.lastPct || e.Progress.Description != h.lastDesc {
		h.lastPct, h.lastDesc = e.Progress.Percent, e.Progress.Description
		p := e.Progress
		select {
		case h.progress <- p:
		default:
			select {
			case <-h.progress:
			default:
			}
			select {
			case h.progress <- p:
			default:
			}
		}
	}
	h.mu.Unlock()
	if !e.Terminal() {
		return
	}
	switch e.State {
	case StateSuccess:
		res := e.Result
		if len(res) == 0 {
			res = json.RawMessage("null")
		}
		h.complete(res, nil)
	default:
		h.complete(nil, jobErrorFromEntry(e))
	}
}

// complete ends the handle once.
func (h *JobHandle) complete(result json.RawMessage, err error) {
	h.mu.Lock()
	if h.finished {
		h.mu.Unlock()
		return
	}
	h.finished = true
	h.result, h.err = result, err
	close(h.progress)
	close(h.done) // before bound: CallJob returning on bound sees Done
	if !h.isBound {
		h.isBound = true
		close(h.bound)
	}
	id := h.id
	h.mu.Unlock()
	if id != 0 {
		h.c.tracker.untrack(id, h)
	}
	h.c.tracker.mu.Lock()
	if h.c.tracker.byReq[h.reqID] == h {
		delete(h.c.tracker.byReq, h.reqID)
	}
	h.c.tracker.mu.Unlock()
}

// onReply handles the job call's JSON-RPC reply (reader goroutine).
func (h *JobHandle) onReply(f *frame) {
	h.releaseSlot()
	h.mu.Lock()
	id, finished, entry := h.id, h.finished, h.entry
	h.mu.Unlock()
	if finished {
		return
	}
	if f.Error != nil {
		h.complete(nil, jobErrorFromReply(id, h.method, f.Error))
		return
	}
	if h.legacy {
		jid, err := strconv.ParseInt(string(f.Result), 10, 64)
		if err != nil {
			// Not a job after all: the method answered a value.
			h.complete(f.Result, nil)
			return
		}
		if id == 0 {
			// No event named our request yet: check that jid is the job
			// this call started before trusting it.
			h.spawnVerify(jid)
		}
		return
	}
	// 25.10+: the reply is the job's result. When the final event has
	// not come (lost, or still on its way), ask, so Entry() and Changes()
	// end with the final state too (an aborted job also answers null).
	if id != 0 && (entry == nil || !entry.Terminal()) {
		h.spawnReconcile(id, f.Result)
		return
	}
	h.complete(f.Result, nil)
}

// replyLost handles a job call whose reply cannot come (disconnect).
func (h *JobHandle) replyLost(err error) {
	h.releaseSlot()
	h.mu.Lock()
	bound := h.id != 0
	h.mu.Unlock()
	if !bound {
		h.complete(nil, err)
	}
	// A bound job is reconciled after the reconnect.
}

func (h *JobHandle) spawnVerify(jid int64) {
	c := h.c
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		ctx, cancel := context.WithTimeout(c.life, time.Minute)
		defer cancel()
		entries, err := c.fetchEntries(ctx, []int64{jid})
		if err != nil {
			h.complete(nil, err)
			return
		}
		for _, raw := range entries {
			var e JobEntry
			if json.Unmarshal(raw, &e) != nil || e.ID != jid {
				continue
			}
			// 25.04 names the call in message_ids; the legacy protocol
			// of 24.10 and before has none (and later releases' /websocket
			// may name it otherwise): the method must match.
			if e.HasMessageID(h.reqID) || ((len(e.MessageIDs) == 0 || c.legacy) && e.Method == h.method) {
				// Follow and fill the entry first, so CallJob returns a
				// handle whose Entry is already there.
				h.setID(jid)
				c.tracker.track(jid, h)
				if fields, err := decodeJobFields(raw); err == nil {
					c.tracker.apply(jid, fields, raw, false)
				}
				h.bind(jid)
				if e.Transient && !e.Terminal() {
					// A transient job sends no events: let the server
					// wait on it (core.job_wait is not transient).
					h.followWithJobWait(c.life, jid)
				}
				return
			}
		}
		h.complete(nil, &jobs.NotFoundError{ID: strconv.FormatInt(jid, 10)})
	}()
}

// followWithJobWait completes h with the outcome of core.job_wait(jid).
func (h *JobHandle) followWithJobWait(ctx context.Context, jid int64) {
	w, err := h.c.CallJob(ctx, "core.job_wait", jid)
	if err == nil {
		select {
		case <-w.Done():
		case <-h.done:
			return
		case <-ctx.Done():
		}
		err = w.Wait(ctx, nil)
	}
	var je *JobError
	if errors.As(err, &je) && je.Type == "VALIDATION" && len(je.Validation) == 1 && je.Validation[0].Errno == 2 {
		// ENOENT: the transient job ended before core.job_wait saw it;
		// its outcome is gone with it.
		h.complete(nil, &jobs.NotFoundError{ID: strconv.FormatInt(jid, 10)})
		return
	}
	if errors.As(err, &je) {
		cp := *je
		cp.JobID, cp.Method = jid, h.method
		err = &cp
	}
	if err != nil {
		h.complete(nil, err)
		return
	}
	h.complete(w.Result(), nil)
}

func (h *JobHandle) spawnReconcile(id int64, reply json.RawMessage) {
	c := h.c
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		ctx, cancel := context.WithTimeout(c.life, time.Minute)
		defer cancel()
		entries, err := c.fetchEntries(ctx, []int64{id})
		if err == nil {
			for _, raw := range entries {
				fields, err := decodeJobFields(raw)
				if err == nil {
					c.tracker.apply(id, fields, raw, false)
				}
			}
		}
		// The call answered its result, so the job succeeded even when
		// the check could not say so: Entry ends with the final state.
		h.mu.Lock()
		if !h.finished && (h.entry == nil || !h.entry.Terminal()) {
			e := JobEntry{ID: id, Method: h.method}
			if h.entry != nil {
				e = *h.entry
			}
			e.State, e.Result = StateSuccess, reply
			h.entry = &e
		}
		h.mu.Unlock()
		h.complete(reply, nil) // no-op when apply completed it
	}()
}

// ensureJobsSub subscribes to core.get_jobs once per connection; after a
// reconnect the Conn subscribes again by itself.
func (c *Conn) ensureJobsSub(ctx context.Context) error {
	c.subMu.Lock()
	defer c.subMu.Unlock()
	c.mu.Lock()
	c.wantJobs = true
	c.mu.Unlock()
	for {
		g, err := c.waitReady(ctx)
		if err != nil {
			return err
		}
		c.mu.Lock()
		have := c.jobsSub != "" && c.cur == g
		c.mu.Unlock()
		if have {
			return nil
		}
		var id string
		err = c.callGen(ctx, g, "core.subscribe", []any{collectionJobs}, &id)
		if errors.Is(err, ErrDisconnected) {
			continue // the reconnect subscribes; check again
		}
		if err != nil {
			return err
		}
		c.mu.Lock()
		if c.cur == g {
			c.jobsSub = id
		}
		c.mu.Unlock()
		return nil
	}
}

// CallJob calls a job method and returns a handle once the job id is
// known (from the added event naming this call in message_ids, or from
// the 25.04-style reply) or the call has already ended. In the 25.10+
// style the call's reply is the job's result; the handle's Wait returns
// it. Events that arrive before the reply are merged into the handle.
func (c *Conn) CallJob(ctx context.Context, method string, params ...any) (*JobHandle, error) {
	if err := c.ensureJobsSub(ctx); err != nil {
		return nil, err
	}
	if err := c.acquire(ctx); err != nil {
		return nil, err
	}
	g, err := c.waitReady(ctx)
	if err != nil {
		c.release()
		return nil, err
	}
	c.mu.Lock()
	legacy := !c.newStyle
	c.mu.Unlock()
	h := &JobHandle{
		c: c, method: method, legacy: legacy, slot: true,
		bound: make(chan struct{}), done: make(chan struct{}), progress: make(chan JobProgress, 8),
	}
	h.reqID = c.nextID.Add(1)
	c.tracker.mu.Lock()
	c.tracker.byReq[h.reqID] = h
	c.tracker.mu.Unlock()
	p := &pending{gen: g.n, method: method, job: h}
	if err := c.sendID(ctx, g, h.reqID, method, params, p); err != nil {
		h.releaseSlot()
		h.complete(nil, err)
		return nil, err
	}
	select {
	case <-h.bound:
		return h, nil
	case <-ctx.Done():
		c.forget(h.reqID)
		h.releaseSlot()
		h.complete(nil, ctx.Err())
		return nil, ctx.Err()
	}
}

// GetJobs calls core.get_jobs(filters, options) and returns the entries.
// Options Count and Get change the answer's shape: use CountJobs and
// GetJob for them. Results are the server's redacted form unless
// Extra["raw_result"] is true.
func (c *Conn) GetJobs(ctx context.Context, filters []Filter, opts QueryOptions) ([]JobEntry, error) {
	if opts.Count || opts.Get {
		return nil, errors.New("rpc: GetJobs with Count or Get: use CountJobs or GetJob")
	}
	var out []JobEntry
	err := c.Query(ctx, collectionJobs, filters, opts, &out)
	return out, err
}

// CountJobs counts the jobs that match filters.
func (c *Conn) CountJobs(ctx context.Context, filters ...Filter) (int, error) {
	var n int
	err := c.Query(ctx, collectionJobs, filters, QueryOptions{Count: true}, &n)
	return n, err
}

// GetJob returns one job with its raw result; a job the server does
// not know is a *jobs.NotFoundError (errors.Is jobs.ErrNotFound).
func (c *Conn) GetJob(ctx context.Context, id string) (*JobEntry, error) {
	n, err := parseJobID(id)
	if err != nil {
		return nil, err
	}
	entries, err := c.GetJobs(ctx, []Filter{Where("id", Eq, n)}, QueryOptions{Extra: map[string]any{"raw_result": true}})
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return nil, &jobs.NotFoundError{ID: id}
	}
	return &entries[0], nil
}

// parseJobID reads a middleware job id (a positive integer) given as a
// string at the jobs boundary.
func parseJobID(id string) (int64, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("rpc: job id %q is not a TrueNAS job number: %w", id, jobs.ErrNotFound)
	}
	return n, nil
}

// Query calls any query method (core.get_jobs, pool.query, ...) with
// query-filters and query-options and decodes the answer into out.
func (c *Conn) Query(ctx context.Context, method string, filters []Filter, opts QueryOptions, out any) error {
	if filters == nil {
		filters = []Filter{}
	}
	return c.Call(ctx, method, []any{filters, opts}, out)
}

// MaxFrame is the largest message the middleware reads from an
// authenticated connection (MsgSizeLimit.AUTHENTICATED, 64 kB); a larger
// one closes the socket with 1009. Batched requests stay under it.
const MaxFrame = 65536

// idsPerFrame bounds the ids of one core.get_jobs [["id","in",[...]]]
// request: the ids' text stays under idBytesBudget, well below MaxFrame
// with the request's other 200 bytes.
const idBytesBudget = MaxFrame - 4096

// chunkIDs splits ids so each request frame stays under MaxFrame.
func chunkIDs(ids []int64) [][]int64 {
	var out [][]int64
	start, size := 0, 0
	for i, id := range ids {
		n := len(strconv.FormatInt(id, 10)) + 1
		if size+n > idBytesBudget && i > start {
			out = append(out, ids[start:i])
			start, size = i, 0
		}
		size += n
	}
	if start < len(ids) {
		out = append(out, ids[start:])
	}
	return out
}

// fetchEntries asks core.get_jobs for ids with their raw results, in as
// many requests as the frame limit needs.
func (c *Conn) fetchEntries(ctx context.Context, ids []int64) ([]json.RawMessage, error) {
	var all []json.RawMessage
	for _, chunk := range chunkIDs(ids) {
		var out []json.RawMessage
		err := c.Query(ctx, collectionJobs, []Filter{Where("id", In, chunk)},
			QueryOptions{Extra: map[string]any{"raw_result": true}}, &out)
		if err != nil {
			return all, err
		}
		all = append(all, out...)
	}
	return all, nil
}

// Abort calls core.job_abort for job id.
func (c *Conn) Abort(ctx context.Context, id string) error {
	n, err := parseJobID(id)
	if err != nil {
		return err
	}
	return c.abort(ctx, n)
}

func (c *Conn) abort(ctx context.Context, id int64) error {
	return c.Call(ctx, "core.job_abort", []any{id}, nil)
}

// JobWait waits on the server for job id with core.job_wait (itself a
// job that mirrors the target) and decodes the target's result.
func (c *Conn) JobWait(ctx context.Context, id string, result any) error {
	n, err := parseJobID(id)
	if err != nil {
		return err
	}
	h, err := c.CallJob(ctx, "core.job_wait", n)
	if err != nil {
		return err
	}
	return h.Wait(ctx, result)
}

// Fetch implements jobs.Source: one core.get_jobs call with
// [["id", "in", ids]] for all ids. Ids that are not job numbers are
// left out, as are jobs the server does not know.
func (c *Conn) Fetch(ctx context.Context, ids ...string) ([]*jobs.Job, error) {
	nums := make([]int64, 0, len(ids))
	for _, s := range ids {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			nums = append(nums, n)
		}
	}
	if len(nums) == 0 {
		return nil, nil
	}
	raws, err := c.fetchEntries(ctx, nums)
	if err != nil {
		return nil, err
	}
	out := make([]*jobs.Job, 0, len(raws))
	for _, raw := range raws {
		// One decoding pass: the snapshot's Raw is the server's own
		// entry, unknown fields included, so they need no map.
		e, err := decodeEntry(raw, nil)
		if err != nil {
			return nil, &ProtocolError{Reason: "bad job entry: " + err.Error()}
		}
		out = append(out, e.toJob(raw))
	}
	return out, nil
}

// AllChanges implements jobs.MultiPusher: a snapshot of every job each
// time its core.get_jobs event arrives, over the connection's one shared
// subscription, so a jobs.Watcher following 100,000 jobs holds one stream
// and one goroutine, not one per job. Snapshots queue (up to
// MaxQueuedChanges) while the receiver is busy; none is dropped. The
// channel closes when ctx ends, when the connection drops (events sent
// meanwhile are lost: the receiver polls and subscribes again), when the
// queue overflows, or when the Conn closes.
func (c *Conn) AllChanges(ctx context.Context) (<-chan *jobs.Job, error) {
	s := &allStream{out: make(chan *jobs.Job), wake: make(chan struct{}, 1)}
	t := c.tracker
	t.mu.Lock()
	if t.all == nil {
		t.all = map[*allStream]struct{}{}
	}
	t.all[s] = struct{}{}
	t.mu.Unlock()
	// Registered before subscribing, as in Changes.
	if err := c.ensureJobsSub(ctx); err != nil {
		t.drop(s)
		return nil, err
	}
	// Not in c.wg: Close may be waiting on it already. The goroutine ends
	// with ctx, with the Conn (c.done) or when the stream breaks.
	go s.run(ctx, c.done)
	context.AfterFunc(ctx, func() { t.drop(s) })
	return s.out, nil
}

// MaxQueuedChanges is how many snapshots an AllChanges stream holds for a
// receiver that does not keep up before it breaks the stream.
const MaxQueuedChanges = 1 << 16

// allStream is one AllChanges receiver: the reader goroutine queues
// snapshots (never blocking), the stream's goroutine hands them over.
type allStream struct {
	out  chan *jobs.Job
	wake chan struct{}

	mu     sync.Mutex
	queue  []*jobs.Job
	broken bool
}

// push queues a snapshot; a full queue breaks the stream.
func (s *allStream) push(j *jobs.Job) {
	s.mu.Lock()
	if s.broken {
		s.mu.Unlock()
		return
	}
	if len(s.queue) >= MaxQueuedChanges {
		s.broken = true
	} else {
		s.queue = append(s.queue, j)
	}
	s.mu.Unlock()
	s.signal()
}

func (s *allStream) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// end breaks the stream: what is queued is still handed over, then the
// channel closes.
func (s *allStream) end() {
	s.mu.Lock()
	s.broken = true
	s.mu.Unlock()
	s.signal()
}

func (s *allStream) run(ctx context.Context, connDone <-chan struct{}) {
	defer close(s.out)
	for {
		s.mu.Lock()
		q, broken := s.queue, s.broken
		s.queue = nil
		s.mu.Unlock()
		for i, j := range q {
			select {
			case s.out <- j:
				q[i] = nil
			case <-ctx.Done():
				return
			case <-connDone:
				return
			}
		}
		if len(q) > 0 {
			continue
		}
		if broken {
			return
		}
		select {
		case <-s.wake:
		case <-ctx.Done():
			return
		case <-connDone:
			return
		}
	}
}

// allSnapshot is the snapshot the AllChanges streams get of an event's
// whole job, decoded once; nil for a partial event (one without a state),
// which the receivers' polls see instead.
func allSnapshot(id int64, raw json.RawMessage) *jobs.Job {
	e, err := decodeEntry(raw, nil)
	if err != nil || e.State == "" {
		return nil
	}
	e.ID = id
	return e.toJob(raw)
}

// pushAllLocked hands snap to every AllChanges stream (t.mu held).
func (t *tracker) pushAllLocked(snap *jobs.Job) {
	if snap == nil {
		return
	}
	for s := range t.all {
		s.push(snap)
	}
}

// drop removes an AllChanges stream and ends it.
func (t *tracker) drop(s *allStream) {
	t.mu.Lock()
	delete(t.all, s)
	t.mu.Unlock()
	s.end()
}

// breakAll ends every AllChanges stream: the connection dropped, and the
// events sent until the new one subscribes are lost.
func (t *tracker) breakAll() {
	t.mu.Lock()
	all := t.all
	t.all = nil
	t.mu.Unlock()
	for s := range all {
		s.end()
	}
}

// Changes implements jobs.Pusher: a snapshot of job id each time its
// core.get_jobs event arrives, over the connection's one shared
// subscription. Snapshots not yet taken are replaced by newer ones. The
// channel stays open across reconnects (the job is reconciled then) and
// closes when ctx ends or the Conn does.
func (c *Conn) Changes(ctx context.Context, id string) (<-chan *jobs.Job, error) {
	n, err := parseJobID(id)
	if err != nil {
		return nil, err
	}
	// Watch before subscribing: the server sends events as soon as it has
	// taken core.subscribe, before its reply, and an event for a job
	// nobody watches yet is dropped.
	w := c.tracker.watch(n)
	if err := c.ensureJobsSub(ctx); err != nil {
		c.tracker.unwatch(n, w)
		return nil, err
	}
	context.AfterFunc(ctx, func() { c.tracker.unwatch(n, w) })
	return w.ch, nil
}
