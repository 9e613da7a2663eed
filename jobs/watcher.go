package jobs

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrWatcherClosed is returned by Watcher.Wait after Close.
var ErrWatcherClosed = errors.New("jobs: watcher closed")

// BatchLimiter is a Source that caps how many ids one Fetch may carry (a
// URL length, a websocket frame limit). A Watcher splits every batched
// fetch into chunks of at most MaxBatch ids; 0 or less means no cap.
type BatchLimiter interface {
	MaxBatch() int
}

// MultiPusher is a Source that pushes the changes of every job over one
// stream (a service's job event subscription, one per connection). A
// Watcher over a MultiPusher subscribes once for all its waits, so a
// hundred thousand waits share one stream and one goroutine; Wait uses it
// when the Source is not also a Pusher, keeping only its own job's
// snapshots. It pairs with Pusher: Changes follows one job, AllChanges
// every job.
type MultiPusher interface {
	// AllChanges returns a channel that receives a fresh snapshot of a job
	// tree each time the service reports a change of any job. The channel
	// is closed when ctx ends or the stream breaks; the caller polls
	// meanwhile and subscribes again after its reconciliation interval.
	AllChanges(ctx context.Context) (<-chan *Job, error)
}

// RunningLister is a Source that can list, a page at a time, the jobs the
// service has not finished (a list filtered on the running state). When a
// Watcher follows more jobs than a list costs, it lists them instead of
// asking by id, and asks by id only for the jobs the list left out.
type RunningLister interface {
	// ListRunning returns one bounded page of unfinished jobs starting at
	// offset. Page.More says whether another page follows.
	ListRunning(ctx context.Context, offset int) (*Page[*Job], error)
}

// Watcher follows many jobs on one Source with a single poller: every round
// it gathers what each watched tree still needs and fetches it in one
// batched Fetch (chunked to the Source's MaxBatch when it is a
// BatchLimiter), so ten thousand waits cost one request per round, or a
// few, not ten thousand. When the Source is a RunningLister and listing the
// unfinished jobs takes fewer requests than asking by id, the round lists
// instead (re-checked every few rounds). When the service refuses a batch
// outright, each wait fetches its own ids for that round, so one bad id
// ends only its own wait.
//
// With a MultiPusher the Watcher holds one subscription for every wait and
// the poller only reconciles; with a Pusher each wait has a stream (and a
// goroutine forwarding it) of its own. A push is taken the moment it
// arrives, even while a poll round is in flight.
//
// A Watcher starts its goroutine on the first Wait and stops it when no wait
// is left or on Close. It is safe for concurrent use.
type Watcher struct {
	src    Source
	cfg    config
	push   Pusher
	multi  MultiPusher
	lister RunningLister
	batch  int

	mu      sync.Mutex
	watches map[*watch]struct{}
	byID    map[string][]*watch // waits by job id, for the shared push stream
	fresh   []*watch            // waits not polled yet
	running bool
	closed  bool
	multiOn bool // the shared push stream is live
	wake    chan struct{}
	pushed  chan pushedSnap
	cancel  context.CancelFunc
	done    chan struct{}

	stats WatcherStats

	// poller goroutine only
	roundNo    uint64
	listCost   int // requests of the last list round, listing and by id (0: never listed)
	sinceProbe int // by-id rounds since the last list round
}

// WatcherStats counts a Watcher's work.
type WatcherStats struct {
	Rounds      int // poll rounds, FirstRounds included
	FirstRounds int // rounds that polled only waits new since the last round
	Fetches     int // requests to the Source: Fetch calls (one per chunk) and ListRunning pages
	ListRounds  int // rounds that listed running jobs instead of asking by id
	Pushes      int // snapshots that arrived by push
}

type watch struct {
	id  string
	ctx context.Context
	tr  *tracker
	cfg config
	out chan watchUpdate // capacity 1: the newest update replaces an unread one

	polled   bool   // the poller has fetched it once (poller goroutine only)
	pushedIn uint64 // the round during which a push was applied (poller only)

	mu      sync.Mutex
	closed  bool // a final update was sent
	pushing bool // a push stream of its own is live for this wait

	// async is the state of a WaitAsync wait (no out channel, no
	// goroutine of its own); nil for Wait.
	async *asyncWait
}

