package rpc_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/fake/sim"
	"github.com/longrun/longrun/fake/truenas"
	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/rpc"
)

// BenchmarkCompletionLag measures, against the fake, the time from a
// TrueNAS job's end (the moment its method returns in the fake, before
// the middleware's final event is even sent) to jobs.Wait returning. The
// fake's clock runs 100 times faster than the wall clock and every reply
// is slowed by one fake second (10 ms), so the job ends 2-4 ms after the
// wait starts, while the wait's first core.get_jobs is still in flight:
// the case where a push used to wait for the poll. It reports p50, p99
// and max lag; watcher=true waits through one shared jobs.Watcher.
func BenchmarkCompletionLag(b *testing.B) {
	for _, shared := range []bool{false, true} {
		b.Run(fmt.Sprint("watcher=", shared), func(b *testing.B) {
			clk := sim.NewScaledClock(100)
			srv := fake.NewServer(nil, fake.Options{Clock: clk})
			defer srv.Close()
			nas := srv.TrueNAS()
			ended := make(chan time.Time, 1)
			nas.RegisterJobMethod("bench.lag", truenas.JobMethod{Run: func(r *truenas.JobRun) (any, error) {
				// 200-400 ms of fake time: 2-4 ms of wall time.
				if err := r.Sleep(200*time.Millisecond + rand.N(200*time.Millisecond)); err != nil {
					return nil, err
				}
				ended <- time.Now()
				return true, nil
			}})
			ctx := context.Background()
			c, err := rpc.Dial(ctx, srv.WebsocketURL(), rpc.WithAPIKey("admin", "1-longrunfakeapikey"))
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			var w *jobs.Watcher
			if shared {
				w = jobs.NewWatcher(c, jobs.WithInterval(time.Second, time.Minute))
				defer w.Close()
			}
			srv.Env().Faults.Inject(sim.FaultSlowReplies, -1)
			user := srv.Env().Users()[0]
			var lags []time.Duration
			for b.Loop() {
				j, err := nas.StartJob(user, "bench.lag", []json.RawMessage{}, truenas.Pipes{})
				if err != nil {
					b.Fatal(err)
				}
				id := strconv.Itoa(j.ID())
				var got *jobs.Job
				if shared {
					got, err = w.Wait(ctx, id)
				} else {
					got, err = jobs.Wait(ctx, c, id, jobs.WithInterval(time.Second, time.Minute))
				}
				returned := time.Now()
				if err != nil {
					b.Fatal(err)
				}
				if got.State != jobs.StateSucceeded {
					b.Fatalf("job %s ended %s", id, got.RawState)
				}
				lags = append(lags, returned.Sub(<-ended))
			}
			slices.Sort(lags)
			b.ReportMetric(float64(lags[len(lags)/2].Microseconds())/1000, "p50-lag-ms")
			b.ReportMetric(float64(lags[len(lags)*99/100].Microseconds())/1000, "p99-lag-ms")
			b.ReportMetric(float64(lags[len(lags)-1].Microseconds())/1000, "max-lag-ms")
		})
	}
}
