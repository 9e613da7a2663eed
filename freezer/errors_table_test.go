package freezer_test

import (
	"context"
	"errors"
	"testing"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/freezer"
	"github.com/longrun/longrun/jobs"
)

// Every not-found and every auth failure matches the shared sentinels of
// package jobs, and Wait ends in a *jobs.TimeoutError when its ctx does
// (issue 9), against the fake.
func TestSharedErrorSentinels(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{})
	ctx := context.Background()
	const unknown = "0123456789abcdef0123456789abcdef"
	client := func(t *testing.T, password string) *freezer.Client {
		c, err := freezer.New(srv.URL(), freezer.WithAPIVersion(freezer.V2),
			freezer.WithPassword(freezer.Credentials{AuthURL: srv.URL() + "/v3", Username: "admin", Password: password}))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for _, tc := range []struct {
		name, password string
		call           func(c *freezer.Client) error
		want           error
	}{
		{"get unknown job", "secret", func(c *freezer.Client) error { _, err := c.Get(ctx, unknown); return err }, jobs.ErrNotFound},
		{"get unknown action", "secret", func(c *freezer.Client) error { _, err := c.GetAction(ctx, unknown); return err }, jobs.ErrNotFound},
		{"get unknown session", "secret", func(c *freezer.Client) error { _, err := c.GetSession(ctx, unknown); return err }, jobs.ErrNotFound},
		{"get with wrong password", "wrong-pass", func(c *freezer.Client) error { _, err := c.Get(ctx, unknown); return err }, jobs.ErrUnauthorized},
		{"list with wrong password", "wrong-pass", func(c *freezer.Client) error { _, err := c.List(ctx, nil); return err }, jobs.ErrUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call(client(t, tc.password))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want one matching %v", err, tc.want)
			}
			other := jobs.ErrUnauthorized
			if tc.want == jobs.ErrUnauthorized {
				other = jobs.ErrNotFound
			}
			if errors.Is(err, other) {
				t.Fatalf("err = %v also matches %v", err, other)
			}
		})
	}

	t.Run("wait ends with its ctx", func(t *testing.T) {
		c := client(t, "secret")
		id, err := c.Create(ctx, &freezer.Job{ClientID: "node1", Description: "never started",
			JobActions: []freezer.JobAction{{FreezerAction: freezer.FreezerAction{Action: "backup", Mode: "fs", PathToBackup: "/etc", Container: "b"}}}})
		if err != nil {
			t.Fatal(err)
		}
		wctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err = c.Wait(wctx, id)
		var te *jobs.TimeoutError
		if !errors.As(err, &te) || !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want a *jobs.TimeoutError wrapping context.Canceled", err)
		}
	})
}
