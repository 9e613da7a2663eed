package jobs_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/longrun/longrun/fake/sim"
	"github.com/longrun/longrun/jobs"
)

func TestWatcherSharesOneFetchPerRound(t *testing.T) {
	clk := sim.NewClock(sim.Epoch) // manual: time moves only below
	src := newMemSource(clk)
	const n = 1000
	for i := range n {
		src.add(&spec{id: fmt.Sprintf("job-%04d", i), dur: time.Duration(1+i%7) * time.Minute})
	}
	w := jobs.NewWatcher(src, jobs.WithClock(clk), jobs.WithInterval(time.Second, 10*time.Second))
	defer w.Close()

	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			job, err := w.Wait(context.Background(), fmt.Sprintf("job-%04d", i))
			if err == nil && !job.TreeDone() {
				err = fmt.Errorf("not done: %+v", job)
			}
			errs[i] = err
		}()
	}
	close(start)
	for w.Watching() < n { // every wait registered before time moves
		runtime.Gosched()
	}
	stepUntilDone(clk, &wg)
	for i, err := range errs {
		require.NoError(t, err, i)
	}
	st := w.Stats()
	fetches, rounds := src.stats()
	assert.Equal(t, st.Fetches, fetches)
	// One Fetch a round, whatever the number of waits: never one per job.
	assert.Equal(t, st.Rounds, fetches)
	// Waits arriving one by one may each get a first poll of their own at
	// once; after that every round serves them all. Seven fake minutes at
	// 1-10 s intervals is at most 420 rounds, never 1000 x rounds.
	assert.LessOrEqual(t, st.FirstRounds, n)
	assert.LessOrEqual(t, st.Rounds-st.FirstRounds, 7*60+1)
	biggest := 0
	for _, r := range rounds {
		biggest = max(biggest, len(r))
	}
	assert.Greater(t, biggest, 100, "waits were batched together")
}

func TestWatcherOneCancelledWaitLeavesOthersAlone(t *testing.T) {
	clk := autoClock()
	src := newMemSource(clk)
	src.add(&spec{id: "long", dur: time.Hour})
	src.add(&spec{id: "short", dur: time.Minute})
	w := jobs.NewWatcher(src, jobs.WithClock(clk))
	defer w.Close()

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := w.Wait(ctx, "long")
	require.ErrorIs(t, err, context.Canceled)

	job, err := w.Wait(context.Background(), "short")
	require.NoError(t, err)
	assert.True(t, job.TreeDone())
}

func TestWatcherFailureAndNotFound(t *testing.T) {
	clk := autoClock()
	src := newMemSource(clk)
	src.add(&spec{id: "bad", dur: time.Hour, failAt: 10})
	w := jobs.NewWatcher(src, jobs.WithClock(clk))
	defer w.Close()
	_, err := w.Wait(context.Background(), "bad")
	require.ErrorIs(t, err, jobs.ErrJobFailed)
	_, err = w.Wait(context.Background(), "ghost")
	require.ErrorIs(t, err, jobs.ErrNotFound)
}

func TestWatcherOnProgressPerWait(t *testing.T) {
	clk := autoClock()
	src := newMemSource(clk)
	src.serverClone("srv", 3, true, 5*time.Minute)
	w := jobs.NewWatcher(src, jobs.WithClock(clk))
	defer w.Close()
	var last *jobs.Job
	calls := 0
	job, err := w.Wait(context.Background(), "srv", jobs.WithOnProgress(func(j *jobs.Job) { last = j; calls++ }))
	require.NoError(t, err)
	assert.Greater(t, calls, 1)
	assert.Equal(t, 100.0, last.Aggregate().Percent)
	assert.Len(t, job.Children, 3)
	assert.True(t, job.TreeDone())
}

