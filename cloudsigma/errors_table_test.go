package cloudsigma_test

import (
	"context"
	"testing"

	"github.com/longrun/longrun/cloudsigma"
	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/testutil/cstest"
	"github.com/longrun/longrun/testutil/errtest"
)

// Every not-found and every auth failure of the jobs service matches the
// shared sentinels of package jobs, and Jobs.Wait ends in a
// *jobs.TimeoutError with its ctx (issue 9), against the fake.
func TestSharedErrorSentinels(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{})
	ctx := context.Background()
	const unknown = "00000000-0000-4000-8000-000000000000"
	good := cstest.ClientAs(t, srv, "admin@example.com", "secret", cloudsigma.WithoutPush(), cloudsigma.WithClock(srv.Clock()))
	bad := cstest.ClientAs(t, srv, "admin@example.com", "wrong-pass", cloudsigma.WithoutPush())
	errtest.Sentinels(t, []errtest.Case{
		errtest.NotFound("get unknown job", func() error { _, err := good.Jobs.Get(ctx, unknown); return err }),
		errtest.Unauthorized("get with wrong password", func() error { _, err := bad.Jobs.Get(ctx, unknown); return err }),
		errtest.Unauthorized("list with wrong password", func() error { _, err := bad.Jobs.List(ctx, nil); return err }),
	})
	errtest.WaitEndsWithCtx(t, func(ctx context.Context) error { _, err := good.Jobs.Wait(ctx, unknown); return err })
}
