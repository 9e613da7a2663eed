package temporal

import (
	"context"
	"encoding/json"
	"errors"

	"go.temporal.io/sdk/activity"
	sdktemporal "go.temporal.io/sdk/temporal"

	"github.com/longrun/longrun/freezer"
	"github.com/longrun/longrun/jobs"
)

// DialectFreezer is the dialect name WaitJob uses for the jobs of the
// Freezer accounts registered with WithFreezer. Its Config is the account
// name as a JSON string.
const DialectFreezer = string(freezer.Dialect)

// FreezerFunc returns the worker's Freezer client of the named account.
type FreezerFunc func(ctx context.Context, account string) (*freezer.Client, error)

// WithFreezer registers the worker's Freezer accounts: StartFreezerJob
// uses them, and WaitJob follows their jobs under DialectFreezer.
func WithFreezer(fn FreezerFunc) Option {
	return func(o *options) error {
		if fn == nil {
			return errors.New("temporal: WithFreezer needs a function")
		}
		o.freezer = fn
		o.sources[DialectFreezer] = func(ctx context.Context, config json.RawMessage) (jobs.Source, error) {
			var account string
			if len(config) > 0 {
				if err := json.Unmarshal(config, &account); err != nil {
					return nil, sdktemporal.NewNonRetryableApplicationError("temporal: freezer config is not an account name: "+err.Error(), ErrTypeBadRequest, nil)
				}
			}
			return fn(ctx, account)
		}
		return nil
	}
}

// FreezerStartRequest asks StartFreezerJob to run a Freezer job now.
type FreezerStartRequest struct {
	Account string `json:"account"`
	JobID   string `json:"job_id"`
}

// FreezerStart is what StartFreezerJob did.
type FreezerStart struct {
	JobID string `json:"job_id"`
	// Existed is true when a run was under way already (started by an
	// earlier attempt, or by anyone) and no start event was sent.
	Existed bool `json:"existed,omitempty"`
}

// StartFreezerJob sends job JobID the start event once. A start resets a
// Freezer job's status and result, so sending it twice would restart the
// run: a retried attempt that heartbeated its start does nothing, and any
// attempt leaves alone a job that is running or whose start is still
// pending. Wait on the job with WaitJob (DialectFreezer).
func (a *Activities) StartFreezerJob(ctx context.Context, req FreezerStartRequest) (*FreezerStart, error) {
	if req.JobID == "" {
		return nil, sdktemporal.NewNonRetryableApplicationError("temporal: FreezerStartRequest needs JobID", ErrTypeBadRequest, nil)
	}
	if a.o.freezer == nil {
		return nil, sdktemporal.NewNonRetryableApplicationError("temporal: no Freezer accounts registered (WithFreezer)", ErrTypeBadRequest, nil)
	}
	if p, ok := lastProgress(ctx); ok && p.JobID == req.JobID {
		return &FreezerStart{JobID: req.JobID, Existed: true}, nil
	}
	c, err := a.o.freezer(ctx, req.Account)
	if err != nil {
		return nil, err
	}
	j, err := c.Get(ctx, req.JobID)
	if err != nil {
		return nil, permanent(err)
	}
	if st := j.ToJob().State; st == jobs.StateRunning || st == jobs.StateQueued && j.JobSchedule.Event == freezer.EventStart {
		return &FreezerStart{JobID: req.JobID, Existed: true}, nil
	}
	if _, err := c.Start(ctx, req.JobID); err != nil {
		return nil, permanent(err)
	}
	activity.RecordHeartbeat(ctx, Progress{JobID: req.JobID, Attempt: activity.GetInfo(ctx).Attempt})
	return &FreezerStart{JobID: req.JobID}, nil
}
