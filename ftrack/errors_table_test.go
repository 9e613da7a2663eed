package ftrack_test

import (
	"context"
	"errors"
	"testing"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/ftrack"
	"github.com/longrun/longrun/jobs"
)

// Every not-found and every auth failure matches the shared sentinels of
// package jobs, and a wait ends in a *jobs.TimeoutError when its ctx does
// (issue 9), against the fake.
func TestSharedErrorSentinels(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{})
	ctx := context.Background()
	const unknown = "00000000-0000-4000-8000-000000000000"
	for _, tc := range []struct {
		name, key string
		call      func(s *ftrack.Session) error
		want      error
	}{
		{"get unknown job", "1-longrunfakeapikey", func(s *ftrack.Session) error { _, err := s.GetJob(ctx, unknown); return err }, jobs.ErrNotFound},
		{"delete unknown job", "1-longrunfakeapikey", func(s *ftrack.Session) error { return s.DeleteJob(ctx, unknown) }, jobs.ErrNotFound},
		{"update unknown job", "1-longrunfakeapikey", func(s *ftrack.Session) error {
			_, err := s.SetStatus(ctx, unknown, ftrack.StatusDone, "")
			return err
		}, jobs.ErrNotFound},
		{"get with wrong key", "wrong-key", func(s *ftrack.Session) error { _, err := s.GetJob(ctx, unknown); return err }, jobs.ErrUnauthorized},
		{"list with wrong key", "wrong-key", func(s *ftrack.Session) error { _, err := s.List(ctx, nil); return err }, jobs.ErrUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ftrack.NewSession(srv.URL(), "admin", tc.key)
			if err != nil {
				t.Fatal(err)
			}
			err = tc.call(s)
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
		s, err := ftrack.NewSession(srv.URL(), "admin", "1-longrunfakeapikey", ftrack.WithClock(srv.Clock()))
		if err != nil {
			t.Fatal(err)
		}
		job, err := s.CreateJob(ctx, ftrack.CreateJobRequest{Description: "never ends"})
		if err != nil {
			t.Fatal(err)
		}
		wctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err = s.Wait(wctx, job.ID)
		var te *jobs.TimeoutError
		if !errors.As(err, &te) || !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want a *jobs.TimeoutError wrapping context.Canceled", err)
		}
	})
}
