package otel_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	lrotel "github.com/longrun/longrun/contrib/otel"
	"github.com/longrun/longrun/fake/sim"
	"github.com/longrun/longrun/jobs"
)

// cloneSource is a server clone job of two drive clones, moving ten
// points a poll, with an optional push stream.
type cloneSource struct {
	mu    sync.Mutex
	polls int
	push  chan *jobs.Job
}

func (s *cloneSource) Fetch(ctx context.Context, ids ...string) ([]*jobs.Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.polls++
	pct := min(100, float64(s.polls*25))
	var out []*jobs.Job
	for _, id := range ids {
		if id != "clone-1" {
			continue
		}
		st := jobs.StateRunning
		if pct >= 100 {
			st = jobs.StateSucceeded
		}
		root := &jobs.Job{ID: id, Dialect: "cloudsigma", Operation: "server_clone", State: st, RawState: "started",
			Progress: jobs.Progress{Percent: pct, Known: true}}
		for _, d := range []string{"drive-a", "drive-b"} {
			root.Children = append(root.Children, &jobs.Job{ID: d, Dialect: "cloudsigma", Operation: "drive_clone",
				State: st, RawState: "started", Progress: jobs.Progress{Percent: pct, Known: true}})
		}
		out = append(out, root)
	}
	return out, nil
}

func providers(t *testing.T) (*tracetest.SpanRecorder, *sdktrace.TracerProvider, *sdkmetric.ManualReader, *sdkmetric.MeterProvider) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()); _ = mp.Shutdown(context.Background()) })
	return rec, tp, reader, mp
}