func TestWatcherCloseEndsPendingWaits(t *testing.T) {
	src := newMemSource(autoClock())
	src.add(&spec{id: "x", dur: time.Hour})
	stuck := make(chan time.Time)
	w := jobs.NewWatcher(src, jobs.WithClock(stuckClock{stuck}))
	got := make(chan error, 1)
	go func() {
		_, err := w.Wait(context.Background(), "x")
		got <- err
	}()
	// Wait for the first round before closing.
	for {
		if f, _ := src.stats(); f > 0 {
			break
		}
		runtime.Gosched()
	}
	require.NoError(t, w.Close())
	require.ErrorIs(t, <-got, jobs.ErrWatcherClosed)
	_, err := w.Wait(context.Background(), "x")
	require.ErrorIs(t, err, jobs.ErrWatcherClosed)
}

// BenchmarkWatcher1000Jobs follows a thousand jobs of one to seven fake
// minutes on one Watcher, stepping a manual clock a second at a time.
func BenchmarkWatcher1000Jobs(b *testing.B) {
	var fetches, rounds, first int
	for b.Loop() {
		clk := sim.NewClock(sim.Epoch)
		src := newMemSource(clk)
		for i := range 1000 {
			src.add(&spec{id: fmt.Sprintf("job-%04d", i), dur: time.Duration(1+i%7) * time.Minute})
		}
		w := jobs.NewWatcher(src, jobs.WithClock(clk), jobs.WithInterval(time.Second, 10*time.Second))
		var wg sync.WaitGroup
		for i := range 1000 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _ = w.Wait(context.Background(), fmt.Sprintf("job-%04d", i))
			}()
		}
		for w.Watching() < 1000 { // every wait registered before time moves
			runtime.Gosched()
		}
		stepUntilDone(clk, &wg)
		st := w.Stats()
		_ = w.Close()
		fetches += st.Fetches
		rounds += st.Rounds
		first += st.FirstRounds
	}
	b.ReportMetric(float64(fetches)/float64(b.N), "fetches/op")
	b.ReportMetric(float64(rounds)/float64(b.N), "rounds/op")
	b.ReportMetric(float64(first)/float64(b.N), "first-rounds/op")
}

// stuckPusher's streams never send and never close, even after their
// context ends.
type stuckPusher struct{ *memSource }

func (p stuckPusher) Changes(ctx context.Context, id string) (<-chan *jobs.Job, error) {
	return make(chan *jobs.Job), nil
}

func TestWatcherDoesNotLeakForwardersOfStuckPushStreams(t *testing.T) {
	clk := autoClock()
	ms := newMemSource(clk)
	ms.add(&spec{id: "x", dur: time.Minute})
	w := jobs.NewWatcher(stuckPusher{ms}, jobs.WithClock(clk), jobs.WithInterval(time.Second, 10*time.Second))
	job, err := w.Wait(context.Background(), "x")
	require.NoError(t, err)
	assert.True(t, job.TreeDone())
	require.NoError(t, w.Close())
	for i := 0; goroutinesIn("jobs.(*Watcher).Wait") > 0; i++ {
		require.Less(t, i, 1000, "a goroutine of Watcher.Wait outlived it")
		runtime.Gosched()
	}
}

// goroutinesIn counts goroutines with fn on their stack.
func goroutinesIn(fn string) int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, fn) {
			n++
		}
	}
	return n
}

// recordClock is an auto-advancing clock that records every pause asked of it.
type recordClock struct {
	*sim.Clock
	mu     sync.Mutex
	pauses []time.Duration
}

func (c *recordClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	c.pauses = append(c.pauses, d)
	c.mu.Unlock()
	return c.Clock.After(d)
}

func TestWaitPausesAreClippedToTheDeadline(t *testing.T) {
	for _, shared := range []bool{false, true} {
		t.Run(fmt.Sprint("watcher=", shared), func(t *testing.T) {
			clk := &recordClock{Clock: autoClock()}
			// Twenty polls that see no change, so the backoff grows to
			// two hours; the deadline is an hour of wall time away (it
			// never comes during the test).
			ms := &scriptSource{}
			for range 20 {
				ms.script = append(ms.script, &jobs.Job{ID: "x", State: jobs.StateRunning})
			}
			ms.script = append(ms.script, &jobs.Job{ID: "x", State: jobs.StateSucceeded})
			ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
			defer cancel()
			opts := []jobs.Option{jobs.WithClock(clk), jobs.WithInterval(10*time.Minute, 2*time.Hour)}
			var err error
			if shared {
				w := jobs.NewWatcher(ms, opts...)
				defer w.Close()
				_, err = w.Wait(ctx, "x")
			} else {
				_, err = jobs.Wait(ctx, ms, "x", opts...)
			}
			require.NoError(t, err)
			clk.mu.Lock()
			defer clk.mu.Unlock()
			require.NotEmpty(t, clk.pauses)
			for _, d := range clk.pauses {
				assert.LessOrEqual(t, d, time.Hour, "a pause past the wait's deadline")
			}
		})
	}
}

