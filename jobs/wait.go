package jobs

import (
	"context"
	"errors"
	"hash/fnv"
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
		tr := newTracker(id, &cfg)
		b := backoff{cfg: &cfg}
		pusher, _ := src.(Pusher)
		var push <-chan *Job
		pctx, cancelPush := context.WithCancel(ctx)
		defer cancelPush()
		subscribe := func() {
			if pusher == nil || push != nil {
				return
			}
			ch, err := pusher.Changes(pctx, id)
			if err == nil {
				push = ch
			} else if cfg.logger != nil {
				cfg.logger.DebugContext(ctx, "longrun: push unavailable, polling", "job", id, "error", err)
			}
		}
		subscribe()
		var seed map[string]*Job
		for {
			res := tr.round(ctx, src.Fetch, seed)
			seed = nil
			if res.err != nil {
				if ctx.Err() != nil {
					yield(tr.root, &TimeoutError{Last: tr.root, Cause: ctx.Err(), LastErr: res.err})
					return
				}
				if !isTemporary(res.err) {
					yield(tr.root, res.err)
					return
				}
				b.lastErr = res.err
			} else {
				b.lastErr = nil
				if res.changed && res.final == nil {
					if !yield(tr.root, nil) {
						return
					}
				}
				if res.final != nil {
					yield(tr.root, res.final)
					return
				}
				if res.done {
					return
				}
			}
			subscribe()
			delay := b.next(ctx, res.changed, res.err)
			if push != nil {
				delay = cfg.max
			}
			timer := cfg.clock.After(delay)
		sleep:
			for {
				select {
				case <-ctx.Done():
					yield(tr.root, &TimeoutError{Last: tr.root, Cause: ctx.Err(), LastErr: b.lastErr})
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
						seed = map[string]*Job{id: snap}
						break sleep
					}
				}
			}
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
	return &tracker{id: id, cfg: cfg, done: map[string]*Job{}, first: true}
}

// want lists the ids to fetch this round.
func (t *tracker) want() []string {
	return append([]string{t.id}, t.open...)
}

type fetchFunc func(ctx context.Context, ids ...string) ([]*Job, error)

// round refreshes the tree. Documents already in seed (a pushed snapshot,
// or a batch a Watcher fetched for many trees at once) are used as they
// are; the rest of want() is fetched.
func (t *tracker) round(ctx context.Context, fetch fetchFunc, seed map[string]*Job) roundResult {
	fetched := make(map[string]*Job, len(t.open)+1)
	var ids []string
	for _, id := range t.want() {
		if j, ok := seed[id]; ok {
			if j == nil { // the batch asked for it and the service had none
				return roundResult{final: &NotFoundError{ID: id, Last: t.root}}
			}
			fetched[id] = j
		} else {
			ids = append(ids, id)
		}
	}
	if err := fetchInto(ctx, fetch, ids, fetched); err != nil {
		return roundResult{err: err}
	}
	root, ok := fetched[t.id]
	if !ok || root == nil {
		return roundResult{final: &NotFoundError{ID: t.id, Last: t.root}}
	}
	// Graft referenced children, fetching the ones this round lacks, one
	// batch per level at most. The walk's depth, size and cycle bounds end
	// the loop on any tree a server can send.
	var open []string
	cloned := false
	byRef := map[*Job]bool{} // nodes grafted in place of a reference
	for {
		var missing []string
		var partial []*Job
		for n, err := range WalkWith(root, t.cfg.walk) {
			if err != nil {
				t.root = root
				return roundResult{final: err}
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
			// Graft into a copy: the documents belong to the Source,
			// which may hand the same *Job to others (a cache, a push
			// fanned out to several waits, a Watcher's shared batch).
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
				} else if f, ok := fetched[ch.ID]; ok && f != nil && !f.Partial {
					c := f.Clone()
					p.Children[i] = c
					byRef[c] = true
					grafted = true
				} else if _, tried := fetched[ch.ID]; !tried {
					missing = append(missing, ch.ID)
					fetched[ch.ID] = nil // ask once per round
				}
			}
		}
		if len(missing) > 0 {
			if err := fetchInto(ctx, fetch, missing, fetched); err != nil {
				return roundResult{err: err}
			}
			for _, id := range missing {
				if fetched[id] == nil {
					t.root = root
					return roundResult{final: &NotFoundError{ID: id, Last: root}}
				}
			}
			continue
		}
		if !grafted {
			break
		}
	}
	// Remember which fetched-by-id subtrees are done, and which stay open.
	inOpen := map[string]bool{}
	for n, err := range WalkWith(root, t.cfg.walk) {
		if err != nil {
			t.root = root
			return roundResult{final: err}
		}
		if n.Parent == nil {
			continue
		}
		if byRef[n.Job] {
			if n.Job.TreeDone() {
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
		t.cfg.logger.DebugContext(ctx, "longrun: poll", "job", t.id, "percent", p.Percent, "changed", res.changed, "done", res.done)
	}
	return res
}

func fetchInto(ctx context.Context, fetch fetchFunc, ids []string, into map[string]*Job) error {
	if len(ids) == 0 {
		return nil
	}
	got, err := fetch(ctx, ids...)
	if err != nil {
		return err
	}
	for _, j := range got {
		if j != nil {
			into[j.ID] = j
		}
	}
	return nil
}

// signature hashes what a person would see change in the tree.
func signature(root *Job) uint64 {
	h := fnv.New64a()
	var buf [8]byte
	put := func(u uint64) {
		for i := range buf {
			buf[i] = byte(u >> (8 * i))
		}
		h.Write(buf[:])
	}
	for n, err := range Walk(root) {
		if err != nil {
			put(math.MaxUint64)
			break
		}
		j := n.Job
		h.Write([]byte(j.ID))
		h.Write([]byte{0})
		h.Write([]byte(j.State))
		h.Write([]byte{0})
		h.Write([]byte(j.RawState))
		h.Write([]byte{0})
		h.Write([]byte(j.Progress.Description))
		h.Write([]byte{0})
		h.Write([]byte(j.Message))
		h.Write([]byte{0})
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
	return h.Sum64()
}
