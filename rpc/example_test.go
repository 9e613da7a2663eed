package rpc_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/fake/sim"
	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/rpc"
)

// Dial, log in with an API key and call a method.
func ExampleDial() {
	srv := fake.NewServer(nil, fake.Options{})
	defer srv.Close()
	ctx := context.Background()

	c, err := rpc.Dial(ctx, srv.WebsocketURL(), rpc.WithAPIKey("admin", "1-longrunfakeapikey"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	var pong string
	if err := c.Call(ctx, "core.ping", nil, &pong); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(pong, c.NewStyleJobs())
	// Output: pong true
}

// Start a job and wait for its result. The fake's clock is stepped by
// hand here, as a test would; against a real box the job just runs.
func ExampleConn_CallJob() {
	clk := sim.NewClock(sim.Epoch)
	srv := fake.NewServer(nil, fake.Options{Clock: clk})
	defer srv.Close()
	ctx := context.Background()
	c, err := rpc.Dial(ctx, srv.WebsocketURL(), rpc.WithPassword("admin", "secret"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	h, err := c.CallJob(ctx, "filesystem.copy", "/mnt/tank/src", "/mnt/tank/dst")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("job", h.ID())
	clk.Advance(time.Minute)
	var ok bool
	if err := h.Wait(ctx, &ok); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("copied:", ok, h.Entry().State, h.Entry().Progress.Percent)
	// Output:
	// job 1
	// copied: true SUCCESS 100
}

// A failed job is a *rpc.JobError; validation failures list the invalid
// arguments.
func ExampleJobError() {
	srv := fake.NewServer(nil, fake.Options{})
	defer srv.Close()
	ctx := context.Background()
	c, err := rpc.Dial(ctx, srv.WebsocketURL(), rpc.WithAPIKey("admin", "1-longrunfakeapikey"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	h, err := c.CallJob(ctx, "filesystem.copy", "/tmp/outside", "/mnt/tank/dst")
	if err != nil {
		fmt.Println(err)
		return
	}
	err = h.Wait(ctx, nil)
	var je *rpc.JobError
	if errors.As(err, &je) && errors.Is(err, rpc.ErrInvalidParams) {
		for _, v := range je.Validation {
			fmt.Printf("%s: %s (errno %d)\n", v.Attribute, v.Message, v.Errno)
		}
	}
	// Output: filesystem.copy.src: Path must reside within a pool mount point (errno 22)
}

// Query jobs with the query-filters language.
func ExampleConn_GetJobs() {
	srv := fake.NewServer(nil, fake.Options{})
	defer srv.Close()
	ctx := context.Background()
	c, err := rpc.Dial(ctx, srv.WebsocketURL(), rpc.WithAPIKey("admin", "1-longrunfakeapikey"), rpc.WithLegacyJobs(true))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	for _, src := range []string{"/mnt/a", "/tmp/b", "/mnt/c"} {
		if _, err := c.CallJob(ctx, "filesystem.copy", src, "/mnt/dst"); err != nil {
			fmt.Println(err)
			return
		}
	}
	entries, err := c.GetJobs(ctx, []rpc.Filter{
		rpc.Where("method", rpc.Eq, "filesystem.copy"),
		rpc.Where("arguments.0", rpc.Prefix, "/mnt/"),
	}, rpc.QueryOptions{OrderBy: []string{"-id"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range entries {
		fmt.Println(e.ID, e.State)
	}
	// Output:
	// 3 RUNNING
	// 1 RUNNING
}

// jobs.Wait follows a TrueNAS job push-first over the connection's
// shared core.get_jobs subscription. With the fake's auto-advancing
// clock the one-minute copy ends at once.
func ExampleConn_Changes() {
	srv := fake.NewServer(nil, fake.Options{})
	defer srv.Close()
	ctx := context.Background()
	c, err := rpc.Dial(ctx, srv.WebsocketURL(), rpc.WithAPIKey("admin", "1-longrunfakeapikey"), rpc.WithLegacyJobs(true))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	h, err := c.CallJob(ctx, "filesystem.copy", "/mnt/a", "/mnt/b")
	if err != nil {
		fmt.Println(err)
		return
	}
	j, err := jobs.Wait(ctx, c, h.ID(), jobs.WithClock(srv.Clock()))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(j.Operation, j.State, j.RawState)
	// Output: filesystem.copy succeeded SUCCESS
}

// Follow many jobs on one jobs.Watcher: over a Conn (a jobs.MultiPusher)
// every wait shares the connection's one job subscription, and WaitAsync
// holds no goroutine per job, so this scales to 100,000 jobs.
func ExampleConn_AllChanges() {
	srv := fake.NewServer(nil, fake.Options{})
	defer srv.Close()
	ctx := context.Background()
	c, err := rpc.Dial(ctx, srv.WebsocketURL(), rpc.WithAPIKey("admin", "1-longrunfakeapikey"), rpc.WithLegacyJobs(true))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	w := jobs.NewWatcher(c, jobs.WithClock(srv.Clock()))
	defer w.Close()
	var wg sync.WaitGroup
	var mu sync.Mutex
	ended := map[string]jobs.State{}
	for _, dst := range []string{"/mnt/tank/b", "/mnt/tank/c", "/mnt/tank/d"} {
		h, err := c.CallJob(ctx, "filesystem.copy", "/mnt/tank/a", dst)
		if err != nil {
			fmt.Println(err)
			return
		}
		wg.Add(1)
		err = w.WaitAsync(ctx, h.ID(), func(j *jobs.Job, err error) {
			defer wg.Done()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				ended[h.ID()] = jobs.StateFailed
				return
			}
			ended[j.ID] = j.State
		})
		if err != nil {
			fmt.Println(err)
			return
		}
	}
	wg.Wait()
	fmt.Println(ended)
	// Output: map[1:succeeded 2:succeeded 3:succeeded]
}

// Subscribe to an event stream.
func ExampleConn_Subscribe() {
	clk := sim.NewClock(sim.Epoch)
	srv := fake.NewServer(nil, fake.Options{Clock: clk})
	defer srv.Close()
	ctx := context.Background()
	c, err := rpc.Dial(ctx, srv.WebsocketURL(), rpc.WithAPIKey("admin", "1-longrunfakeapikey"), rpc.WithLegacyJobs(true))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	sub, err := c.Subscribe(ctx, "core.get_jobs")
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := c.Call(ctx, "catalog.sync", nil, nil); err != nil {
		fmt.Println(err)
		return
	}
	for range 2 {
		ev := <-sub.C()
		fmt.Println(ev.Msg, ev.Collection, string(ev.ID))
	}
	_ = sub.Close(ctx)
	// Output:
	// added core.get_jobs 1
	// changed core.get_jobs 1
}

// List one page of jobs, then iterate them all.
func ExampleConn_List() {
	srv := fake.NewServer(nil, fake.Options{})
	defer srv.Close()
	ctx := context.Background()
	c, err := rpc.Dial(ctx, srv.WebsocketURL(), rpc.WithAPIKey("admin", "1-longrunfakeapikey"), rpc.WithLegacyJobs(true))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	for _, dst := range []string{"/mnt/tank/b", "/mnt/tank/c", "/mnt/tank/d"} {
		if _, err := c.CallJob(ctx, "filesystem.copy", "/mnt/tank/a", dst); err != nil {
			fmt.Println(err)
			return
		}
	}
	p, err := c.List(ctx, &rpc.ListOptions{Limit: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(p.Items), p.More)
	for j, err := range c.All(ctx, &rpc.ListOptions{Limit: 2}) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(j.ID, j.Method, j.ToJob().Dialect)
	}
	// Output:
	// 2 true
	// 1 filesystem.copy truenas
	// 2 filesystem.copy truenas
	// 3 filesystem.copy truenas
}
