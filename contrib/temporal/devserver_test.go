package temporal_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	sdktemporal "go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/longrun/longrun/cloudsigma"
	lrtemporal "github.com/longrun/longrun/contrib/temporal"
	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/fake/sim"
	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/servers"
)

// cloneAndWait clones one server and waits for its job: the worker-kill
// test's workflow.
func cloneAndWait(ctx workflow.Context, req lrtemporal.CloneRequest) (*lrtemporal.WaitResult, error) {
	var a *lrtemporal.Activities
	retry := &sdktemporal.RetryPolicy{InitialInterval: 100 * time.Millisecond, MaximumAttempts: 5}
	var s lrtemporal.Server
	sctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute, RetryPolicy: retry})
	if err := workflow.ExecuteActivity(sctx, a.CloneServer, req).Get(ctx, &s); err != nil {
		return nil, err
	}
	account, _ := json.Marshal(req.Account)
	wctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 5 * time.Minute,
		HeartbeatTimeout: 2 * time.Second, RetryPolicy: retry})
	var res lrtemporal.WaitResult
	err := workflow.ExecuteActivity(wctx, a.WaitJob, lrtemporal.WaitRequest{Dialect: lrtemporal.DialectCloudSigma, Config: account, JobID: s.JobID}).Get(ctx, &res)
	return &res, err
}

const (
	envWorker    = "LONGRUN_TEMPORAL_TEST_WORKER" // set: this process is the worker to kill
	envHostPort  = "LONGRUN_TEMPORAL_TEST_HOSTPORT"
	envFakeURL   = "LONGRUN_TEMPORAL_TEST_FAKE_URL"
	testQueue    = "longrun-worker-kill"
	cliVariable  = "LONGRUN_TEMPORAL_CLI"
	progressLine = "progress "
)

func quietLogger() log.Logger {
	return log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// runWorker runs a worker of cloneAndWait against the fake at fakeURL until
// ctx ends, printing each heartbeat as a progress line.
func runWorker(ctx context.Context, hostPort, fakeURL, email, password string, progress io.Writer) error {
	cl, err := client.Dial(client.Options{HostPort: hostPort, Logger: quietLogger()})
	if err != nil {
		return err
	}
	defer cl.Close()
	c, err := cloudsigma.New(fakeURL, email, password)
	if err != nil {
		return err
	}
	defer c.Close()
	acc := lrtemporal.NewCloudSigmaAccount(c)
	acts, err := lrtemporal.NewActivities(
		lrtemporal.WithCloudSigma(func(context.Context, string) (lrtemporal.CloudSigmaAccount, error) { return acc, nil }),
		lrtemporal.WithJobOptions(jobs.WithInterval(100*time.Millisecond, 300*time.Millisecond)),
		lrtemporal.WithProgress(func(p lrtemporal.Progress) {
			fmt.Fprintf(progress, "%s%s %.1f attempt=%d\n", progressLine, p.JobID, p.Percent, p.Attempt)
		}))
	if err != nil {
		return err
	}
	w := worker.New(cl, testQueue, worker.Options{})
	w.RegisterActivity(acts)
	w.RegisterWorkflowWithOptions(cloneAndWait, workflow.RegisterOptions{Name: "cloneAndWait"})
	if err := w.Start(); err != nil {
		return err
	}
	<-ctx.Done()
	w.Stop()
	return nil
}

// TestHelperWorker is the worker process TestWorkerKilledMidWaitResumes
// kills; it does nothing in a normal run.
func TestHelperWorker(t *testing.T) {
	if os.Getenv(envWorker) == "" {
		t.Skip("helper process of TestWorkerKilledMidWaitResumes")
	}
	u := sim.DefaultUsers()[0]
	_ = runWorker(context.Background(), os.Getenv(envHostPort), os.Getenv(envFakeURL), u.Email, u.Password, os.Stdout)
}

// TestWorkerKilledMidWaitResumes runs a clone wait on a real Temporal
// development server, kills the worker process (SIGKILL) while the clone is
// under way, starts another worker, and sees the wait resume on it from the
// last heartbeat: the server was cloned once and the second attempt went on
// from the first one's snapshots.
func TestWorkerKilledMidWaitResumes(t *testing.T) {
	bin := os.Getenv(cliVariable)
	if bin == "" {
		t.Skipf("set %s to a temporal CLI binary (go install github.com/temporalio/cli/cmd/temporal@v1.5.1; .ci/contrib.sh builds it) to run against a real Temporal dev server", cliVariable)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("%s=%s: %v", cliVariable, bin, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dev, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{ExistingPath: bin, LogLevel: "error",
		ClientOptions: &client.Options{Logger: quietLogger()}, Stdout: io.Discard, Stderr: io.Discard})
	require.NoError(t, err)
	defer func() { _ = dev.Stop() }()

	// Fake time runs 60x: the seeded server's clone takes a few seconds.
	srv := fake.NewServer(t, fake.Options{Clock: sim.NewScaledClock(60)})
	u := srv.Env().Users()[0]
	require.Equal(t, sim.DefaultUsers()[0].Email, u.Email, "the worker process logs in as the fake's first seeded user")
	c, err := cloudsigma.New(srv.CloudSigmaURL(), u.Email, u.Password)
	require.NoError(t, err)
	defer c.Close()
	ss := servers.New(c)
	page, err := ss.List(ctx, &servers.ListOptions{Filters: map[string][]string{"name": {"web-1"}}})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)

	// Worker one: a separate process, to be killed.
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperWorker$", "-test.v")
	cmd.Env = append(os.Environ(), envWorker+"=1", envHostPort+"="+dev.FrontendHostPort(), envFakeURL+"="+srv.CloudSigmaURL())
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

	run, err := dev.Client().ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "worker-kill", TaskQueue: testQueue},
		"cloneAndWait", lrtemporal.CloneRequest{Account: "main", Source: page.Items[0].UUID, Name: "survivor"})
	require.NoError(t, err)

	// Kill it once it has heartbeated some progress.
	lines := bufio.NewScanner(out)
	var seen string
	for lines.Scan() {
		if l := lines.Text(); strings.HasPrefix(l, progressLine) && !strings.Contains(l, " 0.0 ") {
			seen = l
			break
		}
	}
	require.NotEmpty(t, seen, "worker one heartbeated progress")
	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	t.Logf("killed worker one after %q", seen)

	// Worker two picks the wait up once the heartbeat timeout passes.
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	progress := &lineLog{}
	workerDone := make(chan struct{})
	go func() {
		defer close(workerDone)
		_ = runWorker(wctx, dev.FrontendHostPort(), srv.CloudSigmaURL(), u.Email, u.Password, progress)
	}()
	defer func() { stop(); <-workerDone; t.Logf("worker two:\n%s", progress.String()) }()

	var res lrtemporal.WaitResult
	require.NoError(t, run.Get(ctx, &res))
	assert.True(t, res.Resumed, "the retry resumed from worker one's heartbeat")
	assert.True(t, res.Job.TreeDone())
	assert.Greater(t, res.Snapshots, 1)
	assert.Equal(t, []string{"survivor"}, countNamed(t, ss, "survivor"), "cloned once")
}

// lineLog collects a worker's progress lines.
type lineLog struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lineLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
