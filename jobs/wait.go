package jobs

import (
	"context"
	"errors"
	"iter"
	"log/slog"
	"math"
	"math/rand/v2"
	"time"
)

// Option tunes Wait, Poll and Watcher.
type Option func(*config)

type config struct {
	onProgress  func(*Job)
	min, max    time.Duration
	clock       Clock
	walk        WalkOptions
	failUnknown bool
	logger      *slog.Logger
	observer    Observer
}

func newConfig(opts []Option) config {
	c := config{min: time.Second, max: 30 * time.Second, clock: WallClock}
	for _, o := range opts {
		o(&c)
	}
	c.walk = c.walk.norm()
	if c.min <= 0 {
		c.min = time.Millisecond
	}
	if c.max < c.min {
		c.max = c.min
	}
	return c
}

// WithOnProgress calls fn with each changed snapshot of the tree, from the
// waiting goroutine. A poll that shows no change does not call it. fn must
// not modify the tree.
func WithOnProgress(fn func(*Job)) Option { return func(c *config) { c.onProgress = fn } }

// WithInterval sets the polling backoff: the first pause is min; each next
// pause grows by half after a poll that saw no change and by a fifth after
// one that did, up to max; each is jittered within its lower half. Defaults:
// 1s and 30s. With a push source, max is the reconciliation interval.
func WithInterval(min, max time.Duration) Option {
	return func(c *config) { c.min, c.max = min, max }
}

// WithClock sleeps on clk instead of the wall clock (the fake's clock).
func WithClock(clk Clock) Option { return func(c *config) { c.clock = clk } }

// WithWalkOptions bounds the depth and size of trees (defaults
// DefaultMaxDepth and DefaultMaxNodes).
func WithWalkOptions(o WalkOptions) Option { return func(c *config) { c.walk = o } }

// WithFailOnUnknownState makes a node in a state longrun does not recognize
// end the wait with an *UnknownStateError. By default such a node is not
// done (only a terminal state is), so the wait goes on until the service
// reports a state longrun knows, or ctx ends.
func WithFailOnUnknownState() Option { return func(c *config) { c.failUnknown = true } }

// WithLogger logs each poll round at debug level.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// Wait follows job id on src until every node of its tree is done and
// returns the final tree. It fails at once, with a *FailedError, when any
// node reaches a failure state. When ctx ends first it returns a
// *TimeoutError holding the last tree seen. On any error the returned job
// is the last snapshot seen, or nil.
//
// If src is a Pusher, Wait listens to its pushes and polls only as a slow
// fallback; otherwise it polls with jittered exponential backoff, clipped
// to ctx's deadline and stretched to honour a server's Retry-After.
func Wait(ctx context.Context, src Source, id string, opts ...Option) (*Job, error) {
	cfg := newConfig(opts)
	var last *Job
	for job, err := range poll(ctx, src, id, cfg) {
		if job != nil {
			last = job
		}
		if err != nil {
			return last, err
		}
		if cfg.onProgress != nil {
			cfg.onProgress(job)
		}
	}
	return last, nil
}

// Poll yields each changed snapshot of job id's tree until the tree is done
// (the final snapshot is the last one yielded) or an error ends it (yielded
// with the last snapshot seen). It is Wait as an iterator; WithOnProgress is
// ignored since the loop body sees every snapshot.
func Poll(ctx context.Context, src Source, id string, opts ...Option) iter.Seq2[*Job, error] {
	return poll(ctx, src, id, newConfig(opts))
}

