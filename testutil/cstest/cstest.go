// Package cstest builds CloudSigma clients against the fake for tests: a
// request-counting transport and fast retry settings. It is a test helper
// (it imports testing and fake); production code does not import it.
package cstest

import (
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
	c, err := cloudsigma.New(srv.URL(), "admin@example.com", "secret", all...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, cnt
}
