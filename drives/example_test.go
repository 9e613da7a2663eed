package drives_test

import (
	"context"
	"fmt"

	"github.com/longrun/longrun/cloudsigma"
	"github.com/longrun/longrun/drives"
	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/jobs"
)

// Clone a drive and wait for the clone job; the new drive comes back
// unmounted.
func ExampleService_CloneAndWait() {
	ctx := context.Background()
	srv := fake.NewServer(nil, fake.Options{})
	defer srv.Close()
	c, err := cloudsigma.New(srv.URL(), "admin@example.com", "secret")
	if err != nil {
		panic(err)
	}
	ds := drives.New(c)
	var src *drives.Drive
	for d, err := range ds.All(ctx, &cloudsigma.ListOptions{Detail: true}) {
		if err != nil {
			panic(err)
		}
		if d.Name == "web-data" {
			src = d
		}
	}
	d, job, err := ds.CloneAndWait(ctx, src.UUID, &drives.CloneRequest{Name: "web-data-copy"}, nil, jobs.WithClock(srv.Clock()))
	if err != nil {
		panic(err)
	}
	fmt.Println(d.Name, d.Status, d.Size>>30, "GiB")
	fmt.Println(job.Operation, job.State)
	// Output:
	// web-data-copy unmounted 20 GiB
	// drive_clone succeeded
}

// List drives page by page; /drives/ gives trimmed objects.
func ExampleService_All() {
	ctx := context.Background()
	srv := fake.NewServer(nil, fake.Options{})
	defer srv.Close()
	c, _ := cloudsigma.New(srv.URL(), "admin@example.com", "secret")
	n := 0
	for d, err := range drives.New(c).All(ctx, &drives.ListOptions{Limit: 2}) {
		if err != nil {
			panic(err)
		}
		n++
		_ = d.Status
	}
	fmt.Println(n, "drives")
	// Output:
	// 5 drives
}
