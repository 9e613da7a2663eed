package rpc_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/fake/truenas"
	"github.com/longrun/longrun/rpc"
)

// BenchmarkCall measures core.ping round trips over one connection with
// 1 and 64 concurrent callers (the client keeps at most 20 in flight, the
// middleware's limit), over JSON-RPC and over the legacy protocol (the
// fake's /websocket).
func BenchmarkCall(b *testing.B) {
	for _, proto := range []string{"jsonrpc", "legacy"} {
		for _, callers := range []int{1, 64} {
			b.Run(fmt.Sprintf("%s/callers=%d", proto, callers), func(b *testing.B) {
				srv := fake.NewServer(b, fake.Options{})
				url := srv.WebsocketURL()
				if proto == "legacy" {
					url = legacyURL(b, srv)
				}
				c, err := rpc.Dial(context.Background(), url, rpc.WithAPIKey("admin", "1-longrunfakeapikey"))
				if err != nil {
					b.Fatal(err)
				}
				defer c.Close()
				ctx := context.Background()
				call := func() error {
					var pong string
					return c.Call(ctx, "core.ping", nil, &pong)
				}
				b.ReportAllocs()
				b.ResetTimer()
				if callers == 1 {
					for b.Loop() {
						if err := call(); err != nil {
							b.Fatal(err)
						}
					}
				} else {
					b.SetParallelism((callers + 1) / 2)
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							if err := call(); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
			})
		}
	}
}

// legacyURL is the fake's /websocket endpoint (the legacy protocol).
func legacyURL(_ testing.TB, srv *fake.Server) string { return fakeLegacyURL(srv) }

// BenchmarkEvents measures collection_update events delivered to a
// subscriber: a job on the fake sets its progress b.N times.
func BenchmarkEvents(b *testing.B) {
	srv := fake.NewServer(b, fake.Options{})
	n := b.N
	srv.TrueNAS().RegisterJobMethod("bench.events", truenas.JobMethod{
		Run: func(r *truenas.JobRun) (any, error) {
			for i := range n {
				r.SetProgress(float64(i%99), "", nil)
			}
			return nil, nil
		},
	})
	c, err := rpc.Dial(context.Background(), srv.WebsocketURL(), rpc.WithAPIKey("admin", "1-longrunfakeapikey"),
		rpc.WithEventBuffer(1<<16), rpc.WithLegacyJobs(true))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	sub, err := c.Subscribe(ctx, "core.get_jobs")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	if err := c.Call(ctx, "bench.events", nil, nil); err != nil {
		b.Fatal(err)
	}
	got := 0
	for ev := range sub.C() {
		_ = ev
		got++
		if got >= n {
			break
		}
	}
	b.StopTimer()
	if got < n {
		b.Fatalf("got %d events of %d: %v", got, n, sub.Err())
	}
	b.ReportMetric(float64(got)/b.Elapsed().Seconds(), "events/s")
}
