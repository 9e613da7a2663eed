package jobs_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/longrun/longrun/fake/sim"
	"github.com/longrun/longrun/jobs"
)

// waitAll runs a Watcher wait for each id and returns their errors once
// all have ended, stepping clk whenever the poller sleeps.
// then runs once every wait is registered.
func waitAll(t *testing.T, w *jobs.Watcher, clk *sim.Clock, ids []string, then func()) []error {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, len(ids))
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			job, err := w.Wait(context.Background(), id)
			if err == nil && !job.TreeDone() {
				err = fmt.Errorf("%s not done", id)
			}
			errs[i] = err
		}()
	}
	for w.Watching() < len(ids) {
		runtime.Gosched()
	}
	then()
	stepUntilDone(clk, &wg)
	return errs
}

func TestWatcherChunksBatchesToMaxBatch(t *testing.T) {
	clk := sim.NewClock(sim.Epoch)
	src := newScaleSource(250, 100, 0) // refuses more than 100 ids at once
	rec := &recObserver{}
	w := jobs.NewWatcher(src, jobs.WithClock(clk), jobs.WithObserver(rec))
	defer w.Close()
	then := func() {
		r0 := w.Stats().Rounds
		go func() {
			for w.Stats().Rounds < r0+2 {
				runtime.Gosched()
			}
			src.percent.Store(100)
		}()
	}
	for i, err := range waitAll(t, w, clk, src.ids, then) {
		require.NoError(t, err, i)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	full := 0
	for _, r := range rec.rounds {
		require.NoError(t, r.Err)
		assert.Equal(t, (r.IDs+99)/100, r.Requests, "ids per request stay within MaxBatch")
		if r.IDs == 250 {
			full++
		}
	}
	assert.Positive(t, full, "a round asked for every job (in 3 requests)")
}

func TestWatcherListsRunningJobsWhenThatIsCheaper(t *testing.T) {
	clk := sim.NewClock(sim.Epoch)
	ss := newScaleSource(1000, 10, 500) // by id: 100 requests; a list: 2 pages
	src := scaleLister{ss}
	ss.percent.Store(50)
	rec := &recObserver{}
	w := jobs.NewWatcher(src, jobs.WithClock(clk), jobs.WithObserver(rec))
	defer w.Close()
	listedAll := func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		for _, r := range rec.rounds {
			if r.Listed && r.IDs == 1000 {
				return true
			}
		}
		return false
	}
	then := func() {
		go func() {
			for !listedAll() {
				runtime.Gosched()
			}
			ss.percent.Store(100)
		}()
	}
	for i, err := range waitAll(t, w, clk, ss.ids, then) {
		require.NoError(t, err, i)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	cheap := false
	for _, r := range rec.rounds {
		if r.Listed && r.IDs == 1000 && r.Requests == 2 {
			cheap = true // two pages held every job: nothing asked by id
		}
		if !r.Listed {
			assert.Equal(t, (r.IDs+9)/10, r.Requests)
		}
	}
	assert.True(t, cheap, "a round listed 1000 running jobs in 2 requests instead of 100")
	// When the jobs finished the list came back empty and the finished
	// jobs were asked for by id.
	assert.GreaterOrEqual(t, w.Stats().ListRounds, 2)
}

// multiSource pushes every job's changes over one stream; polls always
// see the jobs running.
type multiSource struct {
	subs    atomic.Int64
	fetches atomic.Int64
	ch      chan *jobs.Job
}

func (m *multiSource) Fetch(ctx context.Context, ids ...string) ([]*jobs.Job, error) {
	m.fetches.Add(1)
	out := make([]*jobs.Job, len(ids))
	for i, id := range ids {
		out[i] = &jobs.Job{ID: id, State: jobs.StateRunning}
	}
	return out, nil
}

func (m *multiSource) AllChanges(ctx context.Context) (<-chan *jobs.Job, error) {
	m.subs.Add(1)
	return m.ch, nil
}

func TestWatcherSharesOnePushStreamAndOneGoroutine(t *testing.T) {
	const n = 2000
	src := &multiSource{ch: make(chan *jobs.Job)}
	stuck := stuckClock{make(chan time.Time)} // polls never come back: only pushes end the waits
	w := jobs.NewWatcher(src, jobs.WithClock(stuck))
	defer w.Close()
	g0 := runtime.NumGoroutine()
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = w.Wait(context.Background(), fmt.Sprint("job-", i))
		}()
	}
	for w.Watching() < n {
		runtime.Gosched()
	}
	// The waits' own goroutines, the poller, nothing per job.
	assert.LessOrEqual(t, runtime.NumGoroutine()-g0, n+2)
	for i := range n {
		src.ch <- &jobs.Job{ID: fmt.Sprint("job-", i), State: jobs.StateSucceeded}
	}
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, i)
	}
	assert.Equal(t, int64(1), src.subs.Load(), "one subscription for every wait")
	assert.Equal(t, n, w.Stats().Pushes)
}