// asyncWait is the state of a wait started with WaitAsync.
type asyncWait struct {
	w      *Watcher
	done   func(*Job, error)
	ob     *observed
	last   *Job // under watch.mu
	stop   func() bool
	cancel context.CancelFunc
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
	via   Via
	at    time.Time // when the snapshot reached longrun
}

type pushedSnap struct {
	w   *watch
	job *Job
	at  time.Time
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
	w.multi, _ = src.(MultiPusher)
	if w.multi == nil {
		w.push, _ = src.(Pusher)
	} else {
		w.byID = map[string][]*watch{}
	}
	w.lister, _ = src.(RunningLister)
	if l, ok := src.(BatchLimiter); ok {
		w.batch = max(0, l.MaxBatch())
	}
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
	// Split in three so that the goroutine blocked in the loop holds a
	// small stack: the set-up (the Watcher's maps may grow) and the loop
	// never sit on the stack together.
	wt, ob, cancel, err := w.begin(ctx, id, opts)
	if err != nil {
		return nil, err
	}
	job, err := w.await(wt, ob, cancel)
	ob.end(job, err)
	return job, err
}

// begin registers a blocking wait and subscribes it to its push stream.
func (w *Watcher) begin(ctx context.Context, id string, opts []Option) (*watch, *observed, context.CancelFunc, error) {
	cfg := w.cfg
	for _, o := range opts {
		o(&cfg)
	}
	ctx, ob := startObserved(ctx, &cfg, w.src, id, true, w.push != nil || w.multi != nil)
	wt := &watch{id: id, ctx: ctx, cfg: cfg, out: make(chan watchUpdate, 1)}
	wt.tr = newTracker(id, &wt.cfg)
	if !w.add(wt) {
		ob.end(nil, ErrWatcherClosed)
		return nil, nil, nil, ErrWatcherClosed
	}
	var cancel context.CancelFunc
	if w.push != nil {
		var pctx context.Context
		pctx, cancel = context.WithCancel(ctx)
		if ch, err := w.push.Changes(pctx, id); err == nil {
			wt.setPushing(true)
			go w.forward(pctx, wt, ch)
		}
	}
	w.kick()
	return wt, ob, cancel, nil
}

// await is Wait's loop, until the wait's final update or its context's
// end.
func (w *Watcher) await(wt *watch, ob *observed, cancel context.CancelFunc) (last *Job, err error) {
	defer func() {
		if cancel != nil {
			cancel()
		}
		w.remove(wt)
	}()
	for {
		select {
		case <-wt.ctx.Done():
			return last, &TimeoutError{Last: last, Cause: wt.ctx.Err()}
		case u := <-wt.out:
			if u.job != nil {
				last = u.job
			}
			if u.err != nil {
				ob.arrived(u.via, u.at)
				return last, u.err
			}
			if u.job != nil {
				ob.snapshot(u.job, u.via, u.at)
				if wt.cfg.onProgress != nil {
					wt.cfg.onProgress(u.job)
				}
			}
			if u.final {
				return last, nil
			}
		}
	}
}

// add registers wt and starts the poller if it is not running; it reports
// false when the Watcher is closed.
func (w *Watcher) add(wt *watch) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return false
	}
	w.watches[wt] = struct{}{}
	w.fresh = append(w.fresh, wt)
	if w.byID != nil {
		w.byID[wt.id] = append(w.byID[wt.id], wt)
	}
	if !w.running {
		w.running = true
		lctx, cancel := context.WithCancel(context.Background())
		w.cancel = cancel
		w.done = make(chan struct{})
		go w.loop(lctx, cancel, w.done)
	}
	return true
}

