// Package temporal makes longrun's waits durable on Temporal: an activity
// that waits on a job of any dialect and survives a worker crash,
// activities that start each dialect's job idempotently, and a workflow
// that clones N CloudSigma servers in parallel and deletes them again when
// one fails.
//
// The activities are the exported methods of *Activities (register it with
// worker.RegisterActivity):
//
//   - WaitJob waits on a job of any registered dialect. It heartbeats each
//     changed snapshot (its progress as the heartbeat details, a Progress)
//     and, retried after a crash on this worker or another, reads the last
//     heartbeat's details and goes on waiting on the job they name; it
//     never starts the job again.
//   - CloneServer (CloudSigma, keyed by the clone's name), CallTrueNASJob
//     (keyed by method and arguments), StartFreezerJob (never restarts a
//     run under way) and CreateFtrackJob (the job id derives from a key)
//     start a job so that a retry does not start a second one.
//   - DeleteServer removes a clone by name (CloneN's compensation).
//
// Secrets never travel through Temporal: a request names an account and
// the worker's own constructors (WithCloudSigma, WithTrueNAS, WithFreezer,
// WithFtrack, WithSource) turn it into a client.
//
// It is a module of its own (go.temporal.io/sdk is large), so longrun's core
// does not depend on Temporal.
package temporal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	sdktemporal "go.temporal.io/sdk/temporal"

	"github.com/longrun/longrun/jobs"
)

// SourceFunc builds the jobs.Source a wait follows from the request's
// config (a location, an account name: never a secret, since requests are
// stored in the workflow's history). The worker supplies the credentials.
type SourceFunc func(ctx context.Context, config json.RawMessage) (jobs.Source, error)

// Option configures NewActivities.
type Option func(*options) error

type options struct {
	sources    map[string]SourceFunc
	cloudsigma CloudSigmaFunc
	ftrack     FtrackFunc
	truenas    TrueNASFunc
	freezer    FreezerFunc
	jobOpts    []jobs.Option
	onProgress func(Progress)
}

// WithSource registers the constructor of the Sources of one dialect (or
// any name the requests use).
func WithSource(dialect string, fn SourceFunc) Option {
	return func(o *options) error {
		if dialect == "" || fn == nil {
			return errors.New("temporal: WithSource needs a dialect name and a function")
		}
		o.sources[dialect] = fn
		return nil
	}
}

// WithJobOptions adds jobs options (WithInterval, WithClock, WithObserver)
// to every wait. A jobs.WithOnProgress among them is replaced by the
// activity's heartbeat: use WithProgress to see the snapshots.
func WithJobOptions(opts ...jobs.Option) Option {
	return func(o *options) error {
		o.jobOpts = append(o.jobOpts, opts...)
		return nil
	}
}

// WithProgress calls fn with each heartbeat's details after it is
// recorded (a worker's own log or display).
func WithProgress(fn func(Progress)) Option {
	return func(o *options) error {
		o.onProgress = fn
		return nil
	}
}

// Activities holds the worker's constructors. Register it with
// worker.RegisterActivity(a): its exported methods are the activities.
type Activities struct {
	o options
}

// NewActivities returns the activities with the given constructors.
func NewActivities(opts ...Option) (*Activities, error) {
	o := options{sources: map[string]SourceFunc{}}
	for _, f := range opts {
		if err := f(&o); err != nil {
			return nil, err
		}
	}
	return &Activities{o: o}, nil
}

// WaitRequest asks WaitJob to wait on one job.
type WaitRequest struct {
	// Dialect names the registered SourceFunc.
	Dialect string `json:"dialect"`
	// Config is passed to the SourceFunc (no secrets).
	Config json.RawMessage `json:"config,omitempty"`
	// JobID is the job to wait on.
	JobID string `json:"job_id"`
}

// Progress is the heartbeat detail of a wait: what the job looked like at
// the last changed snapshot. A retried activity resumes from it.
type Progress struct {
	// Ref names what the activity started, for activities that start a
	// job and wait on it (a CloudSigma server uuid); empty for WaitJob.
	Ref string `json:"ref,omitempty"`
	// JobID is the job being waited on.
	JobID string `json:"job_id"`
	// State, RawState and Percent describe the whole tree (Percent is the
	// aggregate over its leaves; Known is false while no figure is known).
	State       jobs.State `json:"state,omitempty"`
	RawState    string     `json:"raw_state,omitempty"`
	Percent     float64    `json:"percent"`
	Known       bool       `json:"known"`
	Description string     `json:"description,omitempty"`
	// Snapshots counts the changed snapshots seen, across attempts.
	Snapshots int `json:"snapshots"`
	// Attempt is the activity attempt that sent this heartbeat.
	Attempt int32 `json:"attempt"`
}