func poll(ctx context.Context, src Source, id string, cfg config) iter.Seq2[*Job, error] {
	return func(yield func(*Job, error) bool) {
		pusher, _ := src.(Pusher)
		multi, _ := src.(MultiPusher)
		ctx, ob := startObserved(ctx, &cfg, src, id, false, pusher != nil || multi != nil)
		var last *Job
		endErr := errStopped
		defer func() { ob.end(last, endErr) }()
		emit := func(j *Job, err error) bool {
			if j != nil {
				last = j
			}
			endErr = err
			return yield(j, err)
		}

		tr := newTracker(id, &cfg)
		b := backoff{cfg: &cfg}
		var push <-chan *Job
		pctx, cancelPush := context.WithCancel(ctx)
		defer cancelPush()
		subscribe := func() {
			if push != nil {
				return
			}
			var ch <-chan *Job
			var err error
			switch {
			case pusher != nil:
				ch, err = pusher.Changes(pctx, id)
			case multi != nil:
				ch, err = multi.AllChanges(pctx)
			default:
				return
			}
			if err == nil {
				push = ch
			} else if cfg.logger != nil {
				cfg.logger.DebugContext(ctx, "longrun: push unavailable, polling", "job", id, "error", err)
			}
		}
		subscribe()
		var seed map[string]*Job
		var seedAt time.Time
		for {
			var res roundResult
			var via Via
			var at time.Time
			hadPush := push != nil
			if seed != nil {
				res, via, at = roundWith(ctx, src, tr, &cfg, &push, seed, ViaPush, seedAt)
			} else {
				res, via, at = roundWith(ctx, src, tr, &cfg, &push, map[string]*Job{}, ViaPoll, time.Time{})
			}
			seed = nil
			if res.err != nil {
				if ctx.Err() != nil {
					emit(tr.root, &TimeoutError{Last: tr.root, Cause: ctx.Err(), LastErr: res.err})
					return
				}
				if !isTemporary(res.err) {
					ob.arrived(via, at)
					emit(tr.root, res.err)
					return
				}
				b.lastErr = res.err
			} else {
				b.lastErr = nil
				if res.changed {
					ob.snapshot(tr.root, via, at)
				} else {
					ob.arrived(via, at)
				}
				if res.changed && res.final == nil {
					if !emit(tr.root, nil) {
						endErr = errStopped
						return
					}
				}
				if res.final != nil {
					emit(tr.root, res.final)
					return
				}
				if res.done {
					endErr = nil
					return
				}
			}
			if !hadPush || push != nil {
				// A stream that broke during this round is asked for
				// again after the next poll, never in a loop.
				subscribe()
			}
			delay := b.next(ctx, res.changed, res.err)
			if push != nil {
				delay = cfg.max
			}
			timer := cfg.clock.After(delay)
		sleep:
			for {
				select {
				case <-ctx.Done():
					emit(tr.root, &TimeoutError{Last: tr.root, Cause: ctx.Err(), LastErr: b.lastErr})
					return
				case <-timer:
					break sleep
				case snap, ok := <-push:
					if !ok {
						// The stream broke. Nothing says the job changed:
						// poll on the backoff schedule, and subscribe
						// again after that poll, never in a loop.
						push = nil
						timer = cfg.clock.After(b.next(ctx, true, nil))
						continue
					}
					if snap != nil && snap.ID == id {
						seed, seedAt = map[string]*Job{id: snap}, time.Now()
						break sleep
					}
				}
			}
		}
	}
}

// errStopped is what an Observer hears when a Poll loop stops early.
var errStopped = errors.New("jobs: poll loop stopped by its caller")

// roundWith runs one tracker round over fetched (empty, or a pushed
// snapshot arrived at at), fetching what the tree still needs. While a
// push stream is live each Fetch runs on a goroutine of its own, so that
// a push arriving meanwhile is taken at once: when the pushed snapshot,
// with what this round already fetched, completes the tree, the Fetch is
// cancelled and its answer dropped (the goroutine ends when the Source
// returns); otherwise the push replaces the root the Fetch brings back.
// It returns how the last document arrived and when.
func roundWith(ctx context.Context, src Source, tr *tracker, cfg *config, push *<-chan *Job, fetched map[string]*Job, via Via, at time.Time) (roundResult, Via, time.Time) {
	var info RoundInfo
	var started time.Time
	defer func() {
		if info.Requests > 0 {
			info.Watched = 1
			info.Duration = time.Since(started)
			observeRound(ctx, cfg, info)
		}
	}()
	for {
		missing, res, complete := tr.try(fetched)
		if complete {
			return res, via, at
		}
		if info.Requests == 0 {
			started = time.Now()
		}
		info.Requests++
		info.IDs += len(missing)
		var got []*Job
		var err error
		if *push == nil {
			got, err = src.Fetch(ctx, missing...)
		} else {
			var snap *Job
			got, snap, err = fetchOrPush(ctx, src, tr, push, fetched, missing)
			if snap != nil {
				fetched[tr.id] = snap
				_, res, _ := tr.try(fetched) // completes: fetchOrPush checked
				return res, ViaPush, time.Now()
			}
		}
		if err != nil {
			info.Err = err
			return roundResult{err: err}, via, at
		}
		via, at = ViaPoll, time.Now()
		for _, j := range got {
			if j != nil {
				fetched[j.ID] = j
			}
		}
		for _, id := range missing {
			if _, ok := fetched[id]; !ok {
				fetched[id] = nil // asked for and not found
			}
		}
	}
}