// WaitAsync follows job id like Wait, without blocking and without a
// goroutine of its own: done is called once, with what Wait would return,
// when the tree is done or fails, when ctx ends, or when the Watcher
// closes. The progress callback (WithOnProgress) and done run on the
// Watcher's poller (on the goroutine context.AfterFunc starts when ctx
// ends, or on Close's), so they must return quickly and must not call
// Close. Over a MultiPusher or a Source that does not push, a hundred
// thousand WaitAsync waits cost no goroutine at all; over a Pusher each
// still has its stream's forwarder. After Close it returns
// ErrWatcherClosed and never calls done.
func (w *Watcher) WaitAsync(ctx context.Context, id string, done func(*Job, error), opts ...Option) error {
	cfg := w.cfg
	for _, o := range opts {
		o(&cfg)
	}
	ctx, ob := startObserved(ctx, &cfg, w.src, id, true, w.push != nil || w.multi != nil)
	wt := &watch{id: id, ctx: ctx, cfg: cfg}
	wt.tr = newTracker(id, &wt.cfg)
	aw := &asyncWait{w: w, done: done, ob: ob}
	wt.async = aw
	// Set up before the poller can see the wait: deliver reads them.
	var pctx context.Context
	if w.push != nil {
		pctx, aw.cancel = context.WithCancel(ctx)
	}
	// Under wt.mu: when ctx has ended already the function runs at once
	// on a goroutine of its own, and deliver reads aw.stop.
	wt.mu.Lock()
	aw.stop = context.AfterFunc(ctx, func() {
		send(wt, watchUpdate{err: &TimeoutError{Last: aw.lastJob(wt), Cause: ctx.Err()}})
	})
	wt.mu.Unlock()
	if !w.add(wt) {
		aw.stop()
		if aw.cancel != nil {
			aw.cancel()
		}
		return ErrWatcherClosed
	}
	if wt.isClosed() { // ctx had ended already
		w.remove(wt)
		return nil
	}
	if w.push != nil {
		if ch, err := w.push.Changes(pctx, id); err == nil {
			wt.setPushing(true)
			go w.forward(pctx, wt, ch)
		}
	}
	w.kick()
	return nil
}

func (aw *asyncWait) lastJob(wt *watch) *Job {
	wt.mu.Lock()
	defer wt.mu.Unlock()
	return aw.last
}

// deliver hands u to the wait's callbacks; after the final update the
// wait leaves the Watcher and done is called.
func (aw *asyncWait) deliver(wt *watch, u watchUpdate) {
	wt.mu.Lock()
	if wt.closed {
		wt.mu.Unlock()
		return
	}
	final := u.err != nil || u.final
	if final {
		wt.closed = true
	}
	if u.job != nil {
		aw.last = u.job
	}
	last, stop, cancel := aw.last, aw.stop, aw.cancel
	wt.mu.Unlock()
	if u.job != nil && u.err == nil {
		aw.ob.snapshot(u.job, u.via, u.at)
		if wt.cfg.onProgress != nil {
			wt.cfg.onProgress(u.job)
		}
	}
	if !final {
		return
	}
	if stop != nil {
		stop()
	}
	if cancel != nil {
		cancel()
	}
	if u.err != nil {
		aw.ob.arrived(u.via, u.at)
	}
	aw.w.remove(wt)
	aw.ob.end(last, u.err)
	aw.done(last, u.err)
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
				case w.pushed <- pushedSnap{wt, snap, time.Now()}:
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
	cancel, done, running := w.cancel, w.done, w.running
	pending := make([]*watch, 0, len(w.watches))
	for wt := range w.watches {
		pending = append(pending, wt)
	}
	w.mu.Unlock()
	for _, wt := range pending {
		send(wt, watchUpdate{err: ErrWatcherClosed})
	}
	if running {
		cancel()
		<-done
	}
	return nil
}

