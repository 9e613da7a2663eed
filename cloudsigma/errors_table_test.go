package cloudsigma_test

import (
	"context"
	"errors"
	"testing"

	"github.com/longrun/longrun/cloudsigma"
	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/jobs"
)

// Every not-found and every auth failure of the jobs service matches the
// shared sentinels of package jobs (issue 9), against the fake.
func TestSharedErrorSentinels(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{})
	ctx := context.Background()
	const unknown = "00000000-0000-4000-8000-000000000000"
	for _, tc := range []struct {
		name, password string
		call           func(c *cloudsigma.Client) error
		want           error
	}{
		{"get unknown job", "secret", func(c *cloudsigma.Client) error { _, err := c.Jobs.Get(ctx, unknown); return err }, jobs.ErrNotFound},
		{"get with wrong password", "wrong-pass", func(c *cloudsigma.Client) error { _, err := c.Jobs.Get(ctx, unknown); return err }, jobs.ErrUnauthorized},
		{"list with wrong password", "wrong-pass", func(c *cloudsigma.Client) error { _, err := c.Jobs.List(ctx, nil); return err }, jobs.ErrUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := cloudsigma.New(srv.URL(), "admin@example.com", tc.password, cloudsigma.WithoutPush())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			err = tc.call(c)
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
		c, err := cloudsigma.New(srv.URL(), "admin@example.com", "secret", cloudsigma.WithClock(srv.Clock()))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		wctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err = c.Jobs.Wait(wctx, unknown)
		var te *jobs.TimeoutError
		if !errors.As(err, &te) || !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want a *jobs.TimeoutError wrapping context.Canceled", err)
		}
	})
}
