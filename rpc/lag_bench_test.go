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
// and max lag, and the p50 and p99 of the SDK's own part of it (from the
// final snapshot reaching longrun off the socket to Wait returning, as
// jobs.WaitEnd.Lag reports it; the rest is the fake sending its event and
// the loopback socket); watcher=true waits through one shared
// jobs.Watcher.
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
			obs := &lagObserver{ends: make(chan jobs.WaitEnd, 1)}
			ctx := context.Background()
			c, err := rpc.Dial(ctx, srv.WebsocketURL(), rpc.WithAPIKey("admin", "1-longrunfakeapikey"))
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			var w *jobs.Watcher
			if shared {
				w = jobs.NewWatcher(c, jobs.WithInterval(time.Second, time.Minute), jobs.WithObserver(obs))
				defer w.Close()
			}
			srv.Env().Faults.Inject(sim.FaultSlowReplies, -1)
			user := srv.Env().Users()[0]
			var lags, sdk []time.Duration
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
					got, err = jobs.Wait(ctx, c, id, jobs.WithInterval(time.Second, time.Minute), jobs.WithObserver(obs))
				}
				returned := time.Now()
				if err != nil {
					b.Fatal(err)
				}
				if got.State != jobs.StateSucceeded {
					b.Fatalf("job %s ended %s", id, got.RawState)
				}
				lags = append(lags, returned.Sub(<-ended))
				sdk = append(sdk, (<-obs.ends).Lag)
			}
			slices.Sort(lags)
			slices.Sort(sdk)
			b.ReportMetric(float64(lags[len(lags)/2].Microseconds())/1000, "p50-lag-ms")
			b.ReportMetric(float64(lags[len(lags)*99/100].Microseconds())/1000, "p99-lag-ms")
			b.ReportMetric(float64(lags[len(lags)-1].Microseconds())/1000, "max-lag-ms")
			b.ReportMetric(float64(sdk[len(sdk)/2].Microseconds())/1000, "p50-sdk-ms")
			b.ReportMetric(float64(sdk[len(sdk)*99/100].Microseconds())/1000, "p99-sdk-ms")
		})
	}
}

// lagObserver hands each wait's end (with its Lag) to the benchmark.
type lagObserver struct{ ends chan jobs.WaitEnd }

func (o *lagObserver) WaitStarted(ctx context.Context, _ jobs.WaitInfo) (context.Context, jobs.WaitObserver) {
	return ctx, lagEnd{o}
}

func (o *lagObserver) Round(context.Context, jobs.RoundInfo) {}

type lagEnd struct{ o *lagObserver }

func (lagEnd) Snapshot(*jobs.Job, jobs.Via) {}
func (e lagEnd) Ended(info jobs.WaitEnd)    { e.o.ends <- info }
