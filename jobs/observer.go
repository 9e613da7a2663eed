package jobs

import (
	"context"
	"errors"
	"time"
)

// Observer sees what waits do, for traces and metrics (contrib/otel builds
// spans and instruments on it). Set it with WithObserver; by default there
// is none and nothing is measured. Its methods are called from the waiting
// goroutine or a Watcher's poller, never concurrently for one wait; they
// must return quickly and must not modify the jobs they are given.
type Observer interface {
	// WaitStarted is called when a Wait (or a Watcher's wait) begins. The
	// WaitObserver it returns sees that wait's snapshots and its end; it
	// may be nil. The context it returns (ctx itself if nothing to add)
	// is the one the wait fetches with, so a span started here is the
	// parent of the requests made for this wait.
	WaitStarted(ctx context.Context, info WaitInfo) (context.Context, WaitObserver)
	// Round is called after each fetch round: the requests made to the
	// Source for one wait (Wait) or for every wait at once (Watcher).
	Round(ctx context.Context, info RoundInfo)
}

// WaitObserver sees one wait. Its methods are called in order from the
// waiting goroutine: Snapshot for each changed snapshot, Ended once.
type WaitObserver interface {
	// Snapshot is called with each changed snapshot of the tree and how
	// it arrived.
	Snapshot(job *Job, via Via)
	// Ended is called once when the wait returns.
	Ended(info WaitEnd)
}

// WaitInfo describes a wait that begins.
type WaitInfo struct {
	ID string // the job id waited on
	// Dialect is the Source's dialect when the Source says (a Dialect()
	// Dialect method), else empty; every snapshot carries its own.
	Dialect Dialect
	Shared  bool // the wait runs on a Watcher
	Push    bool // the Source pushes changes (Pusher or MultiPusher)
}

// Via says how a snapshot reached the wait.
type Via string

// How snapshots arrive.
const (
	ViaPoll Via = "poll" // a Fetch the wait or its Watcher made
	ViaPush Via = "push" // the Source's push stream
)

// Outcome is how a wait ended, for attributes and metric labels.
type Outcome string

// The outcomes of a wait.
const (
	OutcomeSucceeded Outcome = "succeeded" // every node done
	OutcomeFailed    Outcome = "failed"    // a node failed (ErrJobFailed)
	OutcomeAborted   Outcome = "aborted"   // a node was aborted (ErrJobAborted)
	OutcomeNotFound  Outcome = "not_found" // the service does not know the job
	OutcomeTimeout   Outcome = "timeout"   // the context ended first
	OutcomeClosed    Outcome = "closed"    // the Watcher was closed
	OutcomeError     Outcome = "error"     // a permanent fetch error or a malformed tree
)

// OutcomeOf classifies a wait's error (nil is OutcomeSucceeded).
func OutcomeOf(err error) Outcome {
	var te *TimeoutError
	switch {
	case err == nil:
		return OutcomeSucceeded
	case errors.Is(err, ErrJobAborted):
		return OutcomeAborted
	case errors.Is(err, ErrJobFailed):
		return OutcomeFailed
	case errors.As(err, &te):
		return OutcomeTimeout
	case errors.Is(err, ErrWatcherClosed):
		return OutcomeClosed
	case errors.Is(err, ErrNotFound):
		return OutcomeNotFound
	}
	return OutcomeError
}

// WaitEnd describes how a wait ended.
type WaitEnd struct {
	Job     *Job    // the last snapshot seen, or nil
	Err     error   // what the wait returned
	Outcome Outcome // Err classified
	// Via is how the last snapshot arrived (empty if none did).
	Via Via
	// Lag is the time from the moment the final snapshot reached longrun
	// (a push read off the stream, or the Fetch that returned it) to the
	// wait returning. Zero when the wait ended without one (timeout).
	Lag time.Duration
	// Duration is the wall time the wait took.
	Duration time.Duration
}

// RoundInfo describes one fetch round.
type RoundInfo struct {
	IDs      int           // ids asked for in the round
	Requests int           // Fetch (and ListRunning) calls made
	Listed   bool          // the round listed running jobs (RunningLister) instead of asking by id
	Watched  int           // waits the round served (1 for Wait)
	Duration time.Duration // wall time of the round's requests
	Err      error         // the error that ended the round, if any
}

// WithObserver reports every wait, snapshot and fetch round to o (see
// Observer). Off by default.
func WithObserver(o Observer) Option { return func(c *config) { c.observer = o } }

// dialectOf returns src's dialect when it names one.
func dialectOf(src any) Dialect {
	if d, ok := src.(interface{ Dialect() Dialect }); ok {
		return d.Dialect()
	}
	return ""
}

// observed is one wait's view of its Observer; every method is a no-op
// without one.
type observed struct {
	wo    WaitObserver
	start time.Time
	via   Via
	at    time.Time // when the last snapshot reached longrun
}

func startObserved(ctx context.Context, cfg *config, src any, id string, shared, push bool) (context.Context, *observed) {
	if cfg.observer == nil {
		return ctx, nil
	}
	cctx, wo := cfg.observer.WaitStarted(ctx, WaitInfo{ID: id, Dialect: dialectOf(src), Shared: shared, Push: push})
	if cctx == nil {
		cctx = ctx
	}
	return cctx, &observed{wo: wo, start: time.Now()}
}

func (o *observed) snapshot(j *Job, via Via, at time.Time) {
	if o == nil {
		return
	}
	o.via, o.at = via, at
	if o.wo != nil {
		o.wo.Snapshot(j, via)
	}
}

// arrived records how the last (possibly unchanged, possibly final)
// snapshot arrived, without reporting it as a change.
func (o *observed) arrived(via Via, at time.Time) {
	if o != nil {
		o.via, o.at = via, at
	}
}

func (o *observed) end(last *Job, err error) {
	if o == nil || o.wo == nil {
		return
	}
	now := time.Now()
	e := WaitEnd{Job: last, Err: err, Outcome: OutcomeOf(err), Via: o.via, Duration: now.Sub(o.start)}
	if e.Outcome != OutcomeTimeout && e.Outcome != OutcomeClosed && !o.at.IsZero() {
		e.Lag = now.Sub(o.at)
	}
	o.wo.Ended(e)
}

func observeRound(ctx context.Context, cfg *config, info RoundInfo) {
	if cfg.observer != nil {
		cfg.observer.Round(ctx, info)
	}
}
