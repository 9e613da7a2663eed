package jobs_test

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/longrun/longrun/fake/sim"
	"github.com/longrun/longrun/jobs"
)

// A Source is anything that fetches job snapshots by id; SourceFunc makes
// one of a function. This one reports a job that advances 25% per poll.
func ExampleSourceFunc() {
	var mu sync.Mutex
	polls := 0
	src := jobs.SourceFunc(func(ctx context.Context, ids ...string) ([]*jobs.Job, error) {
		mu.Lock()
		defer mu.Unlock()
		polls++
		pct := min(float64(polls)*25, 100)
		state := jobs.StateRunning
		if pct == 100 {
			state = jobs.StateSucceeded
		}
		return []*jobs.Job{{ID: ids[0], State: state, Progress: jobs.Progress{Percent: pct, Known: true}}}, nil
	})

	clk := sim.NewClock(sim.Epoch)
	clk.SetAuto(true) // Wait's pauses jump fake time forward: no real sleeping
	job, err := jobs.Wait(context.Background(), src, "backup-7",
		jobs.WithClock(clk), jobs.WithInterval(time.Second, time.Minute),
		jobs.WithOnProgress(func(j *jobs.Job) { fmt.Printf("%s %.0f%%\n", j.ID, j.Progress.Percent) }))
	fmt.Println(job.State, err)
	// Output:
	// backup-7 25%
	// backup-7 50%
	// backup-7 75%
	// backup-7 100%
	// succeeded <nil>
}
