// Command clone-n clones a CloudSigma server N times in parallel as a
// Temporal workflow (contrib/temporal's CloneN), waits for every clone and,
// when one fails, deletes the clones again.
//
// By default it runs against longrun's in-process fake and the Temporal
// SDK's test environment, so it needs no server at all:
//
//	cd contrib/temporal && go run ./examples/clone-n -n 5
//	cd contrib/temporal && go run ./examples/clone-n -n 5 -fail   # one clone refused: compensation
//
// With -temporal it runs a worker against a real Temporal server (for
// example `temporal server start-dev`) and starts the workflow there:
//
//	cd contrib/temporal && go run ./examples/clone-n -temporal localhost:7233
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	sdktemporal "go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/longrun/longrun/cloudsigma"
	lrtemporal "github.com/longrun/longrun/contrib/temporal"
	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/fake/sim"
	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/servers"
)

func main() {
	n := flag.Int("n", 3, "number of clones")
	fail := flag.Bool("fail", false, "make the fake refuse one clone request, to show the compensation")
	hostPort := flag.String("temporal", "", "Temporal frontend host:port (default: the SDK's in-process test environment)")
	speed := flag.Float64("speed", 600, "fake clock speed (fake seconds per wall second)")
	flag.Parse()
	if err := run(*n, *fail, *hostPort, *speed); err != nil {
		fmt.Fprintln(os.Stderr, "clone-n:", err)
		os.Exit(1)
	}
}

func run(n int, fail bool, hostPort string, speed float64) error {
	srv, err := fake.New(fake.Options{Clock: sim.NewScaledClock(speed)})
	if err != nil {
		return err
	}
	defer srv.Close()
	u := srv.Env().Users()[0]
	c, err := cloudsigma.New(srv.CloudSigmaURL(), u.Email, u.Password)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx := context.Background()
	ss := servers.New(c)
	page, err := ss.List(ctx, &servers.ListOptions{Filters: map[string][]string{"name": {"web-1"}}})
	if err != nil {
		return err
	}
	if len(page.Items) == 0 {
		return errors.New("the fake has no server web-1")
	}
	source := page.Items[0].UUID
	if fail {
		srv.Faults().Add(sim.Fault{Method: http.MethodPost, PathPrefix: "/api/2.0/servers/" + source + "/action/", Times: 1,
			Status: http.StatusConflict, Body: `[{"error_point": null, "error_type": "permission", "error_message": "Cannot clone: the server is busy"}]`})
	}
	acc := lrtemporal.NewCloudSigmaAccount(c)
	acts, err := lrtemporal.NewActivities(
		lrtemporal.WithCloudSigma(func(ctx context.Context, account string) (lrtemporal.CloudSigmaAccount, error) { return acc, nil }),
		lrtemporal.WithJobOptions(jobs.WithClock(srv.Clock()), jobs.WithInterval(200*time.Millisecond, time.Second)),
		lrtemporal.WithProgress(func(p lrtemporal.Progress) {
			fmt.Printf("  job %s  %5.1f%%  %s\n", p.JobID, p.Percent, p.State)
		}))
	if err != nil {
		return err
	}
	req := lrtemporal.CloneNRequest{Account: "fake", Source: source, NamePrefix: "web-1-clone", N: n, Heartbeat: 10 * time.Second}
	fmt.Printf("cloning web-1 (%s) %d times on the fake at %s\n", source, n, srv.CloudSigmaURL())

	var res lrtemporal.CloneNResult
	if hostPort == "" {
		var s testsuite.WorkflowTestSuite
		s.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
		env := s.NewTestWorkflowEnvironment()
		env.RegisterActivity(acts)
		env.RegisterWorkflow(lrtemporal.CloneN)
		env.ExecuteWorkflow(lrtemporal.CloneN, req)
		err = env.GetWorkflowError()
		if err == nil {
			err = env.GetWorkflowResult(&res)
		}
	} else {
		err = runOnServer(ctx, hostPort, acts, req, &res)
	}
	var appErr *sdktemporal.ApplicationError
	if errors.As(err, &appErr) && appErr.Type() == lrtemporal.ErrTypeCloneNFailed {
		var f lrtemporal.CloneNFailure
		_ = appErr.Details(&f)
		fmt.Printf("failed: %v\ncompensated: deleted %v\n", f.Failed, f.Deleted)
	} else if err != nil {
		return err
	}
	for _, s := range res.Servers {
		fmt.Printf("clone %s  %s\n", s.Name, s.UUID)
	}
	left := 0
	for s, err := range ss.All(ctx, nil) {
		if err != nil {
			return err
		}
		if len(s.Name) > len("web-1-clone") && s.Name[:len("web-1-clone")] == "web-1-clone" {
			left++
		}
	}
	fmt.Printf("servers named web-1-clone-* on the fake: %d\n", left)
	return nil
}

func runOnServer(ctx context.Context, hostPort string, acts *lrtemporal.Activities, req lrtemporal.CloneNRequest, res *lrtemporal.CloneNResult) error {
	cl, err := client.Dial(client.Options{HostPort: hostPort, Logger: log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))})
	if err != nil {
		return err
	}
	defer cl.Close()
	const queue = "longrun-clone-n"
	w := worker.New(cl, queue, worker.Options{})
	w.RegisterActivity(acts)
	w.RegisterWorkflow(lrtemporal.CloneN)
	if err := w.Start(); err != nil {
		return err
	}
	defer w.Stop()
	run, err := cl.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("clone-n-%d", time.Now().UnixNano()), TaskQueue: queue}, lrtemporal.CloneN, req)
	if err != nil {
		return err
	}
	return run.Get(ctx, res)
}