func TestWaitFollowsAMultiPusher(t *testing.T) {
	src := &multiSource{ch: make(chan *jobs.Job, 2)}
	src.ch <- &jobs.Job{ID: "other", State: jobs.StateFailed}
	src.ch <- &jobs.Job{ID: "x", State: jobs.StateSucceeded}
	job, err := jobs.Wait(context.Background(), src, "x", jobs.WithClock(stuckClock{make(chan time.Time)}))
	require.NoError(t, err)
	assert.Equal(t, "x", job.ID)
}

func TestWatcherWaitAsyncNeedsNoGoroutinePerWait(t *testing.T) {
	const n = 2000
	clk := sim.NewClock(sim.Epoch)
	src := newMemSource(clk)
	for i := range n {
		src.add(&spec{id: fmt.Sprintf("job-%04d", i), dur: time.Duration(1+i%5) * time.Minute})
	}
	w := jobs.NewWatcher(src, jobs.WithClock(clk), jobs.WithInterval(time.Second, 10*time.Second))
	defer w.Close()
	g0 := runtime.NumGoroutine()
	var wg sync.WaitGroup
	var mu sync.Mutex
	errs := map[string]error{}
	var progress atomic.Int64
	for i := range n {
		id := fmt.Sprintf("job-%04d", i)
		wg.Add(1)
		err := w.WaitAsync(context.Background(), id, func(job *jobs.Job, err error) {
			defer wg.Done()
			if err == nil && (job == nil || !job.TreeDone() || job.ID != id) {
				err = fmt.Errorf("%s: not done: %+v", id, job)
			}
			mu.Lock()
			errs[id] = err
			mu.Unlock()
		}, jobs.WithOnProgress(func(*jobs.Job) { progress.Add(1) }))
		require.NoError(t, err)
	}
	assert.LessOrEqual(t, runtime.NumGoroutine()-g0, 2, "the poller (and a fetch), nothing per wait")
	stepUntilDone(clk, &wg)
	require.Len(t, errs, n)
	for id, err := range errs {
		require.NoError(t, err, id)
	}
	assert.Greater(t, progress.Load(), int64(n), "progress callbacks ran")
	assert.Zero(t, w.Watching())
}

func TestWatcherWaitAsyncEndsWithItsContextAndWithClose(t *testing.T) {
	src := newMemSource(autoClock())
	src.add(&spec{id: "x", dur: time.Hour})
	w := jobs.NewWatcher(src, jobs.WithClock(stuckClock{make(chan time.Time)}))
	got := make(chan error, 3)
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, w.WaitAsync(ctx, "x", func(_ *jobs.Job, err error) { got <- err }))
	require.NoError(t, w.WaitAsync(context.Background(), "x", func(_ *jobs.Job, err error) { got <- err }))
	cancel()
	err := <-got
	var te *jobs.TimeoutError
	require.ErrorAs(t, err, &te)
	require.ErrorIs(t, err, context.Canceled)
	require.NoError(t, w.Close())
	require.ErrorIs(t, <-got, jobs.ErrWatcherClosed)
	require.ErrorIs(t, w.WaitAsync(context.Background(), "x", func(*jobs.Job, error) { t.Error("called after Close") }), jobs.ErrWatcherClosed)
	done, stop := context.WithCancel(context.Background())
	stop()
	w2 := jobs.NewWatcher(src, jobs.WithClock(stuckClock{make(chan time.Time)}))
	defer w2.Close()
	require.NoError(t, w2.WaitAsync(done, "x", func(_ *jobs.Job, err error) { got <- err }))
	require.ErrorIs(t, <-got, context.Canceled, "a context that had ended already")
	for w2.Watching() > 0 {
		runtime.Gosched()
	}
}
