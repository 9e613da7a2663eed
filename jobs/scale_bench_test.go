package jobs_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/longrun/longrun/fake/sim"
	"github.com/longrun/longrun/jobs"
)

// lagSource is a Pusher whose Fetch takes rtt of wall time, as a request
// to a service does, and whose job ends (pushed) when the benchmark says.
type lagSource struct {
	rtt  time.Duration
	mu   sync.Mutex
	done bool
	ch   chan *jobs.Job
}

func (s *lagSource) Fetch(ctx context.Context, ids ...string) ([]*jobs.Job, error) {
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	select {
	case <-time.After(s.rtt):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return []*jobs.Job{lagJob(ids[0], done)}, nil
}

func (s *lagSource) Changes(ctx context.Context, id string) (<-chan *jobs.Job, error) {
	return s.ch, nil
}

func lagJob(id string, done bool) *jobs.Job {
	if done {
		return &jobs.Job{ID: id, State: jobs.StateSucceeded, Progress: jobs.Progress{Percent: 100, Known: true}}
	}
	return &jobs.Job{ID: id, State: jobs.StateRunning, Progress: jobs.Progress{Percent: 50, Known: true}}
}

// BenchmarkCompletionLag measures the time from the service's final event
// (the push of the finished job) to Wait returning, when the job ends 2-4
// ms after the wait starts and a poll takes 10 ms: the push lands while
// the first poll is in flight. It reports p50 and p99 lag.
func BenchmarkCompletionLag(b *testing.B) {
	for _, shared := range []bool{false, true} {
		b.Run(fmt.Sprint("watcher=", shared), func(b *testing.B) {
			var lags []time.Duration
			for b.Loop() {
				src := &lagSource{rtt: 10 * time.Millisecond, ch: make(chan *jobs.Job, 1)}
				var w *jobs.Watcher
				if shared {
					w = jobs.NewWatcher(src, jobs.WithInterval(time.Second, time.Minute))
				}
				end := make(chan time.Time, 1)
				go func() {
					time.Sleep(2*time.Millisecond + rand.N(2*time.Millisecond))
					src.mu.Lock()
					src.done = true
					src.mu.Unlock()
					end <- time.Now()
					src.ch <- lagJob("x", true)
				}()
				var err error
				if shared {
					_, err = w.Wait(context.Background(), "x")
				} else {
					_, err = jobs.Wait(context.Background(), src, "x", jobs.WithInterval(time.Second, time.Minute))
				}
				returned := time.Now()
				if err != nil {
					b.Fatal(err)
				}
				lags = append(lags, returned.Sub(<-end))
				if w != nil {
					_ = w.Close()
				}
			}
			slices.Sort(lags)
			b.ReportMetric(float64(lags[len(lags)/2].Microseconds())/1000, "p50-lag-ms")
			b.ReportMetric(float64(lags[len(lags)*99/100].Microseconds())/1000, "p99-lag-ms")
		})
	}
}

// scaleSource is a synthetic in-memory Source of n leaf jobs that all move
// together: every Fetch builds fresh documents, as a decoder would. It
// accepts batches of at most maxBatch ids, lists running jobs a page of
// listPage at a time (when listPage > 0), and pushes on one shared stream.
type scaleSource struct {
	maxBatch int
	listPage int
	n        int
	percent  atomic.Int64
	fetches  atomic.Int64
	ids      []string
}

func newScaleSource(n, maxBatch, listPage int) *scaleSource {
	s := &scaleSource{n: n, maxBatch: maxBatch, listPage: listPage}
	s.ids = make([]string, n)
	for i := range n {
		s.ids[i] = fmt.Sprintf("job-%07d", i)
	}
	return s
}

func (s *scaleSource) doc(id string) *jobs.Job {
	p := float64(s.percent.Load())
	j := &jobs.Job{ID: id, Operation: "scale", RawState: "started", State: jobs.StateRunning,
		Progress: jobs.Progress{Percent: p, Known: true}}
	if p >= 100 {
		j.State, j.RawState = jobs.StateSucceeded, "success"
	}
	return j
}

func (s *scaleSource) Fetch(ctx context.Context, ids ...string) ([]*jobs.Job, error) {
	s.fetches.Add(1)
	if s.maxBatch > 0 && len(ids) > s.maxBatch {
		return nil, fmt.Errorf("scale: %d ids in one request, the service accepts %d", len(ids), s.maxBatch)
	}
	out := make([]*jobs.Job, len(ids))
	for i, id := range ids {
		out[i] = s.doc(id)
	}
	return out, nil
}

func (s *scaleSource) MaxBatch() int { return s.maxBatch }

// scaleLister is a scaleSource that can also list its running jobs.
type scaleLister struct{ *scaleSource }

func (s scaleLister) ListRunning(ctx context.Context, offset int) (*jobs.Page[*jobs.Job], error) {
	s.fetches.Add(1)
	if s.percent.Load() >= 100 {
		return &jobs.Page[*jobs.Job]{Offset: offset, Limit: s.listPage, Total: 0}, nil
	}
	end := min(s.n, offset+s.listPage)
	p := &jobs.Page[*jobs.Job]{Offset: offset, Limit: s.listPage, Total: s.n, More: end < s.n}
	for _, id := range s.ids[offset:end] {
		p.Items = append(p.Items, s.doc(id))
	}
	return p, nil
}

// BenchmarkWatcherScale follows n jobs on one Watcher and reports, once
// every wait has had its first poll, the heap held per watched job (the
// waiting goroutines' stacks apart), the goroutines in all, and then, over
// three rounds where every job changes, the requests and wall time per
// round. It checks that every wait ends well.
func BenchmarkWatcherScale(b *testing.B) {
	for _, tc := range []struct {
		name     string
		maxBatch int
		listPage int
		async    bool
	}{
		{"batch=1000", 1000, 0, false},
		{"batch=1000/async", 1000, 0, true},
		{"batch=100/list=1000", 100, 1000, false},
	} {
		for _, n := range []int{1000, 10000, 100000} {
			b.Run(fmt.Sprintf("%s/jobs=%d", tc.name, n), func(b *testing.B) {
				for b.Loop() {
					scaleRun(b, n, tc.maxBatch, tc.listPage, tc.async)
				}
			})
		}
	}
}

func scaleRun(b *testing.B, n, maxBatch, listPage int, async bool) {
	clk := sim.NewClock(sim.Epoch)
	ss := newScaleSource(n, maxBatch, listPage)
	var src jobs.Source = ss
	if listPage > 0 {
		src = scaleLister{ss}
	}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	g0 := runtime.NumGoroutine()

	w := jobs.NewWatcher(src, jobs.WithClock(clk), jobs.WithInterval(time.Second, time.Second))
	defer w.Close()
	var wg sync.WaitGroup
	var failed atomic.Int64
	for _, id := range ss.ids {
		wg.Add(1)
		if async {
			err := w.WaitAsync(context.Background(), id, func(job *jobs.Job, err error) {
				if err != nil || !job.TreeDone() {
					failed.Add(1)
				}
				wg.Done()
			})
			if err != nil {
				b.Fatal(err)
			}
			continue
		}
		go func() {
			defer wg.Done()
			job, err := w.Wait(context.Background(), id)
			if err != nil || !job.TreeDone() {
				failed.Add(1)
			}
		}()
	}
	for w.Watching() < n {
		runtime.Gosched()
	}
	// Every wait has had its first poll when the poller sleeps on its
	// timer with all of them polled.
	settle := func() {
		for clk.Pending() == 0 {
			time.Sleep(50 * time.Microsecond)
		}
	}
	settle()
	clk.Advance(time.Second) // a full round: every wait polled at least once
	settle()
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	goroutines := runtime.NumGoroutine() - g0

	st0 := w.Stats()
	start := time.Now()
	const rounds = 3
	for r := 1; r <= rounds; r++ {
		ss.percent.Store(int64(r * 10))
		clk.Advance(time.Second)
		settle()
	}
	elapsed := time.Since(start)
	st1 := w.Stats()
	ss.percent.Store(100)
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	for {
		select {
		case <-finished:
		default:
			if clk.Pending() > 0 {
				clk.Advance(time.Second)
			} else {
				time.Sleep(50 * time.Microsecond)
			}
			continue
		}
		break
	}
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d of %d waits did not end well", f, n)
	}
	heap := float64(after.HeapAlloc) - float64(before.HeapAlloc)
	stack := float64(after.StackInuse) - float64(before.StackInuse)
	b.ReportMetric(heap/float64(n), "heap-B/job")
	b.ReportMetric(stack/float64(n), "waiter-stack-B/job")
	if async {
		b.ReportMetric(float64(goroutines), "goroutines")
	} else {
		b.ReportMetric(float64(goroutines-n), "goroutines-beyond-waiters")
	}
	b.ReportMetric(float64(st1.Fetches-st0.Fetches)/rounds, "requests/round")
	b.ReportMetric(float64(elapsed.Microseconds())/1000/rounds, "ms/round")
}

