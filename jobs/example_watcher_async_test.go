package jobs_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/longrun/longrun/fake/sim"
	"github.com/longrun/longrun/jobs"
)

// WaitAsync follows many jobs on one Watcher without a goroutine per job:
// the Watcher's poller calls done when each ends. The Source here finishes
// every job on its third poll and accepts at most two ids per request, so
// the Watcher splits each round into chunks (BatchLimiter).
func ExampleWatcher_WaitAsync() {
	src := &twoAtATime{polls: map[string]int{}}
	clk := sim.NewClock(sim.Epoch)
	clk.SetAuto(true)
	w := jobs.NewWatcher(src, jobs.WithClock(clk), jobs.WithInterval(time.Second, time.Minute))
	defer w.Close()

	var wg sync.WaitGroup
	var mu sync.Mutex
	var ended []string
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		wg.Add(1)
		err := w.WaitAsync(context.Background(), id, func(job *jobs.Job, err error) {
			defer wg.Done()
			mu.Lock()
			defer mu.Unlock()
			ended = append(ended, fmt.Sprint(job.ID, " ", job.State, " ", err))
		})
		if err != nil {
			fmt.Println(err)
			return
		}
	}
	wg.Wait()
	sort.Strings(ended)
	for _, e := range ended {
		fmt.Println(e)
	}
	// Output:
	// a succeeded <nil>
	// b succeeded <nil>
	// c succeeded <nil>
	// d succeeded <nil>
	// e succeeded <nil>
}

// twoAtATime is a Source that takes at most two ids per Fetch.
type twoAtATime struct {
	mu    sync.Mutex
	polls map[string]int
}

func (s *twoAtATime) MaxBatch() int { return 2 }

func (s *twoAtATime) Fetch(ctx context.Context, ids ...string) ([]*jobs.Job, error) {
	if len(ids) > 2 {
		return nil, fmt.Errorf("%d ids: at most 2", len(ids))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*jobs.Job
	for _, id := range ids {
		s.polls[id]++
		st := jobs.StateRunning
		if s.polls[id] >= 3 {
			st = jobs.StateSucceeded
		}
		out = append(out, &jobs.Job{ID: id, State: st})
	}
	return out, nil
}
