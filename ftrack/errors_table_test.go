package ftrack_test

import (
	"context"
	"testing"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/ftrack"
	"github.com/longrun/longrun/testutil/errtest"
)

// Every not-found and every auth failure matches the shared sentinels of
// package jobs, and Wait ends in a *jobs.TimeoutError with its ctx (issue
// 9), against the fake.
func TestSharedErrorSentinels(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{})
	ctx := context.Background()
	const unknown = "00000000-0000-4000-8000-000000000000"
	session := func(key string) *ftrack.Session {
		s, err := ftrack.NewSession(srv.URL(), "admin", key, ftrack.WithClock(srv.Clock()))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	good, bad := session("1-longrunfakeapikey"), session("wrong-key")
	errtest.Sentinels(t, []errtest.Case{
		errtest.NotFound("get unknown job", func() error { _, err := good.GetJob(ctx, unknown); return err }),
		errtest.NotFound("delete unknown job", func() error { return good.DeleteJob(ctx, unknown) }),
		errtest.NotFound("update unknown job", func() error { _, err := good.SetStatus(ctx, unknown, ftrack.StatusDone, ""); return err }),
		errtest.Unauthorized("get with wrong key", func() error { _, err := bad.GetJob(ctx, unknown); return err }),
		errtest.Unauthorized("list with wrong key", func() error { _, err := bad.List(ctx, nil); return err }),
	})
	job, err := good.CreateJob(ctx, ftrack.CreateJobRequest{Description: "never ends"})
	if err != nil {
		t.Fatal(err)
	}
	errtest.WaitEndsWithCtx(t, func(ctx context.Context) error { _, err := good.Wait(ctx, job.ID); return err })
}
