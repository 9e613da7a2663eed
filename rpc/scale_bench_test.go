package rpc

import (
	"context"
	"encoding/json"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/fake/sim"
	"github.com/longrun/longrun/fake/truenas"
	"github.com/longrun/longrun/jobs"
)

// BenchmarkFollowJobs follows N jobs of the fake on one Conn (what
// jobs.Wait and a Watcher do through Changes) and reports the heap each
// followed job costs once it has reported a RUNNING state, the
// goroutines the Conn added, the requests and time of one check round
// (core.get_jobs of every id, split under the 64 kB frame limit the fake
// enforces), and that every job's completion was seen. Run it with
// -benchtime 1x; sizes 1,000, 10,000 and 100,000.
func BenchmarkFollowJobs(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			for b.Loop() {
				followJobs(b, n)
			}
		})
	}
}

// startBenchJobs starts n jobs in a fresh fake on a manual clock: each
// reports 50% after a second and succeeds a second later.
func startBenchJobs(b *testing.B, n int) (srv *fake.Server, clk *sim.Clock, ids []string, nums []int64) {
	clk = sim.NewClock(sim.Epoch)
	srv = fake.NewServer(nil, fake.Options{Clock: clk})
	nas := srv.TrueNAS()
	nas.RegisterJobMethod("bench.quick", truenas.JobMethod{Run: func(r *truenas.JobRun) (any, error) {
		if err := r.Sleep(time.Second); err != nil {
			return nil, err
		}
		r.SetProgress(50, "half way", nil)
		return true, r.Sleep(time.Second)
	}})
	user := srv.Env().Users()[0]
	ids = make([]string, n)
	nums = make([]int64, n)
	for i := range n {
		j, err := nas.StartJob(user, "bench.quick", []json.RawMessage{json.RawMessage(strconv.Itoa(i))}, truenas.Pipes{})
		if err != nil {
			srv.Close()
			b.Fatal(err)
		}
		ids[i] = strconv.Itoa(j.ID())
		nums[i] = int64(j.ID())
	}
	return srv, clk, ids, nums
}

func followJobs(b *testing.B, n int) {
	srv, clk, ids, nums := startBenchJobs(b, n)
	defer srv.Close()
	user := srv.Env().Users()[0]
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, err := Dial(ctx, srv.WebsocketURL(), WithAPIKey(user.Name, user.APIKey), WithClock(clk),
		WithReconcile(time.Hour, time.Hour), WithEventBuffer(1<<16))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if err := c.ensureJobsSub(ctx); err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	g0 := runtime.NumGoroutine()
	chans := make([]<-chan *jobs.Job, n)
	for i, id := range ids {
		if chans[i], err = c.Changes(ctx, id); err != nil {
			b.Fatal(err)
		}
	}
	goroutines := runtime.NumGoroutine() - g0
	// Each job reports RUNNING at 50%.
	clk.Advance(time.Second)
	for i := range chans {
		for j := range chans[i] {
			if j.Progress.Percent == 50 {
				break
			}
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	heap := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(n)

	// One check round of every followed job.
	start := time.Now()
	raws, err := c.fetchEntries(ctx, nums)
	round := time.Since(start)
	if err != nil || len(raws) != n {
		b.Fatalf("check round: %d of %d entries, %v", len(raws), n, err)
	}

	clk.Advance(time.Second)
	seen := 0
	for i := range chans {
		for j := range chans[i] {
			if j.State == jobs.StateSucceeded {
				seen++
				break
			}
		}
	}
	if seen != n {
		b.Fatalf("saw %d of %d completions", seen, n)
	}
	b.ReportMetric(heap, "heapB/job")
	b.ReportMetric(float64(goroutines), "goroutines")
	b.ReportMetric(float64(len(chunkIDs(nums))), "requests/round")
	b.ReportMetric(float64(round.Milliseconds()), "ms/round")
	runtime.KeepAlive(chans)
}

func TestChunkIDsStayUnderTheFrameLimit(t *testing.T) {
	ids := make([]int64, 100000)
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	chunks := chunkIDs(ids)
	var joined []int64
	for _, ch := range chunks {
		req, _ := json.Marshal(request{JSONRPC: "2.0", ID: 1 << 40, Method: collectionJobs,
			Params: []any{[]Filter{Where("id", In, ch)}, QueryOptions{Extra: map[string]any{"raw_result": true}}}})
		leg, _ := legacyRequest(1<<40, collectionJobs, []any{[]Filter{Where("id", In, ch)}, QueryOptions{Extra: map[string]any{"raw_result": true}}})
		if len(req) >= MaxFrame || len(leg) >= MaxFrame {
			t.Fatalf("a frame of %d / %d bytes", len(req), len(leg))
		}
		joined = append(joined, ch...)
	}
	if len(joined) != len(ids) || len(chunks) < 2 {
		t.Fatalf("%d ids in %d chunks", len(joined), len(chunks))
	}
}

// TestFetchManyIDs: jobs.Source.Fetch of 100,000 ids against the fake,
// which closes a socket that sends a frame over 64 kB (1009), as the
// middleware does.
func TestFetchManyIDs(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{})
	user := srv.Env().Users()[0]
	c, err := Dial(context.Background(), srv.WebsocketURL(), WithAPIKey(user.Name, user.APIKey), WithoutReconnect())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.CallJob(context.Background(), "catalog.sync"); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 100000)
	for i := range ids {
		ids[i] = strconv.Itoa(i + 1)
	}
	got, err := c.Fetch(context.Background(), ids...)
	if err != nil || len(got) != 1 || got[0].ID != "1" {
		t.Fatalf("Fetch: %d jobs, %v", len(got), err)
	}
}

