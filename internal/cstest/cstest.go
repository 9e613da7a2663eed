// Package cstest builds CloudSigma clients against the fake for longrun's
// own tests: a request-counting transport and fast retry settings.
package cstest

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/jobs"
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

// Client returns a CloudSigma client for the fake's admin user, with
// millisecond retry waits (no test waits seconds of wall time) and a
// request counter.
func Client(t testing.TB, srv *fake.Server, opts ...rest.Option) (*rest.Client, *Counter) {
	t.Helper()
	cnt := &Counter{}
	all := append([]rest.Option{
		rest.WithHTTPClient(&http.Client{Transport: cnt}),
		rest.WithRetry(4, time.Millisecond, 5*time.Millisecond),
	}, opts...)
	c, err := jobs.NewCloudSigmaClient(srv.URL(), "admin@example.com", "secret", all...)
	if err != nil {
		t.Fatal(err)
	}
	return c, cnt
}