func (w *Watcher) remove(wt *watch) {
	w.mu.Lock()
	delete(w.watches, wt)
	if w.byID != nil {
		ws := w.byID[wt.id]
		for i, x := range ws {
			if x == wt {
				ws = append(ws[:i], ws[i+1:]...)
				break
			}
		}
		if len(ws) == 0 {
			delete(w.byID, wt.id)
		} else {
			w.byID[wt.id] = ws
		}
	}
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
	if wt.async != nil {
		wt.async.deliver(wt, u)
		return
	}
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

func (w *Watcher) allPushing(active []*watch) bool {
	if len(active) == 0 {
		return false
	}
	if w.multi != nil {
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.multiOn
	}
	for _, wt := range active {
		if !wt.isPushing() {
			return false
		}
	}
	return true
}

// pushes is the poller's view of the push streams: the shared stream of a
// MultiPusher (nil when it is down) and the forwarders' channel.
type pushes struct {
	shared <-chan *Job
}

func (w *Watcher) loop(ctx context.Context, cancel context.CancelFunc, done chan struct{}) {
	defer close(done)
	defer cancel()
	var ps pushes
	var resub <-chan time.Time
	subscribe := func() {
		if w.multi == nil || ps.shared != nil {
			return
		}
		ch, err := w.multi.AllChanges(ctx)
		if err != nil {
			resub = w.cfg.clock.After(w.cfg.max)
			return
		}
		ps.shared, resub = ch, nil
		w.mu.Lock()
		w.multiOn = true
		w.mu.Unlock()
	}
	subscribe()
	b := backoff{cfg: &w.cfg}
	var timer <-chan time.Time
	freshOnly := false
	for {
		w.mu.Lock()
		var active []*watch
		if freshOnly {
			for _, wt := range w.fresh {
				if _, ok := w.watches[wt]; ok && wt.ctx.Err() == nil && !wt.isClosed() && !wt.polled {
					active = append(active, wt)
				}
			}
		} else {
			active = make([]*watch, 0, len(w.watches))
			for wt := range w.watches {
				if wt.ctx.Err() == nil && !wt.isClosed() {
					active = append(active, wt)
				}
			}
		}
		w.fresh = w.fresh[:0:0]
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
			changed, tempErr := w.round(ctx, active, &ps)
			if ctx.Err() != nil {
				return
			}
			if w.multi != nil && ps.shared == nil && resub == nil {
				resub = w.cfg.clock.After(w.cfg.max) // the stream broke during the round
			}
			if !freshOnly || timer == nil {
				delay := b.next(ctx, changed, tempErr)
				if w.allPushing(active) {
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
			case <-ctx.Done():
				return
			case <-timer:
				timer = nil
				break sleep
			case <-w.wake:
				// New waits get their first poll at once, in one batch,
				// without disturbing the others' schedule.
				freshOnly = true
				break sleep
			case <-resub:
				resub = nil
				subscribe()
			case p := <-w.pushed:
				w.takePush(ctx, p.w, p.job, p.at)
			case snap, ok := <-ps.shared:
				if !ok {
					w.sharedBroke(&ps, &resub)
					continue
				}
				w.routePush(ctx, snap)
			}
		}
	}
}

// sharedBroke notes that the shared push stream closed: the waits are
// polled on the backoff schedule and the poller subscribes again after the
// reconciliation interval.
func (w *Watcher) sharedBroke(ps *pushes, resub *<-chan time.Time) {
	ps.shared = nil
	w.mu.Lock()
	w.multiOn = false
	w.mu.Unlock()
	*resub = w.cfg.clock.After(w.cfg.max)
}

// routePush applies a snapshot from the shared stream to the waits on its
// job (none, usually: the stream carries every job of the service).
func (w *Watcher) routePush(ctx context.Context, snap *Job) {
	if snap == nil {
		return
	}
	at := time.Now()
	w.mu.Lock()
	targets := w.byID[snap.ID]
	var one [1]*watch
	var ws []*watch
	if len(targets) == 1 {
		one[0] = targets[0]
		ws = one[:]
	} else if len(targets) > 1 {
		ws = append([]*watch(nil), targets...)
	}
	w.mu.Unlock()
	for _, wt := range ws {
		w.takePush(ctx, wt, snap, at)
	}
}

// takePush applies a pushed snapshot to wt at once. When the tree needs
// documents the push does not bring (references not fetched yet), the wait
// gets a poll of its own at once instead.
func (w *Watcher) takePush(ctx context.Context, wt *watch, snap *Job, at time.Time) {
	w.mu.Lock()
	w.stats.Pushes++
	_, alive := w.watches[wt]
	w.mu.Unlock()
	if !alive || snap == nil || snap.ID != wt.id || wt.isClosed() || wt.ctx.Err() != nil {
		return
	}
	_, res, complete := wt.tr.try(map[string]*Job{wt.id: snap})
	if !complete {
		wt.polled = false
		w.mu.Lock()
		w.fresh = append(w.fresh, wt)
		w.mu.Unlock()
		w.kick()
		return
	}
	wt.pushedIn = w.roundNo
	deliver(wt, res, ViaPush, at)
}

// deliver sends wt the outcome of one tracker round.
func deliver(wt *watch, res roundResult, via Via, at time.Time) {
	switch {
	case res.err != nil:
		send(wt, watchUpdate{job: wt.tr.root, err: res.err, via: via, at: at})
	case res.final != nil:
		send(wt, watchUpdate{job: wt.tr.root, err: res.final, via: via, at: at})
	case res.done:
		send(wt, watchUpdate{job: wt.tr.root, final: true, via: via, at: at})
	case res.changed:
		send(wt, watchUpdate{job: wt.tr.root, via: via, at: at})
	}
}

// round fetches what every active tree needs, in as few requests as the
// Source allows, then lets each tracker assemble its tree; references
// that are new this round are fetched for all trees at once, one batch
// per level. It reports whether any tree changed and the temporary error
// that stopped the round, if any.
func (w *Watcher) round(ctx context.Context, active []*watch, ps *pushes) (changed bool, tempErr error) {
	w.roundNo++
	roundNo := w.roundNo
	info := RoundInfo{Watched: len(active)}
	started := time.Now()
	defer func() {
		info.Duration = time.Since(started)
		info.Err = tempErr
		observeRound(ctx, &w.cfg, info)
	}()

	seen := make(map[string]struct{}, len(active))
	ids := make([]string, 0, len(active))
	add := func(id string) {
		if _, ok := seen[id]; !ok {
			seen[id] = struct{}{}
			ids = append(ids, id)
		}
	}
	for _, wt := range active {
		wt.polled = true
		add(wt.tr.id)
		for _, id := range wt.tr.open {
			add(id)
		}
	}
	seen = nil
	info.IDs = len(ids)

	got, reqs, listed, err := w.fetchRound(ctx, ids, ps)
	info.Requests += reqs
	info.Listed = listed
	if err != nil {
		if isTemporary(err) || ctx.Err() != nil {
			return false, err
		}
		return w.oneByOne(ctx, active, err, roundNo), nil
	}
	at := time.Now()
	fetched := make(map[string]*Job, len(ids))
	merge(fetched, ids, got)
	got = nil

	pending := active
	for level := 0; len(pending) > 0; level++ {
		var next []*watch
		var missing []string
		var asked map[string]struct{}
		for _, wt := range pending {
			if wt.pushedIn == roundNo || wt.isClosed() {
				continue // a push newer than this round's answer was taken
			}
			miss, res, complete := wt.tr.try(fetched)
			if complete {
				deliver(wt, res, ViaPoll, at)
				changed = changed || res.changed
				continue
			}
			next = append(next, wt)
			if asked == nil {
				asked = map[string]struct{}{}
			}
			for _, id := range miss {
				if _, ok := asked[id]; !ok {
					asked[id] = struct{}{}
					missing = append(missing, id)
				}
			}
		}
		if len(next) == 0 {
			break
		}
		if level > w.cfg.walk.MaxDepth {
			// Cannot happen with a tree the walk accepts; stay safe.
			return w.oneByOne(ctx, next, nil, roundNo) || changed, nil
		}
		info.IDs += len(missing)
		more, reqs, err := w.fetchByID(ctx, missing, ps)
		info.Requests += reqs
		if err != nil {
			if isTemporary(err) || ctx.Err() != nil {
				return changed, err
			}
			return w.oneByOne(ctx, next, err, roundNo) || changed, nil
		}
		at = time.Now()
		merge(fetched, missing, more)
		pending = next
	}
	return changed, nil
}

// oneByOne lets each wait fetch its own ids after the service refused a
// batch, perhaps for one id in it, so the error ends only the waits it
// belongs to. A single wait gets the batch's error at once.
func (w *Watcher) oneByOne(ctx context.Context, active []*watch, batchErr error, roundNo uint64) bool {
	if len(active) == 1 && batchErr != nil {
		send(active[0], watchUpdate{job: active[0].tr.root, err: batchErr})
		return false
	}
	changed := false
	for _, wt := range active {
		if wt.pushedIn == roundNo || wt.isClosed() {
			continue
		}
		res := wt.tr.round(ctx, w.countedFetch, nil)
		if res.err != nil && (isTemporary(res.err) || ctx.Err() != nil) {
			continue
		}
		deliver(wt, res, ViaPoll, time.Now())
		changed = changed || res.changed
	}
	return changed
}

func (w *Watcher) countedFetch(ctx context.Context, ids ...string) ([]*Job, error) {
	w.mu.Lock()
	w.stats.Fetches++
	w.mu.Unlock()
	return w.src.Fetch(ctx, ids...)
}

// byIDCost is how many requests asking for n ids takes.
func (w *Watcher) byIDCost(n int) int {
	if w.batch <= 0 || n == 0 {
		return min(n, 1)
	}
	return (n + w.batch - 1) / w.batch
}

// listProbeEvery is how many by-id rounds pass before a Watcher over a
// RunningLister lists again to learn what a list costs now.
const listProbeEvery = 16

// fetchRound fetches ids by id or, when it is cheaper, by listing the
// running jobs and asking by id for the rest.
func (w *Watcher) fetchRound(ctx context.Context, ids []string, ps *pushes) (got []*Job, reqs int, listed bool, err error) {
	byID := w.byIDCost(len(ids))
	if w.lister == nil || byID <= 1 {
		got, reqs, err = w.fetchByID(ctx, ids, ps)
		return got, reqs, false, err
	}
	if w.listCost == 0 || w.sinceProbe >= listProbeEvery || w.listCost < byID {
		got, reqs, err = w.fetchListed(ctx, ids, ps)
		if err == nil {
			w.listCost, w.sinceProbe = reqs, 0
		}
		return got, reqs, true, err
	}
	w.sinceProbe++
	got, reqs, err = w.fetchByID(ctx, ids, ps)
	return got, reqs, false, err
}

// fetchListed lists the running jobs, keeps those in ids, and asks by id
// for the ids the list left out (finished, or gone).
func (w *Watcher) fetchListed(ctx context.Context, ids []string, ps *pushes) ([]*Job, int, error) {
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = false
	}
	var got []*Job
	reqs := 0
	err := w.async(ctx, ps, func(ctx context.Context) error {
		offset := 0
		for {
			reqs++
			w.mu.Lock()
			w.stats.Fetches++
			w.mu.Unlock()
			p, err := w.lister.ListRunning(ctx, offset)
			if err != nil {
				return err
			}
			for _, j := range p.Items {
				if j == nil {
					continue
				}
				if seen, ok := want[j.ID]; ok && !seen {
					want[j.ID] = true
					got = append(got, j)
				}
			}
			if !p.More || len(p.Items) == 0 {
				return nil
			}
			offset = p.NextOffset()
		}
	})
	if err != nil {
		return nil, reqs, err
	}
	w.mu.Lock()
	w.stats.ListRounds++
	w.mu.Unlock()
	var rest []string
	for _, id := range ids {
		if !want[id] {
			rest = append(rest, id)
		}
	}
	more, n, err := w.fetchByID(ctx, rest, ps)
	return append(got, more...), reqs + n, err
}

