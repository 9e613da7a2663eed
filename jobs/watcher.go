package jobs

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrWatcherClosed is returned by Watcher.Wait after Close.
var ErrWatcherClosed = errors.New("jobs: watcher closed")

// Watcher follows many jobs on one Source with a single poller: every round
// it gathers what each watched tree still needs and fetches it in one
// batched Fetch, so ten thousand waits cost one request per round (or a few,
// if the dialect splits long id lists), not ten thousand. When the service
// refuses a batch outright, each wait fetches its own ids for that round,
// so one bad id ends only its own wait. With a Pusher source each wait
// also listens to pushes (one Changes call per wait, renewed after the
// reconciliation interval when the stream breaks), and the poller only
// reconciles.
//
// A Watcher starts its goroutine on the first Wait and stops it when no wait
// is left or on Close. It is safe for concurrent use.
type Watcher struct {
	src  Source
	cfg  config
	push Pusher

	mu      sync.Mutex
	watches map[*watch]struct{}
	running bool
	closed  bool
	wake    chan struct{}
	pushed  chan pushedSnap
	stop    chan struct{}
	done    chan struct{}

	stats WatcherStats
}

// WatcherStats counts a Watcher's work.
type WatcherStats struct {
	Rounds      int // poll rounds, FirstRounds included
	FirstRounds int // rounds that polled only waits new since the last round
	Fetches     int // Fetch calls (one batched call per round, plus first-time child look-ups)
	Pushes      int // snapshots that arrived by push
}

type watch struct {
	id  string
	ctx context.Context
	tr  *tracker
	cfg config
	out chan watchUpdate // capacity 1: the newest update replaces an unread one

	polled bool // the poller has fetched it once (poller goroutine only)

	mu      sync.Mutex
	closed  bool // a final update was sent
	pushing bool // a push stream is live for this wait
}

func (wt *watch) isClosed() bool {
	wt.mu.Lock()
	defer wt.mu.Unlock()
	return wt.closed
}

func (wt *watch) setPushing(on bool) {
	wt.mu.Lock()
	wt.pushing = on
	wt.mu.Unlock()
}

func (wt *watch) isPushing() bool {
	wt.mu.Lock()
	defer wt.mu.Unlock()
	return wt.pushing
}

type watchUpdate struct {
	job   *Job
	err   error // final (failure, not found, malformed, permanent fetch error)
	final bool
}

type pushedSnap struct {
	w   *watch
	job *Job
}

// NewWatcher returns a Watcher over src. The options apply to every wait;
// Wait may add per-wait options (WithOnProgress, WithFailOnUnknownState).
// It starts no goroutine until the first Wait.
func NewWatcher(src Source, opts ...Option) *Watcher {
	w := &Watcher{
		src:     src,
		cfg:     newConfig(opts),
		watches: map[*watch]struct{}{},
		wake:    make(chan struct{}, 1),
		pushed:  make(chan pushedSnap, 64),
	}
	w.push, _ = src.(Pusher)
	return w
}

// Stats returns a copy of the counters.
func (w *Watcher) Stats() WatcherStats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stats
}

// Watching returns how many waits are in progress.
func (w *Watcher) Watching() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.watches)
}

// Wait follows job id like the package-level Wait, sharing the Watcher's
// poller with every other wait.
func (w *Watcher) Wait(ctx context.Context, id string, opts ...Option) (*Job, error) {
	cfg := w.cfg
	for _, o := range opts {
		o(&cfg)
	}
	wt := &watch{id: id, ctx: ctx, cfg: cfg, out: make(chan watchUpdate, 1)}
	wt.tr = newTracker(id, &wt.cfg)

	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil, ErrWatcherClosed
	}
	w.watches[wt] = struct{}{}
	if !w.running {
		w.running = true
		w.stop = make(chan struct{})
		w.done = make(chan struct{})
		go w.loop(w.stop, w.done)
	}
	w.mu.Unlock()
	defer w.remove(wt)

	if w.push != nil {
		pctx, cancel := context.WithCancel(ctx)
		defer cancel()
		if ch, err := w.push.Changes(pctx, id); err == nil {
			wt.setPushing(true)
			go w.forward(pctx, wt, ch)
		}
	}
	w.kick()

	var last *Job
	for {
		select {
		case <-ctx.Done():
			return last, &TimeoutError{Last: last, Cause: ctx.Err()}
		case u := <-wt.out:
			if u.job != nil {
				last = u.job
			}
			if u.err != nil {
				return last, u.err
			}
			if u.job != nil && cfg.onProgress != nil {
				cfg.onProgress(u.job)
			}
			if u.final {
				return last, nil
			}
		}
	}
}

// forward hands wt's pushed snapshots to the poller until pctx ends. When
// the stream breaks it subscribes again after the reconciliation interval
// (the wait is polled meanwhile). It stops with the wait even if the
// Pusher never closes a stream.
func (w *Watcher) forward(pctx context.Context, wt *watch, ch <-chan *Job) {
	defer wt.setPushing(false)
	for {
		select {
		case snap, ok := <-ch:
			if ok {
				select {
				case w.pushed <- pushedSnap{wt, snap}:
				case <-pctx.Done():
					return
				}
				continue
			}
			wt.setPushing(false)
			ch = nil
			for ch == nil {
				select {
				case <-w.cfg.clock.After(w.cfg.max):
				case <-pctx.Done():
					return
				}
				if c, err := w.push.Changes(pctx, wt.id); err == nil {
					ch = c
					wt.setPushing(true)
				}
			}
		case <-pctx.Done():
			return
		}
	}
}

