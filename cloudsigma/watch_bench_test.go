package cloudsigma_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/longrun/longrun/cloudsigma"
	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/servers"
)

// countingTransport counts the HTTP requests the SDK sends.
type countingTransport struct{ n atomic.Int64 }

func (t *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

// BenchmarkWatcherClones follows N server clones (one disk each, so 2N jobs
// in the fake) on one jobs.Watcher with WaitAsync against the fake, and
// reports what the growth curve asks: every job seen, requests and
// rounds, pushes, heap per watched job, goroutines, the time the watch
// took (watch-ms, and watch-cpu-ms: the process's CPU time, fake and
// GC included, steadier than wall time on a shared machine) and the
// untimed setup (setup-ms: N clone POSTs, four at a time).
// 100,000 runs only with LONGRUN_BIG=1 (its setup takes 20-30 s, the
// watch about 10 s).
func BenchmarkWatcherClones(b *testing.B) {
	sizes := []int{1000, 10000}
	if os.Getenv("LONGRUN_BIG") != "" {
		sizes = append(sizes, 100000)
	}
	for _, n := range sizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for range b.N {
				watchClones(b, n)
			}
		})
	}
}

// settle waits until the number of goroutines has not changed for 100 ms
// (the fake's ends of closed connections exit), at most two seconds.
func settle() {
	last, same := runtime.NumGoroutine(), 0
	for range 200 {
		time.Sleep(10 * time.Millisecond)
		n := runtime.NumGoroutine()
		if n != last {
			last, same = n, 0
			continue
		}
		if same++; same == 10 {
			return
		}
	}
}

func watchClones(b *testing.B, n int) {
	b.StopTimer()
	srv := fake.NewServer(b, fake.Options{})
	u := srv.Env().Users()[0]
	src, err := srv.CloudSigma().AddServerWithDisks(u.Email, "wide", 1, 1<<30)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	// The starter has connections of its own, closed before the watch, so
	// the goroutines counted are the watch's, its connections included.
	startTr := &http.Transport{MaxIdleConnsPerHost: 4}
	starter, err := cloudsigma.New(srv.CloudSigmaURL(), u.Email, u.Password, cloudsigma.WithoutPush(),
		cloudsigma.WithHTTPClient(&http.Client{Transport: startTr}))
	if err != nil {
		b.Fatal(err)
	}
	defer starter.Close()
	ss := servers.New(starter)
	setup := time.Now()
	// The clone POSTs, from a few goroutines: the client's share of each
	// (HTTP, decoding the answer) runs in parallel with the fake's.
	ids := make([]string, n)
	var next atomic.Int64
	var cloneErr error
	var once sync.Once
	var cloners sync.WaitGroup
	for range 4 {
		cloners.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				s, err := ss.Clone(ctx, src, &servers.CloneRequest{Name: fmt.Sprint("c", i)}, nil)
				if err != nil {
					once.Do(func() { cloneErr = err })
					return
				}
				ids[i] = s.Jobs[0].UUID
			}
		})
	}
	cloners.Wait()
	if cloneErr != nil {
		b.Fatal(cloneErr)
	}
	setupTime := time.Since(setup)
	startTr.CloseIdleConnections()
	settle()

	tr := &countingTransport{}
	c, err := cloudsigma.New(srv.CloudSigmaURL(), u.Email, u.Password,
		cloudsigma.WithHTTPClient(&http.Client{Transport: tr}), cloudsigma.WithClock(srv.Clock()))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	g0 := runtime.NumGoroutine()

	b.StartTimer()
	start, cpu0 := time.Now(), cpuTime()
	w := jobs.NewWatcher(c.Jobs, jobs.WithClock(srv.Clock()), jobs.WithInterval(time.Second, 30*time.Second))
	var wg sync.WaitGroup
	var failed atomic.Int64
	var peakG atomic.Int64 // the most goroutines seen as waits end
	wg.Add(n)
	for _, id := range ids {
		if err := w.WaitAsync(ctx, id, func(j *jobs.Job, err error) {
			if err != nil || j == nil || !j.Done() {
				failed.Add(1)
			}
			for g := int64(runtime.NumGoroutine()); ; {
				p := peakG.Load()
				if g <= p || peakG.CompareAndSwap(p, g) {
					break
				}
			}
			wg.Done()
		}); err != nil {
			b.Fatal(err)
		}
	}
	// Once every wait is registered: the heap they hold.
	var mid runtime.MemStats
	runtime.ReadMemStats(&mid)
	wg.Wait()
	elapsed, cpu := time.Since(start), cpuTime()-cpu0
	b.StopTimer()
	st := w.Stats()
	w.Close()
	if f := failed.Load(); f != 0 {
		b.Fatalf("%d of %d waits did not end done", f, n)
	}
	heapPerJob := float64(int64(mid.HeapAlloc)-int64(before.HeapAlloc)) / float64(n)
	b.ReportMetric(float64(tr.n.Load()), "requests")
	b.ReportMetric(float64(st.Rounds), "rounds")
	b.ReportMetric(float64(tr.n.Load())/float64(max(st.Rounds, 1)), "requests/round")
	b.ReportMetric(float64(st.Pushes), "pushes")
	b.ReportMetric(heapPerJob, "heapB/job")
	b.ReportMetric(float64(peakG.Load()-int64(g0)), "goroutines")
	b.ReportMetric(float64(elapsed.Milliseconds())/float64(max(st.Rounds, 1)), "ms/round")
	b.ReportMetric(float64(setupTime.Milliseconds()), "setup-ms")
	b.ReportMetric(float64(elapsed.Milliseconds()), "watch-ms")
	b.ReportMetric(float64(cpu.Milliseconds()), "watch-cpu-ms")
	b.StartTimer()
}
