// Package otel reports longrun's waits and requests to OpenTelemetry: a
// span per Wait (dialect, job id, outcome) with an event for each changed
// snapshot, metrics of the fetch rounds (requests per round, watched jobs,
// push versus poll, completion lag), and an http.RoundTripper that makes a
// span per request of the REST-based clients.
//
// Nothing is reported unless a TracerProvider or MeterProvider is given:
//
//	obs, err := otel.NewObserver(otel.WithTracerProvider(tp), otel.WithMeterProvider(mp))
//	job, err := jobs.Wait(ctx, src, id, jobs.WithObserver(obs))
//
// It is a module of its own, so longrun's core does not depend on
// OpenTelemetry.
package otel

import (
	"context"
	"errors"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/longrun/longrun/internal/redact"
	"github.com/longrun/longrun/jobs"
)

// ScopeName is the instrumentation scope of every tracer and meter.
const ScopeName = "github.com/longrun/longrun/contrib/otel"

// Attribute keys.
const (
	AttrJobID     = attribute.Key("longrun.job.id")
	AttrDialect   = attribute.Key("longrun.dialect")
	AttrOutcome   = attribute.Key("longrun.outcome")
	AttrVia       = attribute.Key("longrun.via")
	AttrShared    = attribute.Key("longrun.shared")
	AttrPercent   = attribute.Key("longrun.progress.percent")
	AttrState     = attribute.Key("longrun.state")
	AttrRawState  = attribute.Key("longrun.raw_state")
	AttrListed    = attribute.Key("longrun.round.listed")
	AttrOperation = attribute.Key("longrun.operation")
)

// Option configures NewObserver and NewTransport.
type Option func(*options) error

type options struct {
	tp trace.TracerProvider
	mp metric.MeterProvider
}

// WithTracerProvider makes spans with tp. Without it no span is made.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(o *options) error {
		if tp == nil {
			return errors.New("otel: nil TracerProvider")
		}
		o.tp = tp
		return nil
	}
}

// WithMeterProvider records metrics with mp. Without it none is recorded.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(o *options) error {
		if mp == nil {
			return errors.New("otel: nil MeterProvider")
		}
		o.mp = mp
		return nil
	}
}

func newOptions(opts []Option) (options, error) {
	o := options{tp: tracenoop.NewTracerProvider(), mp: metricnoop.NewMeterProvider()}
	for _, f := range opts {
		if err := f(&o); err != nil {
			return o, err
		}
	}
	return o, nil
}

// Observer is a jobs.Observer that makes a span per wait and records the
// wait and round metrics. Build it with NewObserver; it is safe for
// concurrent use by any number of waits and Watchers.
type Observer struct {
	tracer trace.Tracer

	watched   metric.Int64UpDownCounter
	waits     metric.Int64Counter
	snapshots metric.Int64Counter
	lag       metric.Float64Histogram
	rounds    metric.Int64Counter
	perRound  metric.Int64Histogram
	idsRound  metric.Int64Histogram
	roundDur  metric.Float64Histogram
}

// NewObserver returns an Observer reporting to the given providers.
func NewObserver(opts ...Option) (*Observer, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	m := o.mp.Meter(ScopeName)
	ob := &Observer{tracer: o.tp.Tracer(ScopeName)}
	var errs []error
	add := func(err error) { errs = append(errs, err) }
	ob.watched, err = m.Int64UpDownCounter("longrun.jobs.watched", metric.WithDescription("Waits in progress."), metric.WithUnit("{job}"))
	add(err)
	ob.waits, err = m.Int64Counter("longrun.waits", metric.WithDescription("Waits ended, by outcome."), metric.WithUnit("{wait}"))
	add(err)
	ob.snapshots, err = m.Int64Counter("longrun.snapshots", metric.WithDescription("Changed snapshots, by how they arrived (push or poll)."), metric.WithUnit("{snapshot}"))
	add(err)
	ob.lag, err = m.Float64Histogram("longrun.wait.completion_lag", metric.WithDescription("Time from the final snapshot reaching longrun to the wait returning."), metric.WithUnit("s"))
	add(err)
	ob.rounds, err = m.Int64Counter("longrun.rounds", metric.WithDescription("Fetch rounds."), metric.WithUnit("{round}"))
	add(err)
	ob.perRound, err = m.Int64Histogram("longrun.round.requests", metric.WithDescription("Requests to the service per fetch round."), metric.WithUnit("{request}"))
	add(err)
	ob.idsRound, err = m.Int64Histogram("longrun.round.ids", metric.WithDescription("Job ids asked for per fetch round."), metric.WithUnit("{job}"))
	add(err)
	ob.roundDur, err = m.Float64Histogram("longrun.round.duration", metric.WithDescription("Wall time of a fetch round's requests."), metric.WithUnit("s"))
	add(err)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return ob, nil
}

var _ jobs.Observer = (*Observer)(nil)

