package temporal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strconv"

	"go.temporal.io/sdk/activity"
	sdktemporal "go.temporal.io/sdk/temporal"

	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/rpc"
)

// DialectTrueNAS is the dialect name WaitJob uses for the jobs of the
// TrueNAS accounts registered with WithTrueNAS. Its Config is the account
// name as a JSON string.
const DialectTrueNAS = "truenas"

// TrueNASFunc returns the worker's connection to the named TrueNAS box.
type TrueNASFunc func(ctx context.Context, account string) (*rpc.Conn, error)

// WithTrueNAS registers the worker's TrueNAS boxes: CallTrueNASJob uses
// them, and WaitJob follows their jobs under DialectTrueNAS.
func WithTrueNAS(fn TrueNASFunc) Option {
	return func(o *options) error {
		if fn == nil {
			return errors.New("temporal: WithTrueNAS needs a function")
		}
		o.truenas = fn
		o.sources[DialectTrueNAS] = func(ctx context.Context, config json.RawMessage) (jobs.Source, error) {
			var account string
			if len(config) > 0 {
				if err := json.Unmarshal(config, &account); err != nil {
					return nil, sdktemporal.NewNonRetryableApplicationError("temporal: truenas config is not an account name: "+err.Error(), ErrTypeBadRequest, nil)
				}
			}
			return fn(ctx, account)
		}
		return nil
	}
}

// TrueNASCallRequest asks CallTrueNASJob to call a job method.
type TrueNASCallRequest struct {
	Account string            `json:"account"`
	Method  string            `json:"method"` // such as "filesystem.copy"
	Params  []json.RawMessage `json:"params,omitempty"`
}

// TrueNASJob is the job CallTrueNASJob started (or found).
type TrueNASJob struct {
	ID      string `json:"id"` // the job id in decimal, as jobs.Source takes it
	Existed bool   `json:"existed,omitempty"`
}

// CallTrueNASJob calls req.Method once. TrueNAS takes no idempotency key,
// so the call itself is the key: a retried attempt first takes the job id
// its earlier attempt heartbeated, then looks for a job of the same method
// with the same arguments that has not failed (an attempt that crashed
// before its heartbeat), and calls the method only when there is none.
// Wait on the result's ID with WaitJob (DialectTrueNAS).
func (a *Activities) CallTrueNASJob(ctx context.Context, req TrueNASCallRequest) (*TrueNASJob, error) {
	if req.Method == "" {
		return nil, sdktemporal.NewNonRetryableApplicationError("temporal: TrueNASCallRequest needs Method", ErrTypeBadRequest, nil)
	}
	if a.o.truenas == nil {
		return nil, sdktemporal.NewNonRetryableApplicationError("temporal: no TrueNAS boxes registered (WithTrueNAS)", ErrTypeBadRequest, nil)
	}
	if p, ok := lastProgress(ctx); ok && p.JobID != "" {
		return &TrueNASJob{ID: p.JobID, Existed: true}, nil
	}
	c, err := a.o.truenas(ctx, req.Account)
	if err != nil {
		return nil, err
	}
	entries, err := c.GetJobs(ctx, []rpc.Filter{rpc.Where("method", rpc.Eq, req.Method)}, rpc.QueryOptions{})
	if err != nil {
		return nil, permanent(err)
	}
	var found *rpc.JobEntry
	for i := range entries {
		e := &entries[i]
		if e.State == "FAILED" || e.State == "ABORTED" || !sameArgs(e.Arguments, req.Params) {
			continue
		}
		if found == nil || e.ID > found.ID {
			found = e
		}
	}
	if found != nil {
		return &TrueNASJob{ID: strconv.FormatInt(found.ID, 10), Existed: true}, nil
	}
	params := make([]any, len(req.Params))
	for i, p := range req.Params {
		params[i] = p
	}
	h, err := c.CallJob(ctx, req.Method, params...)
	if err != nil {
		return nil, permanent(err)
	}
	id := h.ID()
	activity.RecordHeartbeat(ctx, Progress{JobID: id, Attempt: activity.GetInfo(ctx).Attempt})
	return &TrueNASJob{ID: id}, nil
}

// sameArgs compares argument lists as JSON, ignoring insignificant space.
func sameArgs(a, b []json.RawMessage) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		var x, y bytes.Buffer
		if json.Compact(&x, a[i]) != nil || json.Compact(&y, b[i]) != nil || !bytes.Equal(x.Bytes(), y.Bytes()) {
			return false
		}
	}
	return true
}