// WaitResult is what WaitJob returns.
type WaitResult struct {
	Job *jobs.Job `json:"job"`
	// Resumed is true when this attempt went on from a heartbeat of an
	// earlier one.
	Resumed bool `json:"resumed"`
	// Snapshots counts the changed snapshots seen, across attempts.
	Snapshots int `json:"snapshots"`
}

// Error types of the activities' non-retryable application errors.
const (
	ErrTypeJobFailed    = "longrun.JobFailed"
	ErrTypeNotFound     = "longrun.NotFound"
	ErrTypeBadRequest   = "longrun.BadRequest"
	ErrTypeUnauthorized = "longrun.Unauthorized"
)

// WaitJob waits until job req.JobID is done, heartbeating each changed
// snapshot. Retried after a crash, it resumes from the last heartbeat. A
// failed or vanished job is a non-retryable error (types ErrTypeJobFailed,
// ErrTypeNotFound); a cancelled activity returns the context's error.
func (a *Activities) WaitJob(ctx context.Context, req WaitRequest) (*WaitResult, error) {
	src, err := a.source(ctx, req.Dialect, req.Config)
	if err != nil {
		return nil, err
	}
	prev, resumed := lastProgress(ctx)
	id := req.JobID
	if resumed && prev.JobID != "" {
		id = prev.JobID
	}
	if id == "" {
		return nil, sdktemporal.NewNonRetryableApplicationError("temporal: WaitRequest has no job id", ErrTypeBadRequest, nil)
	}
	prev.JobID = id
	job, p, err := a.wait(ctx, src, prev)
	if err != nil {
		return nil, err
	}
	return &WaitResult{Job: job, Resumed: resumed, Snapshots: p.Snapshots}, nil
}

// lastProgress reads the heartbeat details of an earlier attempt.
func lastProgress(ctx context.Context) (Progress, bool) {
	var p Progress
	if !activity.HasHeartbeatDetails(ctx) {
		return p, false
	}
	if err := activity.GetHeartbeatDetails(ctx, &p); err != nil {
		return Progress{}, false
	}
	return p, true
}

func (a *Activities) source(ctx context.Context, dialect string, config json.RawMessage) (jobs.Source, error) {
	fn, ok := a.o.sources[dialect]
	if !ok {
		return nil, sdktemporal.NewNonRetryableApplicationError(fmt.Sprintf("temporal: no Source registered for dialect %q", dialect), ErrTypeBadRequest, nil)
	}
	return fn(ctx, config)
}

// wait follows p.JobID on src, heartbeating p as it changes (and again
// before the heartbeat timeout while nothing changes), and maps the end to
// Temporal errors.
func (a *Activities) wait(ctx context.Context, src jobs.Source, p Progress) (*jobs.Job, Progress, error) {
	info := activity.GetInfo(ctx)
	p.Attempt = info.Attempt
	var mu sync.Mutex
	beat := func() {
		mu.Lock()
		cp := p
		mu.Unlock()
		activity.RecordHeartbeat(ctx, cp)
	}
	beat() // this attempt holds the job from now on
	if hb := info.HeartbeatTimeout; hb > 0 {
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			t := time.NewTicker(hb / 3)
			defer t.Stop()
			for {
				select {
				case <-t.C:
					beat()
				case <-stop:
					return
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	opts := append(a.o.jobOpts[:len(a.o.jobOpts):len(a.o.jobOpts)], jobs.WithOnProgress(func(j *jobs.Job) {
		agg := j.Aggregate()
		mu.Lock()
		p.State, p.RawState, p.Percent, p.Known = j.State, j.RawState, agg.Percent, agg.Known
		p.Description = j.Progress.Description
		p.Snapshots++
		cp := p
		mu.Unlock()
		beat()
		if a.o.onProgress != nil {
			a.o.onProgress(cp)
		}
	}))
	job, err := jobs.Wait(ctx, src, p.JobID, opts...)
	mu.Lock()
	out := p
	mu.Unlock()
	if err == nil {
		return job, out, nil
	}
	return job, out, waitError(err, p.JobID)
}

// waitError maps a wait's error to what Temporal should do with it.
func waitError(err error, id string) error {
	var te *jobs.TimeoutError
	switch {
	case errors.As(err, &te):
		return err // cancelled or timed out: Temporal decides
	case errors.Is(err, jobs.ErrJobFailed):
		return sdktemporal.NewNonRetryableApplicationError(err.Error(), ErrTypeJobFailed, err)
	case errors.Is(err, jobs.ErrNotFound):
		return sdktemporal.NewNonRetryableApplicationError(fmt.Sprintf("job %s: %v", id, err), ErrTypeNotFound, err)
	case errors.Is(err, jobs.ErrUnauthorized):
		return sdktemporal.NewNonRetryableApplicationError(err.Error(), ErrTypeUnauthorized, err)
	}
	return err // transient or unknown: retried by the activity's policy
}
