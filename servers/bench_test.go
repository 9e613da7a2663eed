package servers_test

import (
	"context"
	"testing"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/internal/cstest"
	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/servers"
)

// naiveSource refreshes a tree the way a simple client would: the root,
// then one GET per child.
type naiveSource struct{ svc *jobs.CloudSigma }

func (n naiveSource) Fetch(ctx context.Context, ids ...string) ([]*jobs.Job, error) {
	var out []*jobs.Job
	for _, id := range ids {
		w, err := n.svc.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		j, err := w.ToJob(0)
		if err != nil {
			return nil, err
		}
		for i, c := range w.Children {
			cw, err := n.svc.Get(ctx, c.UUID)
			if err != nil {
				return nil, err
			}
			if j.Children[i], err = cw.ToJob(0); err != nil {
				return nil, err
			}
		}
		out = append(out, j)
	}
	return out, nil
}

// BenchmarkWaitServerClone clones a server with 100 disks and waits for
// the whole tree; it reports HTTP requests per poll round (the goal is at
// most 2; a client that GETs every child is at 101).
func BenchmarkWaitServerClone(b *testing.B) {
	for _, mode := range []string{"longrun", "naive"} {
		b.Run(mode, func(b *testing.B) {
			ctx := context.Background()
			srv := fake.NewServer(b, fake.Options{})
			id, err := srv.CloudSigma().AddServerWithDisks("admin@example.com", "wide", 100, 4<<30)
			if err != nil {
				b.Fatal(err)
			}
			c, cnt := cstest.Client(b, srv)
			svc := servers.New(c)
			var src jobs.Source = svc.Jobs()
			if mode == "naive" {
				src = naiveSource{svc.Jobs()}
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
				job, err := jobs.Wait(ctx, &countingSource{Source: src, n: &n}, clone.Jobs[0].UUID, jobs.WithClock(srv.Clock()))
				if err != nil || len(job.Children) != 100 {
					b.Fatal(err)
				}
				reqs += cnt.N.Load() - before
				rounds += int64(n)
			}
			b.ReportMetric(float64(reqs)/float64(rounds), "requests/round")
			b.ReportMetric(float64(rounds)/float64(b.N), "rounds/wait")
		})
	}
}
