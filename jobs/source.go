package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Source fetches fresh snapshots of jobs. Every dialect's job service is a
// Source.
type Source interface {
	// Fetch returns fresh snapshots of the jobs with the given ids, in as
	// few round trips as the service allows (one list call for many ids
	// where the service has one). A job the service does not know is left out of
	// the result; the order of the result does not matter.
	Fetch(ctx context.Context, ids ...string) ([]*Job, error)
}

// Pusher is a Source that can also push changes (a websocket subscription).
// Wait uses the push stream first and polls only as a slow fallback.
type Pusher interface {
	Source
	// Changes returns a channel that receives a fresh snapshot of the job
	// tree rooted at id each time the service reports a change. The
	// channel is closed when ctx ends or the stream breaks; Wait then
	// falls back to polling and asks again later.
	Changes(ctx context.Context, id string) (<-chan *Job, error)
}

// Clock is the time source Wait sleeps on. The default is the wall clock;
// the fake's scripted clock satisfies it, so a test's ten-minute job ends
// in microseconds.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type wallClock struct{}

func (wallClock) Now() time.Time                         { return time.Now() }
func (wallClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// WallClock is the real clock.
var WallClock Clock = wallClock{}

// Sentinel errors a caller can test with errors.Is.
var (
	// ErrJobFailed matches a *FailedError: a node of the tree reached a
	// failure state.
	ErrJobFailed = errors.New("jobs: job failed")
	// ErrJobAborted matches a *FailedError whose node was aborted.
	ErrJobAborted = errors.New("jobs: job aborted")
	// ErrNotFound means the service does not know the job or resource
	// (some services forget finished jobs after a few days). Every
	// dialect's not-found error matches it.
	ErrNotFound = errors.New("jobs: job not found")
	// ErrUnauthorized matches every refused login or credential of every
	// dialect (a 401 or 403 from a REST service, a refused login,
	// an expired token that could not be renewed).
	ErrUnauthorized = errors.New("jobs: unauthorized")
	// ErrUnknownState matches an *UnknownStateError.
	ErrUnknownState = errors.New("jobs: unknown job state")
)

// FailedError reports a job tree with a failed or aborted node.
type FailedError struct {
	Job  *Job // the whole tree as last seen
	Node *Job // the node that failed (may be Job itself)
}

// Error names the failed node, its state and the service's message.
func (e *FailedError) Error() string {
	msg := fmt.Sprintf("jobs: job %s (%s) %s", e.Node.ID, e.Node.Operation, stateWord(e.Node))
	if e.Node != e.Job {
		msg += fmt.Sprintf(" under job %s", e.Job.ID)
	}
	if e.Node.Message != "" {
		msg += ": " + e.Node.Message
	}
	return msg
}

func stateWord(j *Job) string {
	if j.RawState != "" {
		return string(j.State) + " (" + j.RawState + ")"
	}
	return string(j.State)
}

// Is matches ErrJobFailed for every failure and ErrJobAborted for an abort.
func (e *FailedError) Is(target error) bool {
	return target == ErrJobFailed || (target == ErrJobAborted && e.Node.State == StateAborted)
}

// UnknownStateError reports a node whose state longrun does not recognize,
// returned only when the wait asked for it (WithFailOnUnknownState).
type UnknownStateError struct {
	Job  *Job
	Node *Job
}

// Error names the node and the state word the service used.
func (e *UnknownStateError) Error() string {
	return fmt.Sprintf("jobs: job %s has unknown state %q", e.Node.ID, e.Node.RawState)
}

// Unwrap returns ErrUnknownState.
func (e *UnknownStateError) Unwrap() error { return ErrUnknownState }

// NotFoundError reports a job the service no longer (or never) knew.
type NotFoundError struct {
	ID   string
	Last *Job // the last snapshot seen before it vanished, or nil
}

// Error names the job that was not found.
func (e *NotFoundError) Error() string { return fmt.Sprintf("jobs: job %s not found", e.ID) }

// Unwrap returns ErrNotFound.
func (e *NotFoundError) Unwrap() error { return ErrNotFound }

// TimeoutError is returned when the context ends before the tree is done.
// It matches context.DeadlineExceeded or context.Canceled with errors.Is.
type TimeoutError struct {
	Last    *Job  // the last snapshot seen, or nil if none arrived
	Cause   error // the context's error
	LastErr error // the last transient fetch error, if the final polls failed
}

// Error gives the context's error, the last tree's state and progress,
// and the last transient fetch error.
func (e *TimeoutError) Error() string {
	msg := "jobs: wait ended before the job finished: " + e.Cause.Error()
	if e.Last != nil {
		p := e.Last.Aggregate()
		msg += fmt.Sprintf(" (job %s %s, %.0f%%)", e.Last.ID, stateWord(e.Last), p.Percent)
	}
	if e.LastErr != nil {
		msg += "; last error: " + e.LastErr.Error()
	}
	return msg
}

// Unwrap returns the context's error.
func (e *TimeoutError) Unwrap() error { return e.Cause }

// Temporary is implemented by errors after which polling may go on (a
// REST error with status 429 or 5xx, a dropped connection).
type Temporary interface{ Temporary() bool }

// RetryAfter is implemented by errors that carry the server's Retry-After.
type RetryAfter interface{ RetryAfter() time.Duration }

// SourceFunc adapts a function to a Source, as http.HandlerFunc does for
// handlers: handy for tests, examples and small adapters.
type SourceFunc func(ctx context.Context, ids ...string) ([]*Job, error)

// Fetch calls f.
func (f SourceFunc) Fetch(ctx context.Context, ids ...string) ([]*Job, error) { return f(ctx, ids...) }
