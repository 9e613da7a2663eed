package cloudsigma_test

import (
	"context"
	"fmt"

	"github.com/longrun/longrun/cloudsigma"
	"github.com/longrun/longrun/drives"
	"github.com/longrun/longrun/fake"
)

// Follow a CloudSigma drive clone job with Jobs.Wait, push-first over the
// client's async websocket. The fake's clock
// jumps ahead whenever Wait sleeps on it, so the ten-minute clone ends at
// once; against a real cloud, leave out WithClock.
func ExampleNew() {
	ctx := context.Background()
	srv := fake.NewServer(nil, fake.Options{})
	defer srv.Close()

	c, err := cloudsigma.New(srv.URL(), "admin@example.com", "secret", cloudsigma.WithClock(srv.Clock()))
	if err != nil {
		panic(err)
	}
	defer c.Close()
	ds := drives.New(c)
	l, err := ds.List(ctx, &drives.ListOptions{Detail: true, Filters: map[string][]string{"name": {"debian-12-boot"}}})
	if err != nil {
		panic(err)
	}
	clone, err := ds.Clone(ctx, l.Items[0].UUID, &drives.CloneRequest{Name: "boot-copy"}, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println("clone status:", clone.Status)

	svc := c.Jobs
	job, err := svc.Wait(ctx, clone.Jobs[0].UUID)
	if err != nil {
		panic(err)
	}
	fmt.Println(job.Operation, job.RawState, job.Progress.Percent)

	wire, err := svc.Get(ctx, job.ID)
	if err != nil {
		panic(err)
	}
	fmt.Println("took", wire.LastModified.Sub(wire.Created.Time))
	// Output:
	// clone status: cloning_dst
	// drive_clone success 100
	// took 10m0s
}

// Fetch refreshes many jobs in one list call. CloudSigma's jobs schema
// documents only the state filter, so against a server that refuses
// uuid=a,b (as the fake does by default) Fetch lists the running jobs
// (state=started) and asks only for the others one by one.
func ExampleJobsService_Fetch() {
	ctx := context.Background()
	srv := fake.NewServer(nil, fake.Options{})
	defer srv.Close()
	c, _ := cloudsigma.New(srv.URL(), "admin@example.com", "secret")
	defer c.Close()
	ds := drives.New(c)
	l, _ := ds.List(ctx, &drives.ListOptions{Detail: true, Filters: map[string][]string{"name": {"scratch"}}})
	a, _ := ds.Clone(ctx, l.Items[0].UUID, nil, nil)
	b, _ := ds.Clone(ctx, l.Items[0].UUID, nil, nil)

	got, err := c.Jobs.Fetch(ctx, a.Jobs[0].UUID, b.Jobs[0].UUID)
	if err != nil {
		panic(err)
	}
	for _, j := range got {
		fmt.Println(j.Operation, j.State, j.Progress.Percent)
	}
	// Output:
	// drive_clone running 0
	// drive_clone running 0
}