// stepUntilDone steps a manual clock a second at a time until every
// goroutine of wg has returned.
func stepUntilDone(clk *sim.Clock, wg *sync.WaitGroup) {
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	for {
		select {
		case <-finished:
			return
		default:
		}
		// Move time only while the poller sleeps on its timer, and only to
		// that timer: rounds then happen exactly when the policy says,
		// however slowly this machine runs them.
		if clk.Pending() == 0 {
			runtime.Gosched()
			continue
		}
		clk.RunUntilIdle(time.Hour)
	}
}

// pickySource refuses a whole batch that holds the id "bad" once ten
// seconds have passed, as a service refuses a list filter with one id it
// no longer accepts.
type pickySource struct{ *memSource }

func (p pickySource) Fetch(ctx context.Context, ids ...string) ([]*jobs.Job, error) {
	if p.clk.Since(p.start) >= 10*time.Second {
		for _, id := range ids {
			if id == "bad" {
				return nil, errPermanent
			}
		}
	}
	return p.memSource.Fetch(ctx, ids...)
}

func TestWatcherOneBadIDDoesNotFailTheOtherWaits(t *testing.T) {
	clk := autoClock()
	ms := newMemSource(clk)
	ms.add(&spec{id: "good", dur: time.Minute})
	ms.add(&spec{id: "bad", dur: time.Hour})
	w := jobs.NewWatcher(pickySource{ms}, jobs.WithClock(clk), jobs.WithInterval(time.Second, 5*time.Second))
	defer w.Close()
	var wg sync.WaitGroup
	var goodErr, badErr error
	wg.Add(2)
	go func() { defer wg.Done(); _, goodErr = w.Wait(context.Background(), "good") }()
	go func() { defer wg.Done(); _, badErr = w.Wait(context.Background(), "bad") }()
	wg.Wait()
	require.NoError(t, goodErr)
	require.ErrorIs(t, badErr, errPermanent)
}

// flakyPusher's first stream breaks at once; the next one pushes the
// finished job. Polls only ever see it running.
type flakyPusher struct {
	mu   sync.Mutex
	subs int
}

func (p *flakyPusher) Fetch(ctx context.Context, ids ...string) ([]*jobs.Job, error) {
	return []*jobs.Job{{ID: ids[0], State: jobs.StateRunning}}, nil
}

func (p *flakyPusher) Changes(ctx context.Context, id string) (<-chan *jobs.Job, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.subs++
	ch := make(chan *jobs.Job, 1)
	if p.subs == 1 {
		close(ch)
	} else {
		ch <- &jobs.Job{ID: id, State: jobs.StateSucceeded}
	}
	return ch, nil
}

func TestWatcherSubscribesAgainAfterAPushStreamBreaks(t *testing.T) {
	for _, shared := range []bool{false, true} {
		t.Run(fmt.Sprint("watcher=", shared), func(t *testing.T) {
			clk := autoClock()
			src := &flakyPusher{}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second) // only if it never ends
			defer cancel()
			var job *jobs.Job
			var err error
			if shared {
				w := jobs.NewWatcher(src, jobs.WithClock(clk))
				defer w.Close()
				job, err = w.Wait(ctx, "x")
			} else {
				job, err = jobs.Wait(ctx, src, "x", jobs.WithClock(clk))
			}
			require.NoError(t, err)
			assert.True(t, job.TreeDone())
		})
	}
}