func metricsByName(t *testing.T, reader *sdkmetric.ManualReader) map[string]metricdata.Metrics {
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		assert.Equal(t, lrotel.ScopeName, sm.Scope.Name)
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

func sumOf(t *testing.T, m metricdata.Metrics) int64 {
	t.Helper()
	s, ok := m.Data.(metricdata.Sum[int64])
	require.True(t, ok, "%s is a sum", m.Name)
	var n int64
	for _, dp := range s.DataPoints {
		n += dp.Value
	}
	return n
}

func TestSpansAndMetricsOfAServerCloneWait(t *testing.T) {
	rec, tp, reader, mp := providers(t)
	obs, err := lrotel.NewObserver(lrotel.WithTracerProvider(tp), lrotel.WithMeterProvider(mp))
	require.NoError(t, err)
	clk := sim.NewClock(sim.Epoch)
	clk.SetAuto(true)

	job, err := jobs.Wait(context.Background(), &cloneSource{}, "clone-1", jobs.WithClock(clk), jobs.WithObserver(obs))
	require.NoError(t, err)
	require.True(t, job.TreeDone())

	spans := rec.Ended()
	require.Len(t, spans, 1)
	sp := spans[0]
	assert.Equal(t, "longrun.wait", sp.Name())
	attrs := map[string]string{}
	for _, kv := range sp.Attributes() {
		attrs[string(kv.Key)] = kv.Value.Emit()
	}
	assert.Equal(t, "clone-1", attrs["longrun.job.id"])
	assert.Equal(t, "cloudsigma", attrs["longrun.dialect"])
	assert.Equal(t, "succeeded", attrs["longrun.outcome"])
	assert.Equal(t, codes.Unset, sp.Status().Code)
	// One event per changed snapshot: 25, 50, 75, 100.
	var pcts []string
	for _, ev := range sp.Events() {
		require.Equal(t, "progress", ev.Name)
		for _, kv := range ev.Attributes {
			if kv.Key == lrotel.AttrPercent {
				pcts = append(pcts, kv.Value.Emit())
			}
			if kv.Key == lrotel.AttrVia {
				assert.Equal(t, "poll", kv.Value.AsString())
			}
		}
	}
	assert.Equal(t, []string{"25", "50", "75", "100"}, pcts)

	m := metricsByName(t, reader)
	assert.Equal(t, int64(0), sumOf(t, m["longrun.jobs.watched"]), "no wait left in progress")
	assert.Equal(t, int64(1), sumOf(t, m["longrun.waits"]))
	assert.Equal(t, int64(4), sumOf(t, m["longrun.snapshots"]))
	assert.Equal(t, int64(4), sumOf(t, m["longrun.rounds"]))
	reqs, ok := m["longrun.round.requests"].Data.(metricdata.Histogram[int64])
	require.True(t, ok)
	require.Len(t, reqs.DataPoints, 1)
	assert.Equal(t, uint64(4), reqs.DataPoints[0].Count)
	assert.Equal(t, int64(4), reqs.DataPoints[0].Sum, "one request per round: the children come nested")
	lag, ok := m["longrun.wait.completion_lag"].Data.(metricdata.Histogram[float64])
	require.True(t, ok)
	require.Len(t, lag.DataPoints, 1)
	assert.Equal(t, uint64(1), lag.DataPoints[0].Count)
}

type pushClone struct {
	*cloneSource
}

func (p pushClone) Changes(ctx context.Context, id string) (<-chan *jobs.Job, error) {
	return p.push, nil
}

// Fetch never answers: only the push can end the wait.
func (p pushClone) Fetch(ctx context.Context, ids ...string) ([]*jobs.Job, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestWatcherPushAndFailureAreReported(t *testing.T) {
	rec, tp, reader, mp := providers(t)
	obs, err := lrotel.NewObserver(lrotel.WithTracerProvider(tp), lrotel.WithMeterProvider(mp))
	require.NoError(t, err)
	src := pushClone{&cloneSource{push: make(chan *jobs.Job, 1)}}
	src.push <- &jobs.Job{ID: "clone-1", Dialect: "cloudsigma", State: jobs.StateFailed, RawState: "error", Message: "no space"}
	never := sim.NewClock(sim.Epoch) // manual and never stepped: only the push can end the wait
	w := jobs.NewWatcher(src, jobs.WithClock(never), jobs.WithObserver(obs))
	defer w.Close()
	_, err = w.Wait(context.Background(), "clone-1")
	require.ErrorIs(t, err, jobs.ErrJobFailed)

	spans := rec.Ended()
	require.Len(t, spans, 1)
	assert.Equal(t, codes.Error, spans[0].Status().Code)
	var outcome, shared string
	for _, kv := range spans[0].Attributes() {
		switch kv.Key {
		case lrotel.AttrOutcome:
			outcome = kv.Value.AsString()
		case lrotel.AttrShared:
			shared = kv.Value.Emit()
		}
	}
	assert.Equal(t, "failed", outcome)
	assert.Equal(t, "true", shared)

	m := metricsByName(t, reader)
	if snaps, ok := m["longrun.snapshots"]; ok {
		assert.Zero(t, sumOf(t, snaps), "a failure ends the wait without a progress snapshot")
	}
	waits := m["longrun.waits"].Data.(metricdata.Sum[int64])
	require.Len(t, waits.DataPoints, 1)
	o, _ := waits.DataPoints[0].Attributes.Value(lrotel.AttrOutcome)
	assert.Equal(t, "failed", o.AsString())
	lag := m["longrun.wait.completion_lag"].Data.(metricdata.Histogram[float64])
	require.Len(t, lag.DataPoints, 1)
	via, _ := lag.DataPoints[0].Attributes.Value(lrotel.AttrVia)
	assert.Equal(t, "push", via.AsString(), "the final snapshot came by push")
	assert.Less(t, lag.DataPoints[0].Sum, 0.5)
}

func TestOffByDefault(t *testing.T) {
	obs, err := lrotel.NewObserver()
	require.NoError(t, err)
	_, err = jobs.Wait(context.Background(), &cloneSource{}, "clone-1", jobs.WithObserver(obs), jobs.WithInterval(time.Millisecond, time.Millisecond))
	require.NoError(t, err)
	_, err = lrotel.NewObserver(lrotel.WithTracerProvider(nil))
	require.Error(t, err)
}

func TestTransportMakesASpanPerRequest(t *testing.T) {
	rec, tp, _, _ := providers(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte("{}"))
	}))
	defer srv.Close()
	rt, err := lrotel.NewTransport(nil, lrotel.WithTracerProvider(tp))
	require.NoError(t, err)
	c := &http.Client{Transport: rt}
	for _, p := range []string{"/jobs/?auth_token=s3cret", "/missing"} {
		resp, err := c.Get(srv.URL + p)
		require.NoError(t, err)
		_ = resp.Body.Close()
	}
	_, err = c.Get("http://127.0.0.1:1/unreachable")
	require.Error(t, err)
	spans := rec.Ended()
	require.Len(t, spans, 3)
	for _, sp := range spans {
		assert.Equal(t, "HTTP GET", sp.Name())
		for _, kv := range sp.Attributes() {
			assert.NotContains(t, kv.Value.Emit(), "s3cret")
		}
	}
	assert.Equal(t, codes.Unset, spans[0].Status().Code)
	assert.Equal(t, codes.Error, spans[1].Status().Code)
	assert.Equal(t, codes.Error, spans[2].Status().Code)
}
