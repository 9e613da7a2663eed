package temporal_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/log"
	sdktemporal "go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/longrun/longrun/cloudsigma"
	lrtemporal "github.com/longrun/longrun/contrib/temporal"
	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/fake/sim"
	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/servers"
)

// heartbeats sees every heartbeat an activity records (the test
// environment's listener sees only those it would send to the server).
type heartbeats struct {
	interceptor.WorkerInterceptorBase
	rec func(details ...any)
}

func (h *heartbeats) InterceptActivity(ctx context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	i := &hbInbound{rec: h.rec}
	i.Next = next
	return i
}

type hbInbound struct {
	interceptor.ActivityInboundInterceptorBase
	rec func(details ...any)
}

func (i *hbInbound) Init(outbound interceptor.ActivityOutboundInterceptor) error {
	o := &hbOutbound{rec: i.rec}
	o.Next = outbound
	return i.Next.Init(o)
}

type hbOutbound struct {
	interceptor.ActivityOutboundInterceptorBase
	rec func(details ...any)
}

func (o *hbOutbound) RecordHeartbeat(ctx context.Context, details ...any) {
	o.rec(details...)
	o.Next.RecordHeartbeat(ctx, details...)
}

// suite is a test suite whose environments log nothing.
func suite() *testsuite.WorkflowTestSuite {
	s := &testsuite.WorkflowTestSuite{}
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	return s
}

// stepSource is a job that moves 20 points a poll; it counts polls.
type stepSource struct {
	mu    sync.Mutex
	polls map[string]int
}

func (s *stepSource) Fetch(ctx context.Context, ids ...string) ([]*jobs.Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*jobs.Job
	for _, id := range ids {
		if id == "ghost" {
			continue
		}
		s.polls[id]++
		pct := min(100, float64(s.polls[id]*20))
		st := jobs.StateRunning
		if pct >= 100 {
			st = jobs.StateSucceeded
		}
		if id == "doomed" && pct >= 40 {
			st = jobs.StateFailed
		}
		out = append(out, &jobs.Job{ID: id, State: st, Progress: jobs.Progress{Percent: pct, Known: true}})
	}
	return out, nil
}

func activities(t *testing.T, src jobs.Source) *lrtemporal.Activities {
	clk := sim.NewClock(sim.Epoch)
	clk.SetAuto(true)
	a, err := lrtemporal.NewActivities(
		lrtemporal.WithSource("mem", func(ctx context.Context, config json.RawMessage) (jobs.Source, error) { return src, nil }),
		lrtemporal.WithJobOptions(jobs.WithClock(clk)))
	require.NoError(t, err)
	return a
}

func TestWaitJobHeartbeatsEachChangedSnapshot(t *testing.T) {
	s := suite()
	env := s.NewTestActivityEnvironment()
	src := &stepSource{polls: map[string]int{}}
	a := activities(t, src)
	env.RegisterActivity(a)
	var beats []lrtemporal.Progress
	var mu sync.Mutex
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{&heartbeats{rec: func(details ...any) {
		mu.Lock()
		defer mu.Unlock()
		beats = append(beats, details[0].(lrtemporal.Progress))
	}}}})
	val, err := env.ExecuteActivity(a.WaitJob, lrtemporal.WaitRequest{Dialect: "mem", JobID: "job-1"})
	require.NoError(t, err)
	var res lrtemporal.WaitResult
	require.NoError(t, val.Get(&res))
	assert.False(t, res.Resumed)
	assert.True(t, res.Job.TreeDone())
	assert.Equal(t, 5, res.Snapshots)
	mu.Lock()
	defer mu.Unlock()
	// The first heartbeat claims the job; then one per changed snapshot.
	var pcts []float64
	for _, b := range beats[1:] {
		assert.Equal(t, "job-1", b.JobID)
		pcts = append(pcts, b.Percent)
	}
	assert.Equal(t, []float64{20, 40, 60, 80, 100}, pcts)
}

func TestWaitJobRetriedAfterACrashResumesFromItsHeartbeat(t *testing.T) {
	s := suite()
	env := s.NewTestActivityEnvironment()
	src := &stepSource{polls: map[string]int{"job-started-before": 3}}
	a := activities(t, src)
	env.RegisterActivity(a)
	// The attempt that crashed had heartbeated this: the job it follows
	// (say, one it started itself) and three snapshots.
	env.SetHeartbeatDetails(lrtemporal.Progress{JobID: "job-started-before", Percent: 60, Known: true, Snapshots: 3, Attempt: 1})
	val, err := env.ExecuteActivity(a.WaitJob, lrtemporal.WaitRequest{Dialect: "mem", JobID: "job-started-before"})
	require.NoError(t, err)
	var res lrtemporal.WaitResult
	require.NoError(t, val.Get(&res))
	assert.True(t, res.Resumed)
	assert.Equal(t, "job-started-before", res.Job.ID)
	assert.Equal(t, 3+2, res.Snapshots, "counted on from the heartbeat: 80 and 100")
	src.mu.Lock()
	defer src.mu.Unlock()
	assert.Equal(t, 5, src.polls["job-started-before"], "the job went on from where it was")
}