type fetchResult struct {
	got []*Job
	err error
}

// fetchOrPush fetches ids on a goroutine while reading the push stream.
// A push of the root that completes the tree together with fetched is
// returned as snap (the Fetch is cancelled). A broken stream sets *push
// to nil.
func fetchOrPush(ctx context.Context, src Source, tr *tracker, push *<-chan *Job, fetched map[string]*Job, ids []string) (got []*Job, snap *Job, err error) {
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan fetchResult, 1)
	go func() {
		g, e := src.Fetch(fctx, ids...)
		done <- fetchResult{g, e}
	}()
	var pending *Job
	for {
		select {
		case r := <-done:
			if pending != nil {
				// Newer than what the Fetch saw: it arrived after the
				// request was sent.
				r.got = append(r.got, pending)
			}
			return r.got, nil, r.err
		case s, ok := <-*push:
			if !ok {
				*push = nil
				continue
			}
			if s == nil || s.ID != tr.id {
				continue
			}
			if tr.completes(fetched, s) {
				return nil, s, nil
			}
			pending = s
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
}

func isTemporary(err error) bool {
	var t Temporary
	if errors.As(err, &t) {
		return t.Temporary()
	}
	return false
}

// backoff computes jittered exponential pauses clipped to the deadline.
type backoff struct {
	cfg     *config
	cur     time.Duration
	lastErr error
}

// next returns the pause before the next poll.
func (b *backoff) next(ctx context.Context, changed bool, err error) time.Duration {
	switch {
	case b.cur == 0:
		b.cur = b.cfg.min
	default:
		// Grow by half when nothing changed, by a fifth when something
		// did: a job that moves steadily for ten minutes is polled a few
		// dozen times, not six hundred. Grow in float64 and compare before
		// converting: a huge max would otherwise overflow into a negative
		// pause.
		factor := 1.5
		if changed {
			factor = 1.2
		}
		if next := float64(b.cur) * factor; next < float64(b.cfg.max) {
			b.cur = time.Duration(next)
		} else {
			b.cur = b.cfg.max
		}
	}
	// Full jitter in [cur/2, cur].
	d := b.cur/2 + time.Duration(rand.Int64N(int64(b.cur/2)+1))
	var ra RetryAfter
	if err != nil && errors.As(err, &ra) {
		d = max(d, ra.RetryAfter())
	}
	if dl, ok := ctx.Deadline(); ok {
		d = clipToDeadline(d, dl, b.cfg.min)
	}
	return d
}

// clipToDeadline shortens d so that the next poll comes just before the
// deadline rather than after it. When less than floor is left, d stays:
// the deadline ends the pause, and polling in ever shorter steps would not
// help.
func clipToDeadline(d time.Duration, deadline time.Time, floor time.Duration) time.Duration {
	if left := time.Until(deadline); left >= floor && d > left {
		return left - left/10
	}
	return d
}

// roundResult is what one poll round learned.
type roundResult struct {
	changed bool
	done    bool
	final   error // a terminal error: failure, unknown state, malformed tree, not found
	err     error // a fetch error
}

// tracker assembles a job tree from fetched documents across rounds. Nodes
// the service gave as references (Partial) are fetched by id in one batch;
// subtrees that are done are cached and never fetched again.
type tracker struct {
	id    string
	cfg   *config
	root  *Job
	done  map[string]*Job // finished subtrees, never refetched
	open  []string        // partial ids to refresh with the root next round
	sig   uint64
	first bool
}

func newTracker(id string, cfg *config) *tracker {
	return &tracker{id: id, cfg: cfg, first: true}
}

// want lists the ids to fetch this round.
func (t *tracker) want() []string {
	if len(t.open) == 0 {
		return []string{t.id}
	}
	return append([]string{t.id}, t.open...)
}

type fetchFunc func(ctx context.Context, ids ...string) ([]*Job, error)

// round refreshes the tree, fetching with fetch what seed (a pushed
// snapshot, or a batch a Watcher fetched for many trees at once) lacks.
// In seed, an id mapped to nil was asked for and not found.
func (t *tracker) round(ctx context.Context, fetch fetchFunc, seed map[string]*Job) roundResult {
	fetched := make(map[string]*Job, len(seed)+len(t.open)+1)
	for id, j := range seed {
		fetched[id] = j
	}
	for {
		missing, res, complete := t.try(fetched)
		if complete {
			return res
		}
		got, err := fetch(ctx, missing...)
		if err != nil {
			return roundResult{err: err}
		}
		merge(fetched, missing, got)
	}
}

// merge adds the documents got for ids to fetched, and marks the ids the
// service did not return as not found.
func merge(fetched map[string]*Job, ids []string, got []*Job) {
	for _, j := range got {
		if j != nil {
			fetched[j.ID] = j
		}
	}
	for _, id := range ids {
		if _, ok := fetched[id]; !ok {
			fetched[id] = nil
		}
	}
}

// assembly is a tree put together from fetched documents.
type assembly struct {
	root  *Job
	byRef map[*Job]bool // nodes grafted in place of a reference
	final error         // not found, malformed
}

// try assembles the tree from fetched (id to document; nil: asked for and
// not found). If documents are missing it returns their ids and changes
// nothing; otherwise it takes the tree as this round's and reports.
func (t *tracker) try(fetched map[string]*Job) (missing []string, res roundResult, complete bool) {
	a, missing := t.assemble(fetched)
	if len(missing) > 0 {
		return missing, roundResult{}, false
	}
	return nil, t.finish(a), true
}

// completes reports whether fetched, with snap as the root's document,
// assembles a whole tree without another Fetch.
func (t *tracker) completes(fetched map[string]*Job, snap *Job) bool {
	c := make(map[string]*Job, len(fetched)+1)
	for id, j := range fetched {
		c[id] = j
	}
	c[t.id] = snap
	_, missing := t.assemble(c)
	return len(missing) == 0
}

// assemble grafts referenced children into a copy of the root document,
// one level at a time; it never modifies the documents, which belong to
// the Source (a cache, a push fanned out to several waits, a Watcher's
// shared batch). The walk's depth, size and cycle bounds end it on any
// tree a server can send.
func (t *tracker) assemble(fetched map[string]*Job) (a assembly, missing []string) {
	if _, ok := fetched[t.id]; !ok {
		missing = append(missing, t.id)
	}
	for _, id := range t.open {
		if _, ok := fetched[id]; !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		return a, missing
	}
	root := fetched[t.id]
	if root == nil {
		return assembly{final: &NotFoundError{ID: t.id, Last: t.root}}, nil
	}
	if len(root.Children) == 0 {
		return assembly{root: root}, nil // a leaf: nothing to graft
	}
	cloned := false
	var asked map[string]bool
	for {
		var partial []*Job
		for n, err := range WalkWith(root, t.cfg.walk) {
			if err != nil {
				return assembly{root: root, byRef: a.byRef, final: err}, nil
			}
			for _, ch := range n.Job.Children {
				if ch != nil && ch.Partial {
					partial = append(partial, n.Job)
					break
				}
			}
		}
		if len(partial) == 0 {
			break
		}
		if !cloned {
			root, cloned = root.Clone(), true
			continue
		}
		grafted := false
		for _, p := range partial {
			for i, ch := range p.Children {
				if ch == nil || !ch.Partial {
					continue
				}
				if d, ok := t.done[ch.ID]; ok {
					p.Children[i] = d // a done tree holds no reference: never written to
					grafted = true
					continue
				}
				f, ok := fetched[ch.ID]
				switch {
				case ok && f == nil:
					return assembly{root: root, byRef: a.byRef, final: &NotFoundError{ID: ch.ID, Last: root}}, nil
				case ok && !f.Partial:
					c := f.Clone()
					p.Children[i] = c
					if a.byRef == nil {
						a.byRef = map[*Job]bool{}
					}
					a.byRef[c] = true
					grafted = true
				case !ok && !asked[ch.ID]:
					if asked == nil {
						asked = map[string]bool{}
					}
					asked[ch.ID] = true // a child referenced twice is asked for once
					missing = append(missing, ch.ID)
				}
			}
		}
		if len(missing) > 0 {
			return a, missing
		}
		if !grafted {
			break
		}
	}
	a.root = root
	return a, nil
}

// finish takes an assembled tree as this round's: it remembers which
// fetched-by-id subtrees are done and which stay open, and reports.
func (t *tracker) finish(a assembly) roundResult {
	if a.final != nil {
		if a.root != nil {
			t.root = a.root
		}
		return roundResult{final: a.final}
	}
	root := a.root
	var open []string
	if len(a.byRef) > 0 {
		inOpen := map[string]bool{}
		for n, err := range WalkWith(root, t.cfg.walk) {
			if err != nil {
				t.root = root
				return roundResult{final: err}
			}
			if n.Parent == nil || !a.byRef[n.Job] {
				continue
			}
			if n.Job.TreeDone() {
				if t.done == nil {
					t.done = map[string]*Job{}
				}
				t.done[n.Job.ID] = n.Job
			} else if !inOpen[n.Job.ID] {
				inOpen[n.Job.ID] = true // a child referenced twice is asked for once
				open = append(open, n.Job.ID)
			}
		}
	}
	t.open = open
	t.root = root
	sig := signature(root)
	res := roundResult{changed: t.first || sig != t.sig}
	t.first = false
	t.sig = sig
	if failed := root.Failed(); failed != nil {
		res.final = &FailedError{Job: root, Node: failed}
		return res
	}
	if t.cfg.failUnknown {
		for n := range Walk(root) {
			if n.Job.State == StateUnknown && !n.Job.Done() {
				res.final = &UnknownStateError{Job: root, Node: n.Job}
				return res
			}
		}
	}
	res.done = root.TreeDone()
	if t.cfg.logger != nil {
		p := root.Aggregate()
		t.cfg.logger.Debug("longrun: poll", "job", t.id, "percent", p.Percent, "changed", res.changed, "done", res.done)
	}
	return res
}

// signature hashes what a person would see change in the tree (FNV-1a,
// written out so that hashing allocates nothing).
func signature(root *Job) uint64 {
	const prime = 1099511628211
	h := uint64(14695981039346656037)
	str := func(v string) {
		for i := 0; i < len(v); i++ {
			h ^= uint64(v[i])
			h *= prime
		}
		h ^= 0
		h *= prime
	}
	put := func(u uint64) {
		for i := range 8 {
			h ^= uint64(byte(u >> (8 * i)))
			h *= prime
		}
	}
	for n, err := range Walk(root) {
		if err != nil {
			put(math.MaxUint64)
			break
		}
		j := n.Job
		str(j.ID)
		str(string(j.State))
		str(j.RawState)
		str(j.Progress.Description)
		str(j.Message)
		put(math.Float64bits(j.Progress.Percent))
		var flags uint64
		if j.Progress.Known { // "?" turning into "0%" is a change
			flags |= 1
		}
		if j.Partial {
			flags |= 2
		}
		put(flags)
		put(uint64(len(j.Children)))
		put(uint64(n.Depth))
	}
	return h
}
