package freezer_test

import (
	"context"
	"testing"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/freezer"
	"github.com/longrun/longrun/testutil/errtest"
)

// Every not-found and every auth failure matches the shared sentinels of
// package jobs, and Wait ends in a *jobs.TimeoutError with its ctx (issue
// 9), against the fake. (A v2 DELETE of an unknown job is a 204, as on
// the real freezer-api: it deletes without looking.)
func TestSharedErrorSentinels(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{})
	ctx := context.Background()
	const unknown = "0123456789abcdef0123456789abcdef"
	client := func(password string) *freezer.Client {
		c, err := freezer.New(srv.URL(), freezer.WithAPIVersion(freezer.V2),
			freezer.WithPassword(freezer.Credentials{AuthURL: srv.URL() + "/v3", Username: "admin", Password: password}))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	good, bad := client("secret"), client("wrong-pass")
	errtest.Sentinels(t, []errtest.Case{
		errtest.NotFound("get unknown job", func() error { _, err := good.Get(ctx, unknown); return err }),
		errtest.NotFound("get unknown action", func() error { _, err := good.GetAction(ctx, unknown); return err }),
		errtest.NotFound("get unknown session", func() error { _, err := good.GetSession(ctx, unknown); return err }),
		errtest.Unauthorized("get with wrong password", func() error { _, err := bad.Get(ctx, unknown); return err }),
		errtest.Unauthorized("list with wrong password", func() error { _, err := bad.List(ctx, nil); return err }),
	})
	id, err := good.Create(ctx, &freezer.Job{ClientID: "node1", Description: "never started",
		JobActions: []freezer.JobAction{{FreezerAction: freezer.FreezerAction{Action: "backup", Mode: "fs", PathToBackup: "/etc", Container: "b"}}}})
	if err != nil {
		t.Fatal(err)
	}
	errtest.WaitEndsWithCtx(t, func(ctx context.Context) error { _, err := good.Wait(ctx, id); return err })
}
