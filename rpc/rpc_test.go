package rpc_test

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/fake/sim"
	"github.com/longrun/longrun/fake/truenas"
	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/rpc"
)

// testCtx bounds a test on wall time only as a safety net against hangs;
// no test waits for it to pass.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// newFake starts the fake with a manual clock (no auto-advance).
func newFake(t *testing.T) (*fake.Server, *sim.Clock) {
	t.Helper()
	clk := sim.NewClock(sim.Epoch)
	srv := fake.NewServer(t, fake.Options{Clock: clk})
	return srv, clk
}

func dial(t *testing.T, srv *fake.Server, opts ...rpc.Option) *rpc.Conn {
	t.Helper()
	opts = append([]rpc.Option{rpc.WithAPIKey("admin", "1-longrunfakeapikey"), rpc.WithClock(srv.Clock())}, opts...)
	c, err := rpc.Dial(testCtx(t), srv.WebsocketURL(), opts...)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// checkGoroutines returns a func that closes c and srv and then checks
// that no goroutine started since the call is left.
func checkGoroutines(t *testing.T) func(c *rpc.Conn, srv *fake.Server) {
	t.Helper()
	before := runtime.NumGoroutine()
	return func(c *rpc.Conn, srv *fake.Server) {
		t.Helper()
		c.Close()
		srv.Close()
		for i := 0; i < 10000 && runtime.NumGoroutine() > before; i++ {
			runtime.Gosched()
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Errorf("goroutines leaked: %d before, %d after\n%s", before, n, buf)
		}
	}
}

func TestCopyBothModes(t *testing.T) {
	for _, mode := range []struct {
		name     string
		version  truenas.Version
		legacy   bool
		newStyle bool
	}{
		{"25.10-blocking", truenas.Version2510, false, true},
		{"25.10-legacy", truenas.Version2510, true, false},
		{"25.04", truenas.Version2504, false, false},
	} {
		t.Run(mode.name, func(t *testing.T) {
			srv, clk := newFake(t)
			srv.TrueNAS().SetVersion(mode.version)
			c := dial(t, srv, rpc.WithLegacyJobs(mode.legacy))
			if c.NewStyleJobs() != mode.newStyle {
				t.Fatalf("NewStyleJobs = %v", c.NewStyleJobs())
			}
			ctx := testCtx(t)
			h, err := c.CallJob(ctx, "filesystem.copy", "/mnt/tank/src", "/mnt/tank/dst")
			if err != nil {
				t.Fatal(err)
			}
			if h.ID() != "1" {
				t.Fatalf("job id %s", h.ID())
			}
			clk.Advance(truenas.CopyStep * truenas.CopySteps)
			var ok bool
			if err := h.Wait(ctx, &ok); err != nil {
				t.Fatal(err)
			}
			if !ok {
				t.Fatal("result false")
			}
			var last rpc.JobProgress
			for p := range h.Progress() {
				last = p
			}
			if last.Percent != 100 {
				t.Fatalf("last progress %+v", last)
			}
			if e := h.Entry(); e == nil || e.State != rpc.StateSuccess {
				t.Fatalf("entry %+v", e)
			}
		})
	}
}

func TestBadPasswordIsTyped(t *testing.T) {
	srv, _ := newFake(t)
	_, err := rpc.Dial(testCtx(t), srv.WebsocketURL(), rpc.WithPassword("admin", "nope"))
	var ae *rpc.AuthError
	if !errors.As(err, &ae) || ae.ResponseType != "AUTH_ERR" || !errors.Is(err, rpc.ErrAuthFailed) {
		t.Fatalf("err = %v", err)
	}
}

func TestJobsWaitPushFirst(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{}) // auto-advancing clock
	c := dial(t, srv, rpc.WithLegacyJobs(true))
	ctx := testCtx(t)
	h, err := c.CallJob(ctx, "filesystem.copy", "/mnt/a", "/mnt/b")
	if err != nil {
		t.Fatal(err)
	}
	var seen int
	j, err := jobs.Wait(ctx, c, "1", jobs.WithClock(srv.Clock()), jobs.WithOnProgress(func(*jobs.Job) { seen++ }))
	if err != nil {
		t.Fatal(err)
	}
	if j.State != jobs.StateSucceeded || h.ID() != "1" {
		t.Fatalf("job %+v", j)
	}
	_ = seen
}