// Close stops the poller and makes every pending and later Wait return
// ErrWatcherClosed. It waits for the poller goroutine to end.
func (w *Watcher) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	stop, done, running := w.stop, w.done, w.running
	for wt := range w.watches {
		send(wt, watchUpdate{err: ErrWatcherClosed})
	}
	w.mu.Unlock()
	if running {
		close(stop)
		<-done
	}
	return nil
}

func (w *Watcher) remove(wt *watch) {
	w.mu.Lock()
	delete(w.watches, wt)
	w.mu.Unlock()
	// Let the poller notice: it ends when no wait is left.
	w.kick()
}

func (w *Watcher) kick() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// send delivers u, replacing an unread non-final update. After a final
// update nothing more is sent.
func send(wt *watch, u watchUpdate) {
	wt.mu.Lock()
	defer wt.mu.Unlock()
	if wt.closed {
		return
	}
	if u.err != nil || u.final {
		wt.closed = true
	}
	for {
		select {
		case wt.out <- u:
			return
		default:
		}
		select {
		case old := <-wt.out:
			if old.err != nil || old.final {
				// Never drop a final update (cannot happen: closed above).
				wt.out <- old
				return
			}
		default:
		}
	}
}

func allPushing(active []*watch) bool {
	for _, wt := range active {
		if !wt.isPushing() {
			return false
		}
	}
	return len(active) > 0
}

func (w *Watcher) loop(stop, done chan struct{}) {
	defer close(done)
	// ctx ends on Close, so a hung fetch cannot outlive the Watcher.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	b := backoff{cfg: &w.cfg}
	var timer <-chan time.Time
	freshOnly := false
	for {
		w.mu.Lock()
		var active []*watch
		for wt := range w.watches {
			if wt.ctx.Err() != nil || wt.isClosed() || (freshOnly && wt.polled) {
				continue
			}
			active = append(active, wt)
		}
		if len(w.watches) == 0 {
			w.running = false
			w.mu.Unlock()
			return
		}
		if len(active) > 0 {
			w.stats.Rounds++
			if freshOnly {
				w.stats.FirstRounds++
			}
		}
		w.mu.Unlock()

		if len(active) > 0 {
			changed, tempErr := w.round(ctx, active)
			if !freshOnly || timer == nil {
				delay := b.next(ctx, changed, tempErr)
				if allPushing(active) {
					delay = w.cfg.max
				}
				// The poller serves every wait: poll once more before the
				// earliest of their deadlines.
				for _, wt := range active {
					if dl, ok := wt.ctx.Deadline(); ok {
						delay = clipToDeadline(delay, dl, w.cfg.min)
					}
				}
				timer = w.cfg.clock.After(delay)
			}
		}
		// With no active wait and no timer the poller sleeps until a wait
		// arrives or leaves (kick) or Close: an idle timer would only jump
		// an auto-advancing clock.
		freshOnly = false
	sleep:
		for {
			select {
			case <-stop:
				return
			case <-timer:
				timer = nil
				break sleep
			case <-w.wake:
				// New waits get their first poll at once, in one batch,
				// without disturbing the others' schedule.
				freshOnly = true
				break sleep
			case p := <-w.pushed:
				w.mu.Lock()
				w.stats.Pushes++
				_, alive := w.watches[p.w]
				w.mu.Unlock()
				if alive && p.job != nil && p.job.ID == p.w.id && !p.w.isClosed() {
					w.apply(ctx, p.w, map[string]*Job{p.w.id: p.job})
				}
			}
		}
	}
}

// round fetches what every active tree needs in one call, then lets each
// tracker assemble its tree. It reports whether any tree changed and the
// temporary error that stopped the round, if any.
func (w *Watcher) round(ctx context.Context, active []*watch) (bool, error) {
	seen := map[string]bool{}
	var ids []string
	for _, wt := range active {
		wt.polled = true
		for _, id := range wt.tr.want() {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	got, err := w.countedFetch(ctx, ids...)
	if err != nil {
		if isTemporary(err) || ctx.Err() != nil {
			return false, err
		}
		if len(active) == 1 {
			send(active[0], watchUpdate{job: active[0].tr.root, err: err})
			return false, nil
		}
		// The service refused the batch, perhaps for one id in it: let
		// each wait fetch its own ids this round, so the error ends only
		// the waits it belongs to.
		changed := false
		for _, wt := range active {
			if w.apply(ctx, wt, nil) {
				changed = true
			}
		}
		return changed, nil
	}
	batch := make(map[string]*Job, len(got))
	for _, j := range got {
		if j != nil {
			batch[j.ID] = j
		}
	}
	// Ids asked for and not returned are known to be missing.
	for _, id := range ids {
		if _, ok := batch[id]; !ok {
			batch[id] = nil
		}
	}
	changed := false
	for _, wt := range active {
		if w.apply(ctx, wt, batch) {
			changed = true
		}
	}
	return changed, nil
}

// apply runs one tracker round over seed and delivers the result.
func (w *Watcher) apply(ctx context.Context, wt *watch, seed map[string]*Job) bool {
	res := wt.tr.round(ctx, w.countedFetch, seed)
	switch {
	case res.err != nil:
		if !isTemporary(res.err) && ctx.Err() == nil {
			send(wt, watchUpdate{job: wt.tr.root, err: res.err})
		}
	case res.final != nil:
		send(wt, watchUpdate{job: wt.tr.root, err: res.final})
	case res.done:
		send(wt, watchUpdate{job: wt.tr.root, final: true})
	case res.changed:
		send(wt, watchUpdate{job: wt.tr.root})
	}
	return res.changed
}

func (w *Watcher) countedFetch(ctx context.Context, ids ...string) ([]*Job, error) {
	w.mu.Lock()
	w.stats.Fetches++
	w.mu.Unlock()
	return w.src.Fetch(ctx, ids...)
}
