package jobs_test

import (
	"context"
	"fmt"
	"time"

	"github.com/longrun/longrun/fake/sim"
	"github.com/longrun/longrun/jobs"
)

func ExampleWalk() {
	tree := &jobs.Job{ID: "server-clone", State: jobs.StateRunning, Children: []*jobs.Job{
		{ID: "disk-1", Progress: jobs.Progress{Percent: 100, Known: true}, State: jobs.StateSucceeded},
		{ID: "disk-2", Progress: jobs.Progress{Percent: 40, Known: true}, State: jobs.StateRunning},
	}}
	for n, err := range jobs.Walk(tree) {
		if err != nil {
			fmt.Println("malformed tree:", err)
			return
		}
		fmt.Printf("%*s%s done=%v\n", 2*n.Depth, "", n.Job.ID, n.Job.Done())
	}
	fmt.Printf("overall %.0f%%\n", tree.Aggregate().Percent)
	// Output:
	// server-clone done=false
	//   disk-1 done=true
	//   disk-2 done=false
	// overall 70%
}

func ExampleWait() {
	// Any dialect's service is a jobs.Source; here a small in-memory one
	// whose job takes ten minutes of the fake's clock.
	clk := sim.NewClock(sim.Epoch)
	clk.SetAuto(true) // every pause of Wait jumps fake time forward
	src := newMemSource(clk)
	src.add(&spec{id: "clone-1", dur: 10 * time.Minute})

	updates := 0
	job, err := jobs.Wait(context.Background(), src, "clone-1",
		jobs.WithClock(clk),
		jobs.WithInterval(time.Second, time.Minute),
		jobs.WithOnProgress(func(j *jobs.Job) {
			updates++ // a real program would redraw a progress bar here
		}))
	if err != nil {
		fmt.Println("wait:", err)
		return
	}
	fmt.Printf("%s %s %.0f%% after %v of fake time, %v updates\n",
		job.ID, job.State, job.Progress.Percent, clk.Since(sim.Epoch) >= 10*time.Minute, updates > 1)
	// Output: clone-1 succeeded 100% after true of fake time, true updates
}

func ExampleWatcher() {
	clk := sim.NewClock(sim.Epoch)
	clk.SetAuto(true)
	src := newMemSource(clk)
	src.add(&spec{id: "a", dur: time.Minute})
	w := jobs.NewWatcher(src, jobs.WithClock(clk))
	defer w.Close()
	job, err := w.Wait(context.Background(), "a")
	fmt.Println(job.ID, job.State, err)
	// Output: a succeeded <nil>
}
