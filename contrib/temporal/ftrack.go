package temporal

import (
	"context"
	"crypto/sha1"
	"encoding/json"
	"errors"
	"fmt"

	sdktemporal "go.temporal.io/sdk/temporal"

	"github.com/longrun/longrun/ftrack"
	"github.com/longrun/longrun/jobs"
)

// DialectFtrack is the dialect name WaitJob uses for the jobs of the ftrack
// accounts registered with WithFtrack. Its Config is the account name as a
// JSON string.
const DialectFtrack = string(ftrack.Dialect)

// FtrackFunc returns the worker's ftrack session of the named account.
type FtrackFunc func(ctx context.Context, account string) (*ftrack.Session, error)

// WithFtrack registers the worker's ftrack accounts: CreateFtrackJob uses
// them, and WaitJob follows their jobs under DialectFtrack.
func WithFtrack(fn FtrackFunc) Option {
	return func(o *options) error {
		if fn == nil {
			return errors.New("temporal: WithFtrack needs a function")
		}
		o.ftrack = fn
		o.sources[DialectFtrack] = func(ctx context.Context, config json.RawMessage) (jobs.Source, error) {
			var account string
			if len(config) > 0 {
				if err := json.Unmarshal(config, &account); err != nil {
					return nil, sdktemporal.NewNonRetryableApplicationError("temporal: ftrack config is not an account name: "+err.Error(), ErrTypeBadRequest, nil)
				}
			}
			return fn(ctx, account)
		}
		return nil
	}
}

// FtrackJobRequest asks CreateFtrackJob for one job. Key is the
// idempotency key: the job's id is derived from it, so a retry finds the
// job an earlier attempt created instead of creating another.
type FtrackJobRequest struct {
	Account     string `json:"account"`
	Key         string `json:"key"`
	Description string `json:"description,omitempty"`
}

// FtrackJob is the job CreateFtrackJob made (or found).
type FtrackJob struct {
	ID      string `json:"id"`
	Existed bool   `json:"existed,omitempty"`
}

// FtrackJobID is the job id CreateFtrackJob uses for key: a name-based
// (version 5 style, SHA-1) uuid, the same on every worker and attempt.
func FtrackJobID(key string) string {
	h := sha1.Sum([]byte("longrun/contrib/temporal ftrack job\x00" + key))
	h[6] = h[6]&0x0f | 0x50
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// CreateFtrackJob creates a running api_job whose id is FtrackJobID(Key),
// once: if the job exists already (an earlier attempt created it, or its
// answer was lost), it returns it with Existed set.
func (a *Activities) CreateFtrackJob(ctx context.Context, req FtrackJobRequest) (*FtrackJob, error) {
	if req.Key == "" {
		return nil, sdktemporal.NewNonRetryableApplicationError("temporal: FtrackJobRequest needs Key (the idempotency key)", ErrTypeBadRequest, nil)
	}
	if a.o.ftrack == nil {
		return nil, sdktemporal.NewNonRetryableApplicationError("temporal: no ftrack accounts registered (WithFtrack)", ErrTypeBadRequest, nil)
	}
	s, err := a.o.ftrack(ctx, req.Account)
	if err != nil {
		return nil, err
	}
	id := FtrackJobID(req.Key)
	if _, err := s.GetJob(ctx, id); err == nil {
		return &FtrackJob{ID: id, Existed: true}, nil
	} else if !errors.Is(err, jobs.ErrNotFound) {
		return nil, permanent(err)
	}
	if _, err := s.CreateJob(ctx, ftrack.CreateJobRequest{ID: id, Description: req.Description}); err != nil {
		// Lost a race with another attempt? Then the job is there.
		if _, gerr := s.GetJob(ctx, id); gerr == nil {
			return &FtrackJob{ID: id, Existed: true}, nil
		}
		return nil, permanent(err)
	}
	return &FtrackJob{ID: id}, nil
}
