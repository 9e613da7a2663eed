package jobs_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/longrun/longrun/jobs"
)

// recObserver records what an Observer hears.
type recObserver struct {
	mu     sync.Mutex
	starts []jobs.WaitInfo
	snaps  []jobs.Via
	ends   []jobs.WaitEnd
	rounds []jobs.RoundInfo
}

type recWait struct{ o *recObserver }

func (o *recObserver) WaitStarted(ctx context.Context, info jobs.WaitInfo) (context.Context, jobs.WaitObserver) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.starts = append(o.starts, info)
	return ctx, recWait{o}
}

func (o *recObserver) Round(ctx context.Context, info jobs.RoundInfo) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.rounds = append(o.rounds, info)
}

func (w recWait) Snapshot(job *jobs.Job, via jobs.Via) {
	w.o.mu.Lock()
	defer w.o.mu.Unlock()
	w.o.snaps = append(w.o.snaps, via)
}

func (w recWait) Ended(e jobs.WaitEnd) {
	w.o.mu.Lock()
	defer w.o.mu.Unlock()
	w.o.ends = append(w.o.ends, e)
}

func TestObserverSeesEveryWaitSnapshotRoundAndEnd(t *testing.T) {
	for _, shared := range []bool{false, true} {
		t.Run(fmt.Sprint("watcher=", shared), func(t *testing.T) {
			clk := autoClock()
			src := newMemSource(clk)
			src.serverClone("srv", 3, true, 5*time.Minute)
			src.add(&spec{id: "bad", dur: time.Hour, failAt: 10})
			rec := &recObserver{}
			opts := []jobs.Option{jobs.WithClock(clk), jobs.WithObserver(rec)}
			var snaps int
			wait := func(id string) (*jobs.Job, error) {
				o := append(opts, jobs.WithOnProgress(func(*jobs.Job) { snaps++ }))
				if shared {
					w := jobs.NewWatcher(src, o...)
					defer w.Close()
					return w.Wait(context.Background(), id)
				}
				return jobs.Wait(context.Background(), src, id, o...)
			}
			job, err := wait("srv")
			require.NoError(t, err)
			_, err = wait("bad")
			require.ErrorIs(t, err, jobs.ErrJobFailed)
			_, err = wait("ghost")
			require.ErrorIs(t, err, jobs.ErrNotFound)

			rec.mu.Lock()
			defer rec.mu.Unlock()
			require.Len(t, rec.starts, 3)
			assert.Equal(t, "srv", rec.starts[0].ID)
			assert.Equal(t, shared, rec.starts[0].Shared)
			require.Len(t, rec.ends, 3)
			assert.Equal(t, jobs.OutcomeSucceeded, rec.ends[0].Outcome)
			assert.Same(t, job, rec.ends[0].Job)
			assert.Equal(t, jobs.ViaPoll, rec.ends[0].Via)
			assert.Positive(t, rec.ends[0].Duration)
			assert.Equal(t, jobs.OutcomeFailed, rec.ends[1].Outcome)
			assert.Equal(t, jobs.OutcomeNotFound, rec.ends[2].Outcome)
			// Every changed snapshot of the successful wait, by poll (the
			// failed wait's first snapshot too).
			assert.GreaterOrEqual(t, len(rec.snaps), snaps)
			for _, v := range rec.snaps {
				assert.Equal(t, jobs.ViaPoll, v)
			}
			require.NotEmpty(t, rec.rounds)
			for _, r := range rec.rounds {
				assert.Positive(t, r.IDs)
				assert.Positive(t, r.Requests)
				assert.Equal(t, 1, r.Watched)
			}
		})
	}
}

func TestObserverSeesAPushAndItsLag(t *testing.T) {
	ms := newMemSource(autoClock())
	ms.add(&spec{id: "x", dur: time.Hour})
	src := &pushSource{memSource: ms, ch: make(chan *jobs.Job, 1)}
	rec := &recObserver{}
	src.ch <- &jobs.Job{ID: "x", State: jobs.StateSucceeded}
	_, err := jobs.Wait(context.Background(), src, "x",
		jobs.WithClock(stuckClock{make(chan time.Time)}), jobs.WithObserver(rec))
	require.NoError(t, err)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	require.Len(t, rec.ends, 1)
	assert.Equal(t, jobs.ViaPush, rec.ends[0].Via)
	assert.True(t, rec.starts[0].Push)
	assert.Less(t, rec.ends[0].Lag, rec.ends[0].Duration+time.Nanosecond)
}

func TestOutcomeOf(t *testing.T) {
	assert.Equal(t, jobs.OutcomeSucceeded, jobs.OutcomeOf(nil))
	assert.Equal(t, jobs.OutcomeTimeout, jobs.OutcomeOf(&jobs.TimeoutError{Cause: context.Canceled}))
	assert.Equal(t, jobs.OutcomeClosed, jobs.OutcomeOf(jobs.ErrWatcherClosed))
	assert.Equal(t, jobs.OutcomeAborted, jobs.OutcomeOf(&jobs.FailedError{Job: &jobs.Job{}, Node: &jobs.Job{State: jobs.StateAborted}}))
	assert.Equal(t, jobs.OutcomeError, jobs.OutcomeOf(errPermanent))
}