// BenchmarkWatcherPushScale follows n jobs with WaitAsync over one shared
// push stream (a MultiPusher) and pushes every job's end: it reports the
// subscriptions (one), the goroutines in all, the heap per job while
// waiting, and the time from the first final push to the last wait's end,
// per job.
func BenchmarkWatcherPushScale(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprint("jobs=", n), func(b *testing.B) {
			for b.Loop() {
				ids := make([]string, n)
				for i := range ids {
					ids[i] = fmt.Sprintf("job-%07d", i)
				}
				src := &multiSource{ch: make(chan *jobs.Job, 1024)}
				runtime.GC()
				var before runtime.MemStats
				runtime.ReadMemStats(&before)
				g0 := runtime.NumGoroutine()
				w := jobs.NewWatcher(src, jobs.WithClock(stuckClock{make(chan time.Time)}))
				var wg sync.WaitGroup
				var failed atomic.Int64
				wg.Add(n)
				for _, id := range ids {
					if err := w.WaitAsync(context.Background(), id, func(job *jobs.Job, err error) {
						if err != nil || !job.TreeDone() {
							failed.Add(1)
						}
						wg.Done()
					}); err != nil {
						b.Fatal(err)
					}
				}
				for src.fetches.Load() == 0 { // the first poll round is under way
					runtime.Gosched()
				}
				runtime.GC()
				var after runtime.MemStats
				runtime.ReadMemStats(&after)
				goroutines := runtime.NumGoroutine() - g0
				start := time.Now()
				for _, id := range ids {
					src.ch <- &jobs.Job{ID: id, State: jobs.StateSucceeded}
				}
				wg.Wait()
				elapsed := time.Since(start)
				_ = w.Close()
				if f := failed.Load(); f > 0 {
					b.Fatalf("%d waits failed", f)
				}
				b.ReportMetric(float64(src.subs.Load()), "subscriptions")
				b.ReportMetric(float64(goroutines), "goroutines")
				b.ReportMetric((float64(after.HeapAlloc)-float64(before.HeapAlloc))/float64(n), "heap-B/job")
				b.ReportMetric(float64(elapsed.Nanoseconds())/float64(n)/1000, "µs-per-push")
			}
		})
	}
}