// BenchmarkWatcherJobs follows N jobs of the fake with jobs.WaitAsync on
// one jobs.Watcher over one Conn (a MultiPusher: one AllChanges stream
// for every wait) and reports the growth curve the scale issue asks for:
// every job seen (it fails otherwise), core.get_jobs frames the fake
// received and poll rounds, snapshots taken by push, heap per wait and
// goroutines once every wait is registered and polled, the mean and
// longest poll round, and the time from the first wait to the last one's
// end (most of it the fake and the SDK handling two events per job). Run it
// with -benchtime 1x.
func BenchmarkWatcherJobs(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			for range b.N {
				watchJobs(b, n)
			}
		})
	}
}

// countRounds is a jobs.Observer that adds up a Watcher's rounds.
type countRounds struct {
	mu      sync.Mutex
	ids     int
	rounds  int
	took    time.Duration // all rounds
	longest time.Duration
}

func (o *countRounds) WaitStarted(ctx context.Context, _ jobs.WaitInfo) (context.Context, jobs.WaitObserver) {
	return ctx, nil
}

func (o *countRounds) Round(_ context.Context, info jobs.RoundInfo) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.rounds++
	o.took += info.Duration
	o.longest = max(o.longest, info.Duration)
	if info.Err == nil {
		o.ids += info.IDs
	}
}

func (o *countRounds) polled() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.ids
}

func watchJobs(b *testing.B, n int) {
	b.StopTimer()
	srv, clk, ids, _ := startBenchJobs(b, n)
	defer srv.Close()
	nas := srv.TrueNAS()
	user := srv.Env().Users()[0]
	ctx := context.Background()
	c, err := Dial(ctx, srv.WebsocketURL(), WithAPIKey(user.Name, user.APIKey), WithClock(clk))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	// Let the fake build its own per-job caches (each entry's JSON and
	// its decoded form for the filters) before the heap is read: the
	// figure is the SDK's, not the fake's.
	if _, err := c.Fetch(ctx, ids...); err != nil {
		b.Fatal(err)
	}
	calls0 := nas.Calls(collectionJobs)
	runtime.GC()
	var before, mid runtime.MemStats
	runtime.ReadMemStats(&before)
	g0 := runtime.NumGoroutine()

	b.StartTimer()
	start := time.Now()
	obs := &countRounds{}
	w := jobs.NewWatcher(c, jobs.WithClock(clk), jobs.WithInterval(time.Second, 30*time.Second), jobs.WithObserver(obs))
	defer w.Close()
	var wg sync.WaitGroup
	var failed atomic.Int64
	wg.Add(n)
	for _, id := range ids {
		err := w.WaitAsync(ctx, id, func(j *jobs.Job, err error) {
			if err != nil || j == nil || j.State != jobs.StateSucceeded {
				failed.Add(1)
			}
			wg.Done()
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	for obs.polled() < n {
		runtime.Gosched()
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&mid)
	goroutines := runtime.NumGoroutine() - g0
	b.StartTimer()
	clk.Advance(time.Second) // every job reports 50%
	clk.Advance(time.Second) // and ends
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	st := w.Stats()
	if f := failed.Load(); f != 0 {
		b.Fatalf("%d of %d waits did not succeed", f, n)
	}
	frames := nas.Calls(collectionJobs) - calls0
	b.ReportMetric(float64(frames), "get_jobs-frames")
	b.ReportMetric(float64(st.Rounds), "rounds")
	b.ReportMetric(float64(frames)/float64(max(st.Rounds, 1)), "frames/round")
	b.ReportMetric(float64(st.Pushes), "pushes")
	b.ReportMetric((float64(mid.HeapAlloc)-float64(before.HeapAlloc))/float64(n), "heapB/job")
	b.ReportMetric(float64(goroutines), "goroutines")
	b.ReportMetric(float64(obs.took.Milliseconds())/float64(max(obs.rounds, 1)), "ms/round")
	b.ReportMetric(float64(obs.longest.Milliseconds()), "ms/longest-round")
	b.ReportMetric(float64(elapsed.Milliseconds()), "ms-total")
}
