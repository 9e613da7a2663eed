package otel_test

import (
	"context"
	"fmt"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	lrotel "github.com/longrun/longrun/contrib/otel"
	"github.com/longrun/longrun/jobs"
)

// A wait reported as a span. A real program passes its own
// TracerProvider (an OTLP exporter); this one records spans in memory.
func ExampleNewObserver() {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer tp.Shutdown(context.Background())

	obs, err := lrotel.NewObserver(lrotel.WithTracerProvider(tp))
	if err != nil {
		panic(err)
	}
	src := jobs.SourceFunc(func(ctx context.Context, ids ...string) ([]*jobs.Job, error) {
		return []*jobs.Job{{ID: ids[0], Dialect: "truenas", State: jobs.StateSucceeded}}, nil
	})
	if _, err := jobs.Wait(context.Background(), src, "42", jobs.WithObserver(obs)); err != nil {
		panic(err)
	}
	for _, sp := range rec.Ended() {
		fmt.Println(sp.Name())
		for _, kv := range sp.Attributes() {
			fmt.Printf("  %s=%s\n", kv.Key, kv.Value.Emit())
		}
	}
	// Output:
	// longrun.wait
	//   longrun.job.id=42
	//   longrun.shared=false
	//   longrun.dialect=truenas
	//   longrun.outcome=succeeded
}
