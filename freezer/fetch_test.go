package freezer_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/fake/sim"
	"github.com/longrun/longrun/freezer"
	"github.com/longrun/longrun/rest"
	"github.com/longrun/longrun/testutil/freezertest"
)

// inFlight counts requests: all of them, those under way, and the most
// under way at once.
type inFlight struct {
	mu              sync.Mutex
	total, now, max int
}

func (f *inFlight) RoundTrip(r *http.Request) (*http.Response, error) {
	f.mu.Lock()
	f.total++
	f.now++
	f.max = max(f.max, f.now)
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.now--
		f.mu.Unlock()
	}()
	return http.DefaultTransport.RoundTrip(r)
}

// TestFetchMany checks Fetch with many ids: one GET each, never more than
// FetchConcurrency at once, unknown ids left out, and the first error
// returned.
func TestFetchMany(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{})
	tok, _ := srv.Freezer().IssueToken("admin")
	tr := &inFlight{}
	c, err := freezer.New(srv.URL(), freezer.WithToken(tok),
		freezer.WithRESTOptions(rest.WithHTTPClient(&http.Client{Transport: tr}), rest.WithRetry(0, 0, 0)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var ids []string
	for range 3 * freezer.FetchConcurrency {
		id, err := c.Create(ctx, freezertest.NewJob("n1", ""))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	asked := append([]string{"0123456789abcdef0123456789abcdef"}, ids...)
	got, err := c.Fetch(ctx, asked...)
	if err != nil {
		t.Fatal(err)
	}
	var gotIDs []string
	for _, j := range got {
		gotIDs = append(gotIDs, j.ID)
		if j.Dialect != "freezer" || j.Operation != "backup" {
			t.Errorf("fetched %+v", j)
		}
	}
	slices.Sort(gotIDs)
	want := slices.Sorted(slices.Values(ids))
	if !slices.Equal(gotIDs, want) {
		t.Errorf("fetched %v, want %v", gotIDs, want)
	}
	if tr.max > freezer.FetchConcurrency {
		t.Errorf("%d GETs at once, want at most %d", tr.max, freezer.FetchConcurrency)
	}

	// One job answers 500: Fetch fails with that error.
	srv.Faults().Add(sim.Fault{Method: http.MethodGet, PathPrefix: "/v1/jobs/" + ids[5], Status: 500, Body: `{"title": "boom"}`})
	got, err = c.Fetch(ctx, ids...)
	if !isAPIError(err, 500) || got != nil {
		t.Errorf("fetch with a failing job: %v %v", got, err)
	}

	// A cancelled context: an error, not a partial answer.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if got, err := c.Fetch(cctx, ids...); err == nil || got != nil {
		t.Errorf("cancelled fetch: %v %v", got, err)
	}
}

func isAPIError(err error, status int) bool {
	var ae *rest.APIError
	return errors.As(err, &ae) && ae.StatusCode == status
}

// TestListIterator: breaking out of List sends no further request, and a
// failed page is yielded once as the last value.
func TestListIterator(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{})
	tok, _ := srv.Freezer().IssueToken("admin")
	tr := &inFlight{}
	c, err := freezer.New(srv.URL(), freezer.WithToken(tok),
		freezer.WithRESTOptions(rest.WithHTTPClient(&http.Client{Transport: tr}), rest.WithRetry(0, 0, 0)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for range 5 {
		if _, err := c.Create(ctx, freezertest.NewJob("n1", "")); err != nil {
			t.Fatal(err)
		}
	}
	before := tr.total
	for _, err := range c.All(ctx, &freezer.ListOptions{Limit: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		break
	}
	if n := tr.total - before; n != 1 {
		t.Errorf("a loop that stopped at once sent %d requests, want 1", n)
	}

	var items, errs int
	for _, err := range c.All(ctx, &freezer.ListOptions{Limit: 2}) {
		if err != nil {
			errs++
			if !isAPIError(err, 503) {
				t.Errorf("page error %v", err)
			}
			continue
		}
		items++
		if items == 2 { // the first page is read: the next one fails
			srv.Faults().Add(sim.Fault{Method: http.MethodGet, PathPrefix: "/v1/jobs", Status: 503, Body: `{"title": "busy"}`})
		}
	}
	if items != 2 || errs != 1 {
		t.Errorf("%d jobs and %d errors, want 2 and 1", items, errs)
	}
}
