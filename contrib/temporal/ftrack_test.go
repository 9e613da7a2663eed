package temporal_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lrtemporal "github.com/longrun/longrun/contrib/temporal"
	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/ftrack"
	"github.com/longrun/longrun/jobs"
)

func TestCreateFtrackJobIsIdempotentByKeyAndWaitable(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{})
	u := srv.Env().Users()[0]
	sess, err := ftrack.NewSession(srv.URL(), u.Name, u.APIKey)
	require.NoError(t, err)
	a, err := lrtemporal.NewActivities(lrtemporal.WithFtrack(func(ctx context.Context, account string) (*ftrack.Session, error) {
		return sess, nil
	}), lrtemporal.WithJobOptions(jobs.WithClock(srv.Clock())))
	require.NoError(t, err)

	s := suite()
	req := lrtemporal.FtrackJobRequest{Account: "studio", Key: "render-42", Description: "Rendering shot 42"}
	var first, second lrtemporal.FtrackJob
	for i, out := range []*lrtemporal.FtrackJob{&first, &second} {
		env := s.NewTestActivityEnvironment()
		env.RegisterActivity(a)
		val, err := env.ExecuteActivity(a.CreateFtrackJob, req)
		require.NoError(t, err, i)
		require.NoError(t, val.Get(out))
	}
	assert.Equal(t, lrtemporal.FtrackJobID("render-42"), first.ID)
	assert.False(t, first.Existed)
	assert.True(t, second.Existed, "the retry found the job the first attempt created")
	assert.Equal(t, first.ID, second.ID)
	assert.NotEqual(t, first.ID, lrtemporal.FtrackJobID("render-43"))
	page, err := sess.List(context.Background(), nil)
	require.NoError(t, err)
	n := 0
	for _, j := range page.Items {
		if j.ID == first.ID {
			n++
		}
	}
	assert.Equal(t, 1, n, "created once")

	// The job the client reports ends when it says so; WaitJob follows it.
	_, err = sess.SetStatus(context.Background(), first.ID, ftrack.StatusDone, "rendered")
	require.NoError(t, err)
	account, _ := json.Marshal("studio")
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	val, err := env.ExecuteActivity(a.WaitJob, lrtemporal.WaitRequest{Dialect: lrtemporal.DialectFtrack, Config: account, JobID: first.ID})
	require.NoError(t, err)
	var res lrtemporal.WaitResult
	require.NoError(t, val.Get(&res))
	assert.Equal(t, jobs.StateSucceeded, res.Job.State)
}
