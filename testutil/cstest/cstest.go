// Package cstest builds CloudSigma clients against the fake for tests: a
// request-counting transport and fast retry settings. It is a test helper
// (it imports testing and fake); production code does not import it.
package cstest

import (
	"context"
	"encoding/json"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/longrun/longrun/cloudsigma"
	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/rest"
)

// Counter is an http.RoundTripper that counts requests.
type Counter struct {
	N    atomic.Int64
	Next http.RoundTripper
}

// RoundTrip counts and forwards.
func (c *Counter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.N.Add(1)
	next := c.Next
	if next == nil {
		next = http.DefaultTransport
	}
	return next.RoundTrip(r)
}

// Client returns a CloudSigma client for the fake's admin user on the
// fake's clock, with millisecond retry waits (no test waits seconds of
// wall time) and a request counter. It closes the client when the test
// ends.
func Client(t testing.TB, srv *fake.Server, opts ...cloudsigma.Option) (*cloudsigma.Client, *Counter) {
	t.Helper()
	cnt := &Counter{}
	all := append([]cloudsigma.Option{
		cloudsigma.WithHTTPClient(&http.Client{Transport: cnt}),
		cloudsigma.WithClock(srv.Clock()),
		cloudsigma.WithRESTOptions(rest.WithRetry(4, time.Millisecond, 5*time.Millisecond)),
	}, opts...)
	return ClientAs(t, srv, "admin@example.com", "secret", all...), cnt
}

// ClientAs returns a CloudSigma client of the fake for email and password
// (a wrong one, to test refusals) with opts, and closes it when the test
// ends.
func ClientAs(t testing.TB, srv *fake.Server, email, password string, opts ...cloudsigma.Option) *cloudsigma.Client {
	t.Helper()
	c, err := cloudsigma.New(srv.URL(), email, password, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Named returns the object called name, listed with r.All on /detail/
// (with CloudSigma's name filter), and fails t on an error or when there
// is none.
func Named[T any, C any](t testing.TB, ctx context.Context, r *cloudsigma.Resource[T, C], name string) T {
	t.Helper()
	for v, err := range r.All(ctx, &cloudsigma.ListOptions{Detail: true, Filters: map[string][]string{"name": {name}}}) {
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	t.Fatalf("no object named %q", name)
	var zero T
	return zero
}

// RoundTrip is the body of a decoder fuzz test: data that decodes into a
// T must encode, decode again, and keep what same compares.
func RoundTrip[T any](t testing.TB, data []byte, same func(first, again *T) bool) {
	t.Helper()
	var first T
	if json.Unmarshal(data, &first) != nil {
		return
	}
	out, err := json.Marshal(&first)
	if err != nil {
		t.Fatalf("re-encode: %v", err)
	}
	var again T
	if err := json.Unmarshal(out, &again); err != nil {
		t.Fatalf("re-decode %s: %v", out, err)
	}
	if !same(&first, &again) {
		t.Fatalf("the round trip changed the object: %s", out)
	}
}
