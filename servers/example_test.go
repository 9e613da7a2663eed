package servers_test

import (
	"context"
	"fmt"

	"github.com/longrun/longrun/cloudsigma"
	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/servers"
)

// Clone a server: its disks are cloned (one sub-job each), its cdrom is
// attached as it is, and the wait returns the whole job tree once the
// clone and every sub-job are done. The wait listens to the client's async
// websocket and polls only as a fallback.
func ExampleService_CloneAndWait() {
	ctx := context.Background()
	srv := fake.NewServer(nil, fake.Options{})
	defer srv.Close()
	c, err := cloudsigma.New(srv.URL(), "admin@example.com", "secret")
	if err != nil {
		panic(err)
	}
	defer c.Close()
	svc := servers.New(c)
	l, err := svc.List(ctx, &servers.ListOptions{Detail: true, Filters: map[string][]string{"name": {"web-1"}}})
	if err != nil {
		panic(err)
	}
	clone, job, err := svc.CloneAndWait(ctx, l.Items[0].UUID, &servers.CloneRequest{Name: "web-2"}, nil,
		jobs.WithClock(srv.Clock()))
	if err != nil {
		panic(err)
	}
	fmt.Println(clone.Name, clone.Status, len(clone.Drives), "drives")
	fmt.Println(job.Operation, job.State, len(job.Children), "sub-jobs")
	for _, sub := range job.Children {
		fmt.Println(" ", sub.Operation, sub.Progress.Percent)
	}
	// Output:
	// web-2 stopped 4 drives
	// server_clone succeeded 3 sub-jobs
	//   drive_clone 100
	//   drive_clone 100
	//   drive_clone 100
}

// Start a server and wait until it runs; then open its VNC console. The
// client sleeps on the fake's clock (WithClock), so the start's seconds
// pass at once.
func ExampleService_Start() {
	ctx := context.Background()
	srv := fake.NewServer(nil, fake.Options{})
	defer srv.Close()
	c, err := cloudsigma.New(srv.URL(), "admin@example.com", "secret", cloudsigma.WithClock(srv.Clock()))
	if err != nil {
		panic(err)
	}
	defer c.Close()
	svc := servers.New(c)
	s, err := svc.Create(ctx, &servers.CreateRequest{Name: "app", CPU: 1000, Mem: 1 << 30, VNCPassword: "vncpass1"})
	if err != nil {
		panic(err)
	}
	r, err := svc.Start(ctx, s.UUID)
	if err != nil {
		panic(err)
	}
	fmt.Println(r.Action, r.Result)
	running, err := svc.WaitStatus(ctx, s.UUID, servers.StatusRunning)
	if err != nil {
		panic(err)
	}
	fmt.Println(running.Name, running.Status)
	vnc, err := svc.OpenVNC(ctx, s.UUID)
	if err != nil {
		panic(err)
	}
	fmt.Println(vnc.Action, vnc.VNCURL != "")
	// Output:
	// start success
	// app running
	// open_vnc true
}
