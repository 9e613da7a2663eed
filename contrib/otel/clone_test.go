package otel_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/longrun/longrun/cloudsigma"
	lrotel "github.com/longrun/longrun/contrib/otel"
	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/servers"
)

// A CloudSigma server clone against the fake, through the otel transport
// and with the Observer: one wait span (with the requests as its children)
// and the round metrics.
func TestSpansAndMetricsOfACloudSigmaServerCloneAgainstTheFake(t *testing.T) {
	rec, tp, reader, mp := providers(t)
	obs, err := lrotel.NewObserver(lrotel.WithTracerProvider(tp), lrotel.WithMeterProvider(mp))
	require.NoError(t, err)
	rt, err := lrotel.NewTransport(nil, lrotel.WithTracerProvider(tp))
	require.NoError(t, err)

	srv := fake.NewServer(t, fake.Options{})
	u := srv.Env().Users()[0]
	c, err := cloudsigma.New(srv.CloudSigmaURL(), u.Email, u.Password,
		cloudsigma.WithHTTPClient(&http.Client{Transport: rt}), cloudsigma.WithClock(srv.Clock()), cloudsigma.WithoutPush())
	require.NoError(t, err)
	defer c.Close()
	ss := servers.New(c)
	ctx := context.Background()
	page, err := ss.List(ctx, &servers.ListOptions{Filters: map[string][]string{"name": {"web-1"}}})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)

	_, job, err := ss.CloneAndWait(ctx, page.Items[0].UUID, &servers.CloneRequest{Name: "traced"}, nil,
		jobs.WithObserver(obs), jobs.WithClock(srv.Clock()))
	require.NoError(t, err)
	require.True(t, job.TreeDone())
	require.NotEmpty(t, job.Children, "a server clone has a drive clone per disk")

	var wait *spanView
	var requests []spanView
	for _, sp := range rec.Ended() {
		v := spanView{name: sp.Name(), attrs: map[string]string{}, parent: sp.Parent().SpanID().String(), id: sp.SpanContext().SpanID().String(), events: len(sp.Events())}
		for _, kv := range sp.Attributes() {
			v.attrs[string(kv.Key)] = kv.Value.Emit()
		}
		if v.name == "longrun.wait" {
			wait = &v
		} else {
			requests = append(requests, v)
		}
	}
	require.NotNil(t, wait)
	assert.Equal(t, job.ID, wait.attrs["longrun.job.id"])
	assert.Equal(t, "cloudsigma", wait.attrs["longrun.dialect"])
	assert.Equal(t, "succeeded", wait.attrs["longrun.outcome"])
	assert.Positive(t, wait.events, "a progress event per changed snapshot")
	polls := 0
	for _, r := range requests {
		assert.True(t, strings.HasPrefix(r.name, "HTTP "), r.name)
		assert.NotContains(t, r.attrs["url.full"], u.Password)
		if r.parent == wait.id {
			polls++ // the wait's own requests are its children
			assert.Contains(t, r.attrs["url.full"], "/jobs/")
		}
	}
	assert.Positive(t, polls)

	m := metricsByName(t, reader)
	assert.Equal(t, int64(1), sumOf(t, m["longrun.waits"]))
	assert.Equal(t, int64(0), sumOf(t, m["longrun.jobs.watched"]))
	reqs := m["longrun.round.requests"].Data.(metricdata.Histogram[int64])
	var rounds uint64
	var total int64
	for _, dp := range reqs.DataPoints {
		rounds += dp.Count
		total += dp.Sum
	}
	assert.Positive(t, rounds)
	assert.Equal(t, int64(polls), total, "every request the rounds counted is a span under the wait")
}

type spanView struct {
	name, parent, id string
	attrs            map[string]string
	events           int
}
