package servers_test

import (
	"context"
	"testing"

	"github.com/longrun/longrun/cloudsigma"
	"github.com/longrun/longrun/drives"
	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/servers"
	"github.com/longrun/longrun/testutil/cstest"
	"github.com/longrun/longrun/testutil/errtest"
)

// Every not-found and every auth failure of the drives and servers
// services matches the shared sentinels of package jobs, and WaitStatus
// ends in a *jobs.TimeoutError with its ctx (issue 9), against the fake.
// One table for both packages: they share their client and
// cloudsigma.Resource.
func TestSharedErrorSentinels(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{})
	ctx := context.Background()
	const unknown = "00000000-0000-4000-8000-000000000000"
	good := cstest.ClientAs(t, srv, "admin@example.com", "secret", cloudsigma.WithoutPush(), cloudsigma.WithClock(srv.Clock()))
	bad := cstest.ClientAs(t, srv, "admin@example.com", "wrong-pass", cloudsigma.WithoutPush())
	ds, ss, badDs, badSs := drives.New(good), servers.New(good), drives.New(bad), servers.New(bad)
	errtest.Sentinels(t, []errtest.Case{
		errtest.NotFound("get unknown drive", func() error { _, err := ds.Get(ctx, unknown); return err }),
		errtest.NotFound("delete unknown drive", func() error { return ds.Delete(ctx, unknown) }),
		errtest.NotFound("clone unknown drive", func() error { _, err := ds.Clone(ctx, unknown, nil, nil); return err }),
		errtest.NotFound("get unknown server", func() error { _, err := ss.Get(ctx, unknown); return err }),
		errtest.NotFound("start unknown server", func() error { _, err := ss.Start(ctx, unknown); return err }),
		errtest.NotFound("delete unknown server", func() error { return ss.Delete(ctx, unknown, nil) }),
		errtest.Unauthorized("list drives, wrong password", func() error { _, err := badDs.List(ctx, nil); return err }),
		errtest.Unauthorized("get drive, wrong password", func() error { _, err := badDs.Get(ctx, unknown); return err }),
		errtest.Unauthorized("list servers, wrong password", func() error { _, err := badSs.List(ctx, nil); return err }),
		errtest.Unauthorized("start server, wrong password", func() error { _, err := badSs.Start(ctx, unknown); return err }),
	})
	web := cstest.Named(t, ctx, ss.Resource, "web-1")
	errtest.WaitEndsWithCtx(t, func(ctx context.Context) error { _, err := ss.WaitStatus(ctx, web.UUID, "paused"); return err })
}