func TestWaitJobErrors(t *testing.T) {
	s := suite()
	src := &stepSource{polls: map[string]int{}}
	a := activities(t, src)
	for _, tc := range []struct {
		req  lrtemporal.WaitRequest
		kind string
	}{
		{lrtemporal.WaitRequest{Dialect: "mem", JobID: "doomed"}, lrtemporal.ErrTypeJobFailed},
		{lrtemporal.WaitRequest{Dialect: "mem", JobID: "ghost"}, lrtemporal.ErrTypeNotFound},
		{lrtemporal.WaitRequest{Dialect: "nope", JobID: "x"}, lrtemporal.ErrTypeBadRequest},
		{lrtemporal.WaitRequest{Dialect: "mem"}, lrtemporal.ErrTypeBadRequest},
	} {
		env := s.NewTestActivityEnvironment()
		env.RegisterActivity(a)
		_, err := env.ExecuteActivity(a.WaitJob, tc.req)
		var appErr *sdktemporal.ApplicationError
		require.ErrorAs(t, err, &appErr, tc.req)
		assert.Equal(t, tc.kind, appErr.Type())
		assert.True(t, appErr.NonRetryable())
	}
}

// cloudSigma starts the fake and returns activities over its CloudSigma
// account, the seeded server's uuid and the servers service.
func cloudSigma(t *testing.T) (*fake.Server, *lrtemporal.Activities, string, *servers.Service) {
	srv := fake.NewServer(t, fake.Options{})
	u := srv.Env().Users()[0]
	c, err := cloudsigma.New(srv.CloudSigmaURL(), u.Email, u.Password)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	ss := servers.New(c)
	page, err := ss.List(context.Background(), &servers.ListOptions{Filters: map[string][]string{"name": {"web-1"}}})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	acc := lrtemporal.NewCloudSigmaAccount(c)
	a, err := lrtemporal.NewActivities(
		lrtemporal.WithCloudSigma(func(ctx context.Context, account string) (lrtemporal.CloudSigmaAccount, error) {
			if account != "main" {
				return nil, errors.New("unknown account " + account)
			}
			return acc, nil
		}),
		lrtemporal.WithJobOptions(jobs.WithClock(srv.Clock()), jobs.WithInterval(time.Second, 10*time.Second)))
	require.NoError(t, err)
	return srv, a, page.Items[0].UUID, ss
}

func countNamed(t *testing.T, ss *servers.Service, prefix string) []string {
	t.Helper()
	var names []string
	for s, err := range ss.All(context.Background(), nil) {
		require.NoError(t, err)
		if strings.HasPrefix(s.Name, prefix) {
			names = append(names, s.Name)
		}
	}
	return names
}

func TestCloneServerIsIdempotentByName(t *testing.T) {
	_, a, web1, ss := cloudSigma(t)
	s := suite()
	req := lrtemporal.CloneRequest{Account: "main", Source: web1, Name: "web-1-copy"}
	var first, second lrtemporal.Server
	for i, out := range []*lrtemporal.Server{&first, &second} {
		env := s.NewTestActivityEnvironment()
		env.RegisterActivity(a)
		val, err := env.ExecuteActivity(a.CloneServer, req)
		require.NoError(t, err, i)
		require.NoError(t, val.Get(out))
	}
	assert.False(t, first.Existed)
	assert.NotEmpty(t, first.JobID)
	assert.True(t, second.Existed, "the retry found the first attempt's clone")
	assert.Equal(t, first.UUID, second.UUID)
	assert.Equal(t, []string{"web-1-copy"}, countNamed(t, ss, "web-1-copy"), "cloned once")
}

func TestCloneNWorkflowAgainstTheFake(t *testing.T) {
	_, a, web1, ss := cloudSigma(t)
	s := suite()
	env := s.NewTestWorkflowEnvironment()
	env.RegisterActivity(a)
	env.RegisterWorkflow(lrtemporal.CloneN)
	env.ExecuteWorkflow(lrtemporal.CloneN, lrtemporal.CloneNRequest{Account: "main", Source: web1, NamePrefix: "batch", N: 3})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res lrtemporal.CloneNResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Len(t, res.Servers, 3)
	assert.ElementsMatch(t, []string{"batch-1", "batch-2", "batch-3"}, countNamed(t, ss, "batch-"))
	for _, srv := range res.Servers {
		got, err := ss.Get(context.Background(), srv.UUID)
		require.NoError(t, err)
		assert.Equal(t, srv.Name, got.Name)
	}
}

func TestCloneNCompensatesWhenOneCloneFails(t *testing.T) {
	srv, a, web1, ss := cloudSigma(t)
	// The second clone request is refused as the real service refuses a
	// request it cannot serve.
	srv.Faults().Add(sim.Fault{Method: http.MethodPost, PathPrefix: "/api/2.0/servers/" + web1 + "/action/", Times: 1,
		Status: http.StatusConflict, Body: `[{"error_point": null, "error_type": "permission", "error_message": "Cannot clone: the server is busy"}]`})
	s := suite()
	env := s.NewTestWorkflowEnvironment()
	env.RegisterActivity(a)
	env.RegisterWorkflow(lrtemporal.CloneN)
	env.ExecuteWorkflow(lrtemporal.CloneN, lrtemporal.CloneNRequest{Account: "main", Source: web1, NamePrefix: "doomed", N: 3})
	require.True(t, env.IsWorkflowCompleted())
	err := env.GetWorkflowError()
	var appErr *sdktemporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	assert.Equal(t, lrtemporal.ErrTypeCloneNFailed, appErr.Type())
	var failure lrtemporal.CloneNFailure
	require.NoError(t, appErr.Details(&failure))
	assert.Len(t, failure.Failed, 1)
	assert.Len(t, failure.Deleted, 2, "the two clones that were made are deleted")
	assert.Empty(t, countNamed(t, ss, "doomed-"), "no clone is left")
}