// fetchByID asks for ids in chunks of the Source's MaxBatch.
func (w *Watcher) fetchByID(ctx context.Context, ids []string, ps *pushes) ([]*Job, int, error) {
	if len(ids) == 0 {
		return nil, 0, nil
	}
	var got []*Job
	reqs := 0
	err := w.async(ctx, ps, func(ctx context.Context) error {
		for start := 0; start < len(ids); {
			end := len(ids)
			if w.batch > 0 {
				end = min(end, start+w.batch)
			}
			reqs++
			part, err := w.countedFetch(ctx, ids[start:end]...)
			if err != nil {
				return err
			}
			got = append(got, part...)
			start = end
		}
		return nil
	})
	return got, reqs, err
}

// async runs fn, and while a push stream is live it runs it on a goroutine
// of its own and takes every push that arrives meanwhile at once. If the
// Watcher is closed meanwhile, fn's context ends and async returns without
// waiting for it.
func (w *Watcher) async(ctx context.Context, ps *pushes, fn func(context.Context) error) error {
	if ps.shared == nil && w.push == nil {
		return fn(ctx)
	}
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	for {
		select {
		case err := <-done:
			// On Close fn's context ends; like a Fetch made inline, the
			// poller waits for it to return.
			return err
		case p := <-w.pushed:
			w.takePush(ctx, p.w, p.job, p.at)
		case snap, ok := <-ps.shared:
			if !ok {
				// Resubscribing waits for the sleep after this round.
				ps.shared = nil
				w.mu.Lock()
				w.multiOn = false
				w.mu.Unlock()
				continue
			}
			w.routePush(ctx, snap)
		}
	}
}
