package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/longrun/longrun/jobs"
)

func TestWaitNestedTreeCompletesWhenEveryNodeIsDone(t *testing.T) {
	clk := autoClock()
	src := newMemSource(clk)
	kids := src.serverClone("srv", 5, false, 10*time.Minute)

	var snaps []*jobs.Job
	job, err := jobs.Wait(context.Background(), src, "srv", jobs.WithClock(clk),
		jobs.WithInterval(time.Second, time.Minute),
		jobs.WithOnProgress(func(j *jobs.Job) { snaps = append(snaps, j) }))
	require.NoError(t, err)
	require.True(t, job.TreeDone())
	require.Len(t, job.Children, 5)
	for _, k := range kids {
		n := job.Find(k)
		require.NotNil(t, n, k)
		assert.Equal(t, 100.0, n.Progress.Percent)
	}
	// The last child takes 4 s longer than the root: the wait must not stop
	// when the root alone reaches 100.
	assert.GreaterOrEqual(t, clk.Since(src.start), 10*time.Minute+4*time.Second)
	// OnProgress saw strictly increasing aggregate progress, never a repeat.
	require.NotEmpty(t, snaps)
	for i := 1; i < len(snaps); i++ {
		assert.Greater(t, snaps[i].Aggregate().Percent, snaps[i-1].Aggregate().Percent)
	}
	assert.Equal(t, 100.0, snaps[len(snaps)-1].Aggregate().Percent)
	// Nested children come with the root: one Fetch per round.
	fetches, rounds := src.stats()
	assert.Equal(t, len(rounds), fetches)
	for _, r := range rounds {
		assert.Equal(t, []string{"srv"}, r)
	}
}

func TestWaitReferencedChildrenAreFetchedInOneBatch(t *testing.T) {
	clk := autoClock()
	src := newMemSource(clk)
	kids := src.serverClone("srv", 100, true, 10*time.Minute)

	job, err := jobs.Wait(context.Background(), src, "srv", jobs.WithClock(clk))
	require.NoError(t, err)
	require.True(t, job.TreeDone())
	require.Len(t, job.Children, 100)

	_, rounds := src.stats()
	// Round 1: the root, then the 100 references in one batch.
	require.GreaterOrEqual(t, len(rounds), 3)
	assert.Equal(t, []string{"srv"}, rounds[0])
	assert.Equal(t, sorted(kids), sorted(rounds[1]))
	// Later rounds ask for the root and the unfinished children together,
	// never for a child that is already done.
	for _, r := range rounds[2:] {
		assert.Equal(t, "srv", r[0])
		assert.LessOrEqual(t, len(r), 101)
	}
	last := rounds[len(rounds)-1]
	assert.Less(t, len(last), 101, "finished children are not fetched again")
}

func TestWaitFailsAtOnceOnAFailedNode(t *testing.T) {
	clk := autoClock()
	src := newMemSource(clk)
	src.add(&spec{id: "a", dur: time.Hour, children: []string{"b", "c"}})
	src.add(&spec{id: "b", dur: time.Hour})
	src.add(&spec{id: "c", dur: time.Hour, failAt: 30})

	job, err := jobs.Wait(context.Background(), src, "a", jobs.WithClock(clk))
	require.Error(t, err)
	assert.True(t, errors.Is(err, jobs.ErrJobFailed))
	assert.False(t, errors.Is(err, jobs.ErrJobAborted))
	var fe *jobs.FailedError
	require.True(t, errors.As(err, &fe))
	assert.Equal(t, "c", fe.Node.ID)
	assert.Equal(t, "a", fe.Job.ID)
	assert.Contains(t, err.Error(), "disk on fire")
	require.NotNil(t, job)
	// It stopped soon after the failure, not at the end of the hour.
	assert.Less(t, clk.Since(src.start), 45*time.Minute)
}

