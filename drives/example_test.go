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
	defer c.Close()
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
	defer c.Close()
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

// Create a drive, wait until it is ready, and resize it: the drive is
// resizing for a while, then unmounted at its new size.
func ExampleService_Resize() {
	ctx := context.Background()
	srv := fake.NewServer(nil, fake.Options{})
	defer srv.Close()
	c, err := cloudsigma.New(srv.URL(), "admin@example.com", "secret", cloudsigma.WithClock(srv.Clock()))
	if err != nil {
		panic(err)
	}
	defer c.Close()
	ds := drives.New(c)
	d, err := ds.Create(ctx, &drives.CreateRequest{Name: "data", Size: 1 << 30, Media: drives.MediaDisk})
	if err != nil {
		panic(err)
	}
	if d, err = ds.WaitStatus(ctx, d.UUID, drives.StatusUnmounted); err != nil {
		panic(err)
	}
	r, err := ds.Resize(ctx, d, 4<<30)
	if err != nil {
		panic(err)
	}
	fmt.Println(r.Status)
	done, err := ds.WaitStatus(ctx, d.UUID, drives.StatusUnmounted)
	if err != nil {
		panic(err)
	}
	fmt.Println(done.Status, done.Size>>30, "GiB")
	// Output:
	// resizing
	// unmounted 4 GiB
}
