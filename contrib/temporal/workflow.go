package temporal

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	sdktemporal "go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// CloneNRequest asks CloneN for N clones of one server.
type CloneNRequest struct {
	Account string `json:"account"`
	Source  string `json:"source"` // uuid of the server to clone
	// NamePrefix names the clones NamePrefix-1 .. NamePrefix-N; the names
	// are the clones' idempotency keys.
	NamePrefix string `json:"name_prefix"`
	N          int    `json:"n"`
	// WaitTimeout bounds each clone's wait (default 2 h); Heartbeat is the
	// waits' heartbeat timeout (default 30 s): a worker that dies is
	// noticed after it, and the wait resumes on another worker.
	WaitTimeout time.Duration `json:"wait_timeout,omitempty"`
	Heartbeat   time.Duration `json:"heartbeat,omitempty"`
}

// CloneNResult lists the clones.
type CloneNResult struct {
	Servers []Server `json:"servers"`
}

// CloneNFailure is the detail of CloneN's error when a clone failed: the
// names of the clones deleted again.
type CloneNFailure struct {
	Failed  []string `json:"failed"`
	Deleted []string `json:"deleted"`
}

// ErrTypeCloneNFailed is the type of CloneN's application error.
const ErrTypeCloneNFailed = "longrun.CloneNFailed"

// CloneN clones req.Source N times in parallel (CloneServer, idempotent by
// name), waits for every clone job (WaitJob, which heartbeats and resumes
// after a worker crash), and, when any clone fails, deletes every clone
// (DeleteServer, idempotent too) and fails with an application error of
// type ErrTypeCloneNFailed whose details are a CloneNFailure.
func CloneN(ctx workflow.Context, req CloneNRequest) (*CloneNResult, error) {
	if req.N <= 0 || req.Source == "" || req.NamePrefix == "" {
		return nil, sdktemporal.NewNonRetryableApplicationError("temporal: CloneN needs N > 0, Source and NamePrefix", ErrTypeBadRequest, nil)
	}
	if req.WaitTimeout <= 0 {
		req.WaitTimeout = 2 * time.Hour
	}
	if req.Heartbeat <= 0 {
		req.Heartbeat = 30 * time.Second
	}
	var a *Activities
	retry := &sdktemporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute, MaximumAttempts: 10}
	startCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 5 * time.Minute, RetryPolicy: retry})
	waitCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: req.WaitTimeout, HeartbeatTimeout: req.Heartbeat, RetryPolicy: retry})
	account, err := json.Marshal(req.Account)
	if err != nil {
		return nil, err
	}

	name := func(i int) string { return fmt.Sprintf("%s-%d", req.NamePrefix, i+1) }
	servers := make([]*Server, req.N)
	errs := make([]error, req.N)
	wg := workflow.NewWaitGroup(ctx)
	for i := range req.N {
		wg.Add(1)
		workflow.Go(ctx, func(gctx workflow.Context) {
			defer wg.Done()
			var s Server
			if err := workflow.ExecuteActivity(startCtx, a.CloneServer, CloneRequest{Account: req.Account, Source: req.Source, Name: name(i)}).Get(gctx, &s); err != nil {
				errs[i] = err
				return
			}
			servers[i] = &s
			if s.JobID == "" {
				return // the clone's job is long gone: it ended
			}
			var wr WaitResult
			errs[i] = workflow.ExecuteActivity(waitCtx, a.WaitJob, WaitRequest{Dialect: DialectCloudSigma, Config: account, JobID: s.JobID}).Get(gctx, &wr)
		})
	}
	wg.Wait(ctx)

	var failure CloneNFailure
	for i, err := range errs {
		if err != nil {
			failure.Failed = append(failure.Failed, name(i))
		}
	}
	if len(failure.Failed) == 0 {
		out := &CloneNResult{}
		for _, s := range servers {
			out.Servers = append(out.Servers, *s)
		}
		return out, nil
	}

	// Compensate: delete every clone, made or not (a clone whose start
	// failed may still exist). A cancelled workflow cleans up too.
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	dctx = workflow.WithActivityOptions(dctx, workflow.ActivityOptions{StartToCloseTimeout: 5 * time.Minute, RetryPolicy: retry})
	futures := make([]workflow.Future, req.N)
	for i := range req.N {
		futures[i] = workflow.ExecuteActivity(dctx, a.DeleteServer, DeleteRequest{Account: req.Account, Name: name(i)})
	}
	var cleanupErrs []error
	for i, f := range futures {
		var deleted bool
		if err := f.Get(dctx, &deleted); err != nil {
			cleanupErrs = append(cleanupErrs, fmt.Errorf("deleting %s: %w", name(i), err))
		} else if deleted {
			failure.Deleted = append(failure.Deleted, name(i))
		}
	}
	cause := errors.Join(append(nonNil(errs), cleanupErrs...)...)
	return nil, sdktemporal.NewNonRetryableApplicationError(
		fmt.Sprintf("clone-n: %d of %d clones failed; deleted %d clones", len(failure.Failed), req.N, len(failure.Deleted)),
		ErrTypeCloneNFailed, cause, failure)
}

func nonNil(errs []error) []error {
	var out []error
	for _, e := range errs {
		if e != nil {
			out = append(out, e)
		}
	}
	return out
}