func TestWaitDeadlineReturnsTheLastTree(t *testing.T) {
	clk := autoClock()
	src := newMemSource(clk)
	src.serverClone("srv", 3, false, 10*time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	job, err := jobs.Wait(ctx, src, "srv", jobs.WithClock(clk), jobs.WithOnProgress(func(*jobs.Job) {
		if n++; n == 3 {
			cancel()
		}
	}))
	require.Error(t, err)
	var te *jobs.TimeoutError
	require.True(t, errors.As(err, &te))
	assert.True(t, errors.Is(err, context.Canceled))
	require.NotNil(t, te.Last)
	assert.Same(t, job, te.Last)
	assert.False(t, te.Last.TreeDone())
	assert.Contains(t, err.Error(), "srv")
}

func TestWaitDeadlineExceeded(t *testing.T) {
	// A job that never ends, a real (short) deadline, and a clock that
	// does not move: the wait must end with DeadlineExceeded and the tree.
	src := newMemSource(autoClock())
	src.add(&spec{id: "x", dur: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	blocked := make(chan time.Time)
	job, err := jobs.Wait(ctx, src, "x", jobs.WithClock(stuckClock{blocked}))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.NotNil(t, job)
	assert.Equal(t, "x", job.ID)
}

type stuckClock struct{ c chan time.Time }

func (s stuckClock) Now() time.Time                       { return time.Time{} }
func (s stuckClock) After(time.Duration) <-chan time.Time { return s.c }

func TestWaitRetriesTemporaryErrorsAndHonoursRetryAfter(t *testing.T) {
	clk := autoClock()
	src := newMemSource(clk)
	src.add(&spec{id: "x", dur: time.Minute})
	src.errs = []error{tempErr{retryAfter: 2 * time.Minute}, tempErr{}, tempErr{}}
	job, err := jobs.Wait(context.Background(), src, "x", jobs.WithClock(clk), jobs.WithInterval(time.Second, 5*time.Second))
	require.NoError(t, err)
	assert.True(t, job.TreeDone())
	// The first pause honoured Retry-After: two minutes passed although
	// the backoff alone would have waited at most five seconds a time.
	assert.GreaterOrEqual(t, clk.Since(src.start), 2*time.Minute)
}

func TestWaitStopsOnPermanentError(t *testing.T) {
	clk := autoClock()
	src := newMemSource(clk)
	src.add(&spec{id: "x", dur: time.Minute})
	src.errs = []error{errPermanent}
	_, err := jobs.Wait(context.Background(), src, "x", jobs.WithClock(clk))
	require.ErrorIs(t, err, errPermanent)
}

func TestWaitNotFound(t *testing.T) {
	clk := autoClock()
	src := newMemSource(clk)
	_, err := jobs.Wait(context.Background(), src, "ghost", jobs.WithClock(clk))
	require.ErrorIs(t, err, jobs.ErrNotFound)
	var nf *jobs.NotFoundError
	require.ErrorAs(t, err, &nf)
	assert.Equal(t, "ghost", nf.ID)

	// A referenced child that the service does not know.
	src.add(&spec{id: "p", dur: time.Minute, children: []string{"lost"}, refs: true})
	_, err = jobs.Wait(context.Background(), src, "p", jobs.WithClock(clk))
	require.ErrorAs(t, err, &nf)
	assert.Equal(t, "lost", nf.ID)
}

func TestWaitUnknownState(t *testing.T) {
	clk := autoClock()
	src := newMemSource(clk)
	src.add(&spec{id: "x", dur: time.Hour, state: "paused_by_operator"})
	_, err := jobs.Wait(context.Background(), src, "x", jobs.WithClock(clk), jobs.WithFailOnUnknownState(), jobs.WithInterval(time.Minute, 5*time.Minute))
	require.ErrorIs(t, err, jobs.ErrUnknownState)
	assert.Contains(t, err.Error(), "paused_by_operator")

	// Without the option an unknown state is waited on, shown to
	// OnProgress unharmed, until the caller's context ends.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	updates := 0
	job, err := jobs.Wait(ctx, src, "x", jobs.WithClock(clk), jobs.WithInterval(time.Minute, 5*time.Minute),
		jobs.WithOnProgress(func(j *jobs.Job) {
			assert.Equal(t, "paused_by_operator", j.RawState)
			if updates++; updates == 3 {
				cancel()
			}
		}))
	var te *jobs.TimeoutError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "paused_by_operator", job.RawState)
	assert.Equal(t, jobs.StateUnknown, job.State)
	assert.Contains(t, err.Error(), "paused_by_operator")
}

func TestWaitCyclicReferencesEndInTreeError(t *testing.T) {
	clk := autoClock()
	src := newMemSource(clk)
	src.add(&spec{id: "a", dur: time.Hour, children: []string{"b"}, refs: true})
	src.add(&spec{id: "b", dur: time.Hour, children: []string{"a"}, refs: true})
	_, err := jobs.Wait(context.Background(), src, "a", jobs.WithClock(clk))
	require.ErrorIs(t, err, jobs.ErrCycle)
}

func TestWaitDeepReferenceChainEndsInTreeError(t *testing.T) {
	clk := autoClock()
	src := newMemSource(clk)
	const depth = 100_000
	for i := range depth {
		s := &spec{id: itoa(i), dur: time.Hour, refs: true}
		if i+1 < depth {
			s.children = []string{itoa(i + 1)}
		}
		src.add(s)
	}
	_, err := jobs.Wait(context.Background(), src, "0", jobs.WithClock(clk))
	require.ErrorIs(t, err, jobs.ErrTooDeep)
	fetches, _ := src.stats()
	assert.LessOrEqual(t, fetches, jobs.DefaultMaxDepth+2, "one fetch per level, bounded by the depth limit")
}

func TestPollYieldsEachChangeAndStopsWhenDone(t *testing.T) {
	clk := autoClock()
	src := newMemSource(clk)
	src.add(&spec{id: "x", dur: time.Minute})
	var last *jobs.Job
	n := 0
	for job, err := range jobs.Poll(context.Background(), src, "x", jobs.WithClock(clk)) {
		require.NoError(t, err)
		if last != nil {
			assert.Greater(t, job.Progress.Percent, last.Progress.Percent)
		}
		last = job
		n++
	}
	require.NotNil(t, last)
	assert.True(t, last.TreeDone())
	assert.Greater(t, n, 1)
}

func TestPollBreakEarly(t *testing.T) {
	clk := autoClock()
	src := newMemSource(clk)
	src.add(&spec{id: "x", dur: time.Hour})
	for job, err := range jobs.Poll(context.Background(), src, "x", jobs.WithClock(clk)) {
		require.NoError(t, err)
		require.NotNil(t, job)
		break
	}
	fetches, _ := src.stats()
	assert.Equal(t, 1, fetches)
}

// pushSource pushes a snapshot each time the test says so.
type pushSource struct {
	*memSource
	ch chan *jobs.Job
}

func (p *pushSource) Changes(ctx context.Context, id string) (<-chan *jobs.Job, error) {
	return p.ch, nil
}

func TestWaitUsesPushesAndPollsOnlyToReconcile(t *testing.T) {
	clk := autoClock()
	ms := newMemSource(clk)
	ms.add(&spec{id: "x", dur: time.Hour})
	src := &pushSource{memSource: ms, ch: make(chan *jobs.Job)}
	done := make(chan error, 1)
	stuck := make(chan time.Time) // polling timer never fires: only pushes move the wait
	seen := make(chan float64, 8)
	go func() {
		_, err := jobs.Wait(context.Background(), src, "x", jobs.WithClock(stuckClock{stuck}),
			jobs.WithOnProgress(func(j *jobs.Job) { seen <- j.Progress.Percent }))
		done <- err
	}()
	assert.Equal(t, 0.0, <-seen, "the first snapshot is polled")
	for _, p := range []float64{10, 50} {
		src.ch <- &jobs.Job{ID: "x", State: jobs.StateRunning, Progress: jobs.Progress{Percent: p, Known: true}}
		assert.Equal(t, p, <-seen)
	}
	src.ch <- &jobs.Job{ID: "x", State: jobs.StateSucceeded, Progress: jobs.Progress{Percent: 100, Known: true}}
	require.NoError(t, <-done)
	assert.Equal(t, 100.0, <-seen)
	fetches, _ := ms.stats()
	assert.Equal(t, 1, fetches, "only the first snapshot was polled")
}

// slowPusher's Fetch blocks until the test releases it; its pushes go
// through ch.
type slowPusher struct {
	*pushSource
	release chan struct{}
	inFetch chan struct{}
}

func (p *slowPusher) Fetch(ctx context.Context, ids ...string) ([]*jobs.Job, error) {
	p.inFetch <- struct{}{}
	select {
	case <-p.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return p.pushSource.Fetch(ctx, ids...)
}

func TestWaitTakesAPushWhileAPollIsInFlight(t *testing.T) {
	for _, shared := range []bool{false, true} {
		t.Run(fmt.Sprint("watcher=", shared), func(t *testing.T) {
			ms := newMemSource(autoClock())
			ms.add(&spec{id: "x", dur: time.Hour})
			src := &slowPusher{pushSource: &pushSource{memSource: ms, ch: make(chan *jobs.Job)},
				release: make(chan struct{}), inFetch: make(chan struct{}, 8)}
			done := make(chan error, 1)
			opts := []jobs.Option{jobs.WithClock(stuckClock{make(chan time.Time)})}
			go func() {
				var err error
				if shared {
					w := jobs.NewWatcher(src, opts...)
					defer w.Close()
					_, err = w.Wait(context.Background(), "x")
				} else {
					_, err = jobs.Wait(context.Background(), src, "x", opts...)
				}
				done <- err
			}()
			<-src.inFetch // the first poll is in flight and never answers
			src.ch <- &jobs.Job{ID: "x", State: jobs.StateSucceeded, Progress: jobs.Progress{Percent: 100, Known: true}}
			require.NoError(t, <-done, "the wait ended on the push, before the poll answered")
			close(src.release)
		})
	}
}

func itoa(i int) string {
	const digits = "0123456789"
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{digits[i%10]}, b...)
	}
	return string(b)
}

// brokenPusher's stream breaks at once, every time it is asked for.
type brokenPusher struct {
	*memSource
	mu   sync.Mutex
	subs int
}

func (p *brokenPusher) Changes(ctx context.Context, id string) (<-chan *jobs.Job, error) {
	p.mu.Lock()
	p.subs++
	p.mu.Unlock()
	ch := make(chan *jobs.Job)
	close(ch)
	return ch, nil
}

func TestWaitBrokenPushStreamDoesNotPollInALoop(t *testing.T) {
	ms := newMemSource(autoClock())
	ms.add(&spec{id: "x", dur: time.Hour})
	src := &brokenPusher{memSource: ms}
	// The polling timer never fires: only a stream that breaks at once
	// could make Wait fetch again, and it must not, since nothing says
	// the job changed. The short deadline ends the wait.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := jobs.Wait(ctx, src, "x", jobs.WithClock(stuckClock{make(chan time.Time)}))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	fetches, _ := ms.stats()
	assert.Equal(t, 1, fetches, "a broken stream must not make Wait fetch without pausing")
	assert.Equal(t, 1, src.subs)
}

func TestWaitAChildReferencedTwiceIsFetchedOnce(t *testing.T) {
	clk := autoClock()
	src := newMemSource(clk)
	src.add(&spec{id: "k", dur: time.Minute})
	src.add(&spec{id: "r", dur: time.Minute, children: []string{"k", "k"}, refs: true})
	job, err := jobs.Wait(context.Background(), src, "r", jobs.WithClock(clk))
	require.NoError(t, err)
	require.Len(t, job.Children, 2)
	_, rounds := src.stats()
	for _, r := range rounds {
		assert.Equal(t, len(r), len(sorted(dedupe(r))), "ids asked twice in one Fetch: %v", r)
	}
}

func dedupe(ids []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// scriptSource answers each Fetch with the next document of its script,
// the last one forever.
type scriptSource struct {
	mu     sync.Mutex
	script []*jobs.Job
	n      int
}

func (s *scriptSource) Fetch(ctx context.Context, ids ...string) ([]*jobs.Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j := s.script[min(s.n, len(s.script)-1)].Clone()
	s.n++
	return []*jobs.Job{j}, nil
}

func TestWaitOnProgressSeesProgressBecomeKnown(t *testing.T) {
	run := jobs.StateRunning
	src := &scriptSource{script: []*jobs.Job{
		{ID: "x", State: run},
		{ID: "x", State: run}, // unchanged: no call
		{ID: "x", State: run, Progress: jobs.Progress{Known: true}}, // now 0% is known
		{ID: "x", State: jobs.StateSucceeded, Progress: jobs.Progress{Percent: 100, Known: true}},
	}}
	var known []bool
	_, err := jobs.Wait(context.Background(), src, "x", jobs.WithClock(autoClock()),
		jobs.WithOnProgress(func(j *jobs.Job) { known = append(known, j.Progress.Known) }))
	require.NoError(t, err)
	assert.Equal(t, []bool{false, true, true}, known)
}

// sharedSource hands out the same documents to every caller, as a cache
// or a push fanned out to several waits would.
type sharedSource struct{ docs map[string]*jobs.Job }

func (s sharedSource) Fetch(ctx context.Context, ids ...string) ([]*jobs.Job, error) {
	var out []*jobs.Job
	for _, id := range ids {
		if j, ok := s.docs[id]; ok {
			out = append(out, j)
		}
	}
	return out, nil
}

func TestWaitNeverWritesIntoTheSourcesDocuments(t *testing.T) {
	done := jobs.Progress{Percent: 100, Known: true}
	src := sharedSource{docs: map[string]*jobs.Job{
		"r": {ID: "r", State: jobs.StateSucceeded, Progress: done, Children: []*jobs.Job{
			{ID: "n", State: jobs.StateSucceeded, Progress: done, Children: []*jobs.Job{{ID: "a", Partial: true}}},
			{ID: "b", Partial: true},
		}},
		"a": {ID: "a", State: jobs.StateSucceeded, Progress: done},
		"b": {ID: "b", State: jobs.StateSucceeded, Progress: done, Children: []*jobs.Job{{ID: "c", Partial: true}}},
		"c": {ID: "c", State: jobs.StateSucceeded, Progress: done},
	}}
	var wg sync.WaitGroup
	for range 4 { // concurrent waits over the same documents (run with -race)
		wg.Add(1)
		go func() {
			defer wg.Done()
			job, err := jobs.Wait(context.Background(), src, "r", jobs.WithClock(autoClock()))
			assert.NoError(t, err)
			assert.True(t, job.TreeDone())
			assert.NotNil(t, job.Find("c"))
		}()
	}
	w := jobs.NewWatcher(src, jobs.WithClock(autoClock()))
	defer w.Close()
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			job, err := w.Wait(context.Background(), "r")
			assert.NoError(t, err)
			assert.True(t, job.TreeDone())
		}()
	}
	wg.Wait()
	assert.True(t, src.docs["r"].Children[0].Children[0].Partial, "a nested reference was replaced in the source's document")
	assert.True(t, src.docs["r"].Children[1].Partial, "a reference was replaced in the source's document")
	assert.True(t, src.docs["b"].Children[0].Partial, "a fetched child's reference was replaced in the source's document")
}

