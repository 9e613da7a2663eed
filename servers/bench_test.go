package servers_test

import (
	"context"
	"testing"
	"time"

	"github.com/longrun/longrun/cloudsigma"
	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/servers"
	"github.com/longrun/longrun/testutil/cstest"
)

// naiveSource refreshes a tree the way a simple client would: the root,
// then one GET per child.
type naiveSource struct{ svc *cloudsigma.JobsService }

func (n naiveSource) Fetch(ctx context.Context, ids ...string) ([]*jobs.Job, error) {
	var out []*jobs.Job
	for _, id := range ids {
		w, err := n.svc.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		j := w.ToJob()
		for i, c := range w.Children {
			cw, err := n.svc.Get(ctx, c.UUID)
			if err != nil {
				return nil, err
			}
			j.Children[i] = cw.ToJob()
		}
		out = append(out, j)
	}
	return out, nil
}

// BenchmarkWaitServerClone clones a server with 100 disks and waits for
// the whole tree. It reports HTTP requests per wait (the clone POST not
// counted) and per poll round: "push" listens to the async websocket (the
// goal: one fetch, whatever the clone's length; between pushes jobs.Wait
// still reconciles every 30 s by default, "push-10m" every 10 minutes),
// "poll" polls the tree in one request a round, "naive" GETs every child
// each round (101).
func BenchmarkWaitServerClone(b *testing.B) {
	for _, mode := range []string{"push", "push-10m", "poll", "naive"} {
		b.Run(mode, func(b *testing.B) {
			ctx := context.Background()
			srv := fake.NewServer(b, fake.Options{})
			id, err := srv.CloudSigma().AddServerWithDisks("admin@example.com", "wide", 100, 4<<30)
			if err != nil {
				b.Fatal(err)
			}
			c, cnt := cstest.Client(b, srv)
			svc := servers.New(c)
			var src jobs.Source = svc.Client().Jobs
			if mode == "naive" {
				src = naiveSource{svc.Client().Jobs}
			}
			push := mode == "push" || mode == "push-10m"
			wopts := []jobs.Option{jobs.WithClock(srv.Clock())}
			if mode == "push-10m" {
				wopts = append(wopts, jobs.WithInterval(time.Second, 10*time.Minute))
			}
			if push {
				// Open the client's one websocket before the clock starts.
				if _, err := svc.Client().Jobs.Changes(ctx, "warm-up"); err != nil {
					b.Fatal(err)
				}
			}
			var reqs, rounds int64
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				clone, err := svc.Clone(ctx, id, nil, nil)
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				before := cnt.N.Load()
				var wsrc jobs.Source = &countingSource{Source: src, n: &n}
				if push {
					wsrc = &countingPusher{countingSource{Source: src, n: &n}}
				}
				job, err := jobs.Wait(ctx, wsrc, clone.Jobs[0].UUID, wopts...)
				if err != nil || len(job.Children) != 100 {
					b.Fatal(err)
				}
				reqs += cnt.N.Load() - before
				rounds += int64(n)
			}
			b.ReportMetric(float64(reqs)/float64(b.N), "requests/wait")
			b.ReportMetric(float64(reqs)/float64(max(rounds, 1)), "requests/round")
			b.ReportMetric(float64(rounds)/float64(b.N), "rounds/wait")
		})
	}
}

// countingPusher is a countingSource that passes pushes through.
type countingPusher struct{ countingSource }

func (p *countingPusher) Changes(ctx context.Context, id string) (<-chan *jobs.Job, error) {
	return p.Source.(jobs.Pusher).Changes(ctx, id)
}
