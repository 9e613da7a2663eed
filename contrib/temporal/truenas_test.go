package temporal_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lrtemporal "github.com/longrun/longrun/contrib/temporal"
	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/rpc"
)

func TestCallTrueNASJobStartsOnceAndIsWaitable(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{})
	u := srv.Env().Users()[0]
	ctx := context.Background()
	c, err := rpc.Dial(ctx, srv.WebsocketURL(), rpc.WithPassword(u.Name, u.Password))
	require.NoError(t, err)
	defer c.Close()
	a, err := lrtemporal.NewActivities(lrtemporal.WithTrueNAS(func(context.Context, string) (*rpc.Conn, error) { return c, nil }),
		lrtemporal.WithJobOptions(jobs.WithClock(srv.Clock()), jobs.WithInterval(time.Second, 10*time.Second)))
	require.NoError(t, err)
	s := suite()
	req := lrtemporal.TrueNASCallRequest{Account: "nas", Method: "filesystem.copy",
		Params: []json.RawMessage{json.RawMessage(`"/mnt/tank/src"`), json.RawMessage(`"/mnt/tank/dst"`)}}

	var first, second, resumed lrtemporal.TrueNASJob
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	val, err := env.ExecuteActivity(a.CallTrueNASJob, req)
	require.NoError(t, err)
	require.NoError(t, val.Get(&first))
	assert.False(t, first.Existed)

	// A retry that lost its heartbeat finds the job by method and arguments.
	env = s.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	val, err = env.ExecuteActivity(a.CallTrueNASJob, req)
	require.NoError(t, err)
	require.NoError(t, val.Get(&second))
	assert.True(t, second.Existed)
	assert.Equal(t, first.ID, second.ID)

	// A retry with its heartbeat takes the job id from it.
	env = s.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	env.SetHeartbeatDetails(lrtemporal.Progress{JobID: first.ID})
	val, err = env.ExecuteActivity(a.CallTrueNASJob, req)
	require.NoError(t, err)
	require.NoError(t, val.Get(&resumed))
	assert.Equal(t, first.ID, resumed.ID)

	n, err := c.CountJobs(ctx, rpc.Where("method", rpc.Eq, "filesystem.copy"))
	require.NoError(t, err)
	assert.Equal(t, 1, n, "called once")

	account, _ := json.Marshal("nas")
	env = s.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	val, err = env.ExecuteActivity(a.WaitJob, lrtemporal.WaitRequest{Dialect: lrtemporal.DialectTrueNAS, Config: account, JobID: first.ID})
	require.NoError(t, err)
	var res lrtemporal.WaitResult
	require.NoError(t, val.Get(&res))
	assert.Equal(t, jobs.StateSucceeded, res.Job.State)
}