// countingSource always answers the same running job and ends the wait's
// context after n fetches.
type countingSource struct {
	n, fetches int
	cancel     context.CancelFunc
}

func (s *countingSource) Fetch(ctx context.Context, ids ...string) ([]*jobs.Job, error) {
	if s.fetches++; s.fetches >= s.n {
		s.cancel()
	}
	return []*jobs.Job{{ID: ids[0], State: jobs.StateRunning}}, nil
}

func TestWaitBackoffWithAHugeMaximumDoesNotOverflow(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src := &countingSource{n: 80, cancel: cancel}
	clk := stuckClockAfter{} // every pause ends at once; time does not matter
	_, err := jobs.Wait(ctx, src, "x", jobs.WithClock(clk), jobs.WithInterval(time.Second, time.Duration(math.MaxInt64)))
	require.ErrorIs(t, err, context.Canceled)
	assert.GreaterOrEqual(t, src.fetches, 80) // every pause ended without a panic
}

// stuckClockAfter's pauses end at once, however long.
type stuckClockAfter struct{}

func (stuckClockAfter) Now() time.Time { return time.Time{} }
func (stuckClockAfter) After(d time.Duration) <-chan time.Time {
	if d < 0 {
		panic("negative pause")
	}
	ch := make(chan time.Time, 1)
	ch <- time.Time{}
	return ch
}
