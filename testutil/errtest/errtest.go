// Package errtest checks that a dialect's errors match the shared
// sentinels of package jobs (issue 9: every not-found matches
// jobs.ErrNotFound, every auth failure jobs.ErrUnauthorized, every wait
// that outlives its ctx returns a *jobs.TimeoutError). It is a test helper
// (it imports testing); production code does not import it.
package errtest

import (
	"context"
	"errors"
	"testing"

	"github.com/longrun/longrun/jobs"
)

// Case is one call and the shared sentinel its error must match. Make it
// with NotFound or Unauthorized.
type Case struct {
	name string
	call func() error
	want error
}

// NotFound is a call whose error must match jobs.ErrNotFound.
func NotFound(name string, call func() error) Case {
	return Case{name: name, call: call, want: jobs.ErrNotFound}
}

// Unauthorized is a call whose error must match jobs.ErrUnauthorized.
func Unauthorized(name string, call func() error) Case {
	return Case{name: name, call: call, want: jobs.ErrUnauthorized}
}

// Sentinels runs every case as a subtest: its error must match its sentinel and
// must not match the other sentinel.
func Sentinels(t *testing.T, cases []Case) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want one matching %v", err, tc.want)
			}
			if errors.Is(err, jobs.ErrNotFound) && errors.Is(err, jobs.ErrUnauthorized) {
				t.Fatalf("err = %v matches both jobs.ErrNotFound and jobs.ErrUnauthorized", err)
			}
		})
	}
}

// WaitEndsWithCtx calls wait with a ctx that has already ended and fails
// t unless the error is a *jobs.TimeoutError wrapping context.Canceled.
func WaitEndsWithCtx(t *testing.T, wait func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := wait(ctx)
	var te *jobs.TimeoutError
	if !errors.As(err, &te) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want a *jobs.TimeoutError wrapping context.Canceled", err)
	}
}
