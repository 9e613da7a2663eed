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
	"github.com/longrun/longrun/fake/sim"
	"github.com/longrun/longrun/freezer"
	"github.com/longrun/longrun/jobs"
)

func TestStartFreezerJobStartsOneRun(t *testing.T) {
	clk := sim.NewClock(sim.Epoch) // manual: the run stays pending until the test moves time
	srv := fake.NewServer(t, fake.Options{Clock: clk})
	u := srv.Env().Users()[0]
	ctx := context.Background()
	c, err := freezer.New(srv.URL(), freezer.WithAPIVersion(freezer.V2),
		freezer.WithPassword(freezer.Credentials{AuthURL: srv.URL() + "/v3", Username: u.Name, Password: u.Password}))
	require.NoError(t, err)
	id, err := c.Create(ctx, &freezer.Job{ClientID: "node1", Description: "backup /etc",
		JobActions: []freezer.JobAction{{FreezerAction: freezer.FreezerAction{Action: "backup", Mode: "fs", PathToBackup: "/etc", Container: "backups"}}}})
	require.NoError(t, err)
	a, err := lrtemporal.NewActivities(lrtemporal.WithFreezer(func(context.Context, string) (*freezer.Client, error) { return c, nil }),
		lrtemporal.WithJobOptions(jobs.WithClock(srv.Clock()), jobs.WithInterval(time.Second, 10*time.Second)))
	require.NoError(t, err)
	s := suite()
	req := lrtemporal.FreezerStartRequest{Account: "cloud", JobID: id}
	var first, second lrtemporal.FreezerStart
	for i, out := range []*lrtemporal.FreezerStart{&first, &second} {
		env := s.NewTestActivityEnvironment()
		env.RegisterActivity(a)
		val, err := env.ExecuteActivity(a.StartFreezerJob, req)
		require.NoError(t, err, i)
		require.NoError(t, val.Get(out))
	}
	assert.False(t, first.Existed)
	assert.True(t, second.Existed, "the run the first attempt started is left alone")
	j, err := c.Get(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, freezer.EventStart, j.JobSchedule.Event)

	clk.SetAuto(true) // let the agent run it
	account, _ := json.Marshal("cloud")
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	val, err := env.ExecuteActivity(a.WaitJob, lrtemporal.WaitRequest{Dialect: lrtemporal.DialectFreezer, Config: account, JobID: id})
	require.NoError(t, err)
	var res lrtemporal.WaitResult
	require.NoError(t, val.Get(&res))
	assert.Equal(t, jobs.StateSucceeded, res.Job.State)
}