// WaitStarted starts the wait's span ("longrun.wait") and counts the job
// as watched.
func (ob *Observer) WaitStarted(ctx context.Context, info jobs.WaitInfo) (context.Context, jobs.WaitObserver) {
	attrs := []attribute.KeyValue{AttrJobID.String(info.ID), AttrShared.Bool(info.Shared)}
	if info.Dialect != "" {
		attrs = append(attrs, AttrDialect.String(string(info.Dialect)))
	}
	ctx, span := ob.tracer.Start(ctx, "longrun.wait", trace.WithAttributes(attrs...))
	w := &waitObs{ob: ob, ctx: ctx, span: span, dialect: info.Dialect}
	ob.watched.Add(ctx, 1, w.metricAttrs())
	return ctx, w
}

// Round records a fetch round: requests, ids and duration.
func (ob *Observer) Round(ctx context.Context, info jobs.RoundInfo) {
	set := metric.WithAttributes(AttrListed.Bool(info.Listed))
	ob.rounds.Add(ctx, 1, set)
	ob.perRound.Record(ctx, int64(info.Requests), set)
	ob.idsRound.Record(ctx, int64(info.IDs), set)
	ob.roundDur.Record(ctx, info.Duration.Seconds(), set)
}

type waitObs struct {
	ob      *Observer
	ctx     context.Context
	span    trace.Span
	dialect jobs.Dialect
}

func (w *waitObs) metricAttrs() metric.MeasurementOption {
	return metric.WithAttributes(AttrDialect.String(string(w.dialect)))
}

// Snapshot adds a "progress" event to the span and counts the snapshot by
// how it arrived.
func (w *waitObs) Snapshot(job *jobs.Job, via jobs.Via) {
	if w.dialect == "" && job.Dialect != "" {
		w.dialect = job.Dialect
		w.span.SetAttributes(AttrDialect.String(string(job.Dialect)))
	}
	p := job.Aggregate()
	attrs := []attribute.KeyValue{AttrState.String(string(job.State)), AttrVia.String(string(via))}
	if p.Known {
		attrs = append(attrs, AttrPercent.Float64(p.Percent))
	}
	if job.RawState != "" {
		attrs = append(attrs, AttrRawState.String(job.RawState))
	}
	if job.Operation != "" {
		attrs = append(attrs, AttrOperation.String(job.Operation))
	}
	w.span.AddEvent("progress", trace.WithAttributes(attrs...))
	w.ob.snapshots.Add(w.ctx, 1, metric.WithAttributes(AttrDialect.String(string(w.dialect)), AttrVia.String(string(via))))
}

// Ended sets the outcome, records the completion lag and ends the span.
func (w *waitObs) Ended(e jobs.WaitEnd) {
	if w.dialect == "" && e.Job != nil && e.Job.Dialect != "" {
		w.dialect = e.Job.Dialect
		w.span.SetAttributes(AttrDialect.String(string(w.dialect)))
	}
	w.span.SetAttributes(AttrOutcome.String(string(e.Outcome)))
	if e.Err != nil {
		w.span.RecordError(e.Err)
		w.span.SetStatus(codes.Error, string(e.Outcome))
	}
	attrs := metric.WithAttributes(AttrDialect.String(string(w.dialect)), AttrOutcome.String(string(e.Outcome)))
	w.ob.waits.Add(w.ctx, 1, attrs)
	if e.Lag > 0 || e.Outcome == jobs.OutcomeSucceeded {
		w.ob.lag.Record(w.ctx, e.Lag.Seconds(), metric.WithAttributes(AttrDialect.String(string(w.dialect)), AttrVia.String(string(e.Via))))
	}
	w.ob.watched.Add(w.ctx, -1, w.metricAttrs())
	w.span.End()
}

// NewTransport wraps base (http.DefaultTransport when nil) so that each
// request gets a client span named after its method, with the redacted
// URL, the status code, and an error status on a transport error or a
// status of 400 or more. Give it to a client through
// rest.WithHTTPClient(&http.Client{Transport: t}).
func NewTransport(base http.RoundTripper, opts ...Option) (http.RoundTripper, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{base: base, tracer: o.tp.Tracer(ScopeName)}, nil
}

type transport struct {
	base   http.RoundTripper
	tracer trace.Tracer
}

// RoundTrip makes the request's span around base.RoundTrip.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, span := t.tracer.Start(req.Context(), "HTTP "+req.Method, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(
			attribute.String("http.request.method", req.Method),
			attribute.String("url.full", redact.URL(req.URL)),
			attribute.String("server.address", req.URL.Hostname()),
		))
	start := time.Now()
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		span.RecordError(errors.New(redact.String(err.Error())))
		span.SetStatus(codes.Error, "transport error")
		span.End()
		return resp, err
	}
	span.SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode),
		attribute.Float64("longrun.http.duration_s", time.Since(start).Seconds()))
	if resp.StatusCode >= 400 {
		span.SetStatus(codes.Error, http.StatusText(resp.StatusCode))
	}
	span.End()
	return resp, nil
}
