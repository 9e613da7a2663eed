package rpc_test

// The transport-neutral scenario suite: every scenario runs over JSON-RPC
// 2.0 in both job-reply styles (25.10 blocking calls, 25.04 job ids) and
// over the legacy /websocket protocol (24.10, and 26.0 beside SCRAM),
// against the fake through proxy, which passes frames through and injects
// the same event faults on both protocols.

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

type suiteEnv struct {
	srv    *fake.Server
	clk    *sim.Clock
	p      *proxy
	c      *rpc.Conn
	legacy bool // the legacy protocol
	jobIDs bool // job calls answer the job id (legacy protocol, or 25.04 style)
}

var suiteCases = []struct {
	name       string
	version    truenas.Version
	legacy     bool
	legacyJobs bool
}{
	{"jsonrpc-25.10-blocking", truenas.Version2510, false, false},
	{"jsonrpc-25.04-jobid", truenas.Version2504, false, false},
	{"jsonrpc-26.0-scram", truenas.Version2600, false, false},
	{"legacy-24.10", truenas.Version2410, true, false},
	{"legacy-26.0", truenas.Version2600, true, false},
}

// eachProtocol runs fn once per protocol, release and job style.
func eachProtocol(t *testing.T, fn func(t *testing.T, e *suiteEnv)) {
	for _, tc := range suiteCases {
		t.Run(tc.name, func(t *testing.T) {
			srv, clk := newFake(t)
			srv.TrueNAS().SetVersion(tc.version)
			p := newProxy(t, srv, tc.legacy)
			c, err := rpc.Dial(testCtx(t), p.URL(), rpc.WithAPIKey("admin", "1-longrunfakeapikey"),
				rpc.WithClock(clk), rpc.WithLegacyJobs(tc.legacyJobs), rpc.WithReconnect(time.Millisecond, time.Millisecond))
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			t.Cleanup(func() { c.Close() })
			want := rpc.ProtocolJSONRPC
			if tc.legacy {
				want = rpc.ProtocolLegacy
			}
			if c.Protocol() != want {
				t.Fatalf("protocol %v, want %v", c.Protocol(), want)
			}
			fn(t, &suiteEnv{srv: srv, clk: clk, p: p, c: c, legacy: tc.legacy, jobIDs: !c.NewStyleJobs()})
		})
	}
}

// stepUntil advances the fake clock a second at a time, yielding to the
// connection's goroutines in between, until done is closed (bounded, so
// a bug fails instead of spinning; generous, since the work between two
// steps crosses a loopback socket on a loaded machine).
func stepUntil(t *testing.T, clk *sim.Clock, done <-chan struct{}) {
	t.Helper()
	for i := 0; i < 2000000; i++ {
		select {
		case <-done:
			return
		default:
		}
		if i%20 == 0 {
			clk.Advance(time.Second)
		}
		runtime.Gosched()
	}
	t.Fatal("never done")
}

func TestSuiteCallsAndErrors(t *testing.T) {
	eachProtocol(t, func(t *testing.T, e *suiteEnv) {
		ctx := testCtx(t)
		var pong string
		if err := e.c.Call(ctx, "core.ping", nil, &pong); err != nil || pong != "pong" {
			t.Fatalf("core.ping: %q %v", pong, err)
		}
		if err := e.c.Ping(ctx); err != nil {
			t.Fatalf("Ping: %v", err)
		}
		err := e.c.Call(ctx, "nothing.here", nil, nil)
		var re *rpc.Error
		if !errors.Is(err, rpc.ErrMethodNotFound) || !errors.As(err, &re) {
			t.Fatalf("unknown method: %v", err)
		}
		h, err := e.c.CallJob(ctx, "filesystem.copy", "/tmp/outside", "/mnt/tank/dst")
		if err == nil {
			err = h.Wait(ctx, nil)
		}
		var je *rpc.JobError
		if !errors.Is(err, rpc.ErrInvalidParams) || !errors.Is(err, jobs.ErrJobFailed) || !errors.As(err, &je) || len(je.Validation) == 0 {
			t.Fatalf("validation: %v", err)
		}
		if _, err := e.c.GetJob(ctx, "999"); !errors.Is(err, jobs.ErrNotFound) {
			t.Fatalf("GetJob of an unknown job: %v", err)
		}
	})
}

func TestSuiteUnauthenticated(t *testing.T) {
	for _, legacy := range []bool{false, true} {
		srv, _ := newFake(t)
		if legacy {
			srv.TrueNAS().SetVersion(truenas.Version2410)
		}
		p := newProxy(t, srv, legacy)
		c, err := rpc.Dial(testCtx(t), p.URL())
		if err != nil {
			t.Fatal(err)
		}
		err = c.Call(testCtx(t), "core.get_jobs", []any{[]any{}, map[string]any{}}, nil)
		if !errors.Is(err, jobs.ErrUnauthorized) || !errors.Is(err, rpc.ErrNotAuthenticated) {
			t.Fatalf("legacy %v: %v", legacy, err)
		}
		c.Close()
		_, err = rpc.Dial(testCtx(t), p.URL(), rpc.WithPassword("admin", "wrong"))
		if !errors.Is(err, jobs.ErrUnauthorized) || !errors.Is(err, rpc.ErrAuthFailed) {
			t.Fatalf("legacy %v: bad password: %v", legacy, err)
		}
	}
}

func TestSuiteCopyWithProgress(t *testing.T) {
	eachProtocol(t, func(t *testing.T, e *suiteEnv) {
		ctx := testCtx(t)
		h, err := e.c.CallJob(ctx, "filesystem.copy", "/mnt/tank/src", "/mnt/tank/dst")
		if err != nil {
			t.Fatal(err)
		}
		if e.jobIDs && h.ID() != "1" {
			t.Fatalf("job id %q", h.ID())
		}
		e.clk.Advance(truenas.CopyStep * truenas.CopySteps)
		var ok bool
		if err := h.Wait(ctx, &ok); err != nil || !ok {
			t.Fatalf("wait: %v %v", ok, err)
		}
		var last rpc.JobProgress
		for p := range h.Progress() {
			last = p
		}
		if last.Percent != 100 {
			t.Fatalf("last progress %+v", last)
		}
		if j := h.ToJob(); j == nil || j.State != jobs.StateSucceeded || j.Dialect != rpc.Dialect {
			t.Fatalf("job %+v", j)
		}
	})
}

func TestSuiteJobsWaitPushFirst(t *testing.T) {
	eachProtocol(t, func(t *testing.T, e *suiteEnv) {
		ctx := testCtx(t)
		h, err := e.c.CallJob(ctx, "filesystem.copy", "/mnt/a", "/mnt/b")
		if err != nil {
			t.Fatal(err)
		}
		if h.ID() == "" {
			t.Skip("the blocking style reveals the id with the first event; covered by the job-id styles")
		}
		done := make(chan struct{})
		var got *jobs.Job
		go func() {
			defer close(done)
			// Polls an hour apart: only a push can end this wait.
			got, err = jobs.Wait(ctx, e.c, h.ID(), jobs.WithClock(e.clk), jobs.WithInterval(time.Hour, time.Hour))
		}()
		e.clk.Advance(truenas.CopyStep * truenas.CopySteps)
		<-done
		if err != nil || got.State != jobs.StateSucceeded {
			t.Fatalf("jobs.Wait: %+v %v", got, err)
		}
	})
}

func TestSuiteReconnectReconciles(t *testing.T) {
	eachProtocol(t, func(t *testing.T, e *suiteEnv) {
		ctx := testCtx(t)
		h, err := e.c.CallJob(ctx, "filesystem.copy", "/mnt/a", "/mnt/b")
		if err != nil {
			t.Fatal(err)
		}
		e.clk.Advance(truenas.CopyStep)
		e.p.dropAll()
		// The job ends while the socket is down (or coming back).
		e.clk.Advance(time.Hour)
		stepUntil(t, e.clk, h.Done())
		var ok bool
		if err := h.Wait(ctx, &ok); err != nil && !errors.Is(err, rpc.ErrDisconnected) {
			t.Fatalf("wait: %v", err)
		}
		if err := e.c.Ping(ctx); err != nil {
			t.Fatalf("ping after reconnect: %v", err)
		}
	})
}

func TestSuiteSubscribe(t *testing.T) {
	eachProtocol(t, func(t *testing.T, e *suiteEnv) {
		ctx := testCtx(t)
		sub, err := e.c.Subscribe(ctx, "core.get_jobs")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.c.CallJob(ctx, "filesystem.copy", "/mnt/a", "/mnt/b"); err != nil {
			t.Fatal(err)
		}
		ev := <-sub.C()
		if ev.Msg != "added" || ev.Collection != "core.get_jobs" || string(ev.ID) != "1" {
			t.Fatalf("event %+v", ev)
		}
		if err := sub.Close(ctx); err != nil || sub.Err() != nil {
			t.Fatalf("close: %v %v", err, sub.Err())
		}
	})
}

// terminal reports a job event that carries a final state.
func terminal(fields map[string]any) bool {
	s, _ := fields["state"].(string)
	return s == "SUCCESS" || s == "FAILED" || s == "ABORTED"
}

// TestSuiteLostFinalEvent drops every final event: the handle, its Entry,
// a Changes stream and jobs.Wait still end with the final state (the
// per-connection checker asks core.get_jobs; a blocking reply asks too).
func TestSuiteLostFinalEvent(t *testing.T) {
	eachProtocol(t, func(t *testing.T, e *suiteEnv) {
		ctx := testCtx(t)
		e.p.setFilter(func(msg string, fields map[string]any) filterAction {
			if terminal(fields) {
				return drop
			}
			return pass
		})
		h, err := e.c.CallJob(ctx, "filesystem.copy", "/mnt/a", "/mnt/b")
		if err != nil {
			t.Fatal(err)
		}
		var changes <-chan *jobs.Job
		waited := make(chan *jobs.Job, 1)
		if h.ID() != "" {
			changes, err = e.c.Changes(ctx, h.ID())
			if err != nil {
				t.Fatal(err)
			}
			go func() {
				j, _ := jobs.Wait(ctx, e.c, h.ID(), jobs.WithClock(e.clk), jobs.WithInterval(time.Hour, time.Hour))
				waited <- j
			}()
		}
		stepUntil(t, e.clk, h.Done())
		var ok bool
		if err := h.Wait(ctx, &ok); err != nil || !ok {
			t.Fatalf("wait: %v %v", ok, err)
		}
		if en := h.Entry(); en == nil || en.State != rpc.StateSuccess {
			t.Fatalf("entry %+v", en)
		}
		if changes != nil {
			var last *jobs.Job
		drain:
			for {
				select {
				case j, ok := <-changes:
					if !ok {
						break drain
					}
					last = j
					if j.State == jobs.StateSucceeded {
						break drain
					}
				case <-ctx.Done():
					t.Fatal("Changes never ended with the final state")
				}
			}
			if last == nil || last.State != jobs.StateSucceeded {
				t.Fatalf("Changes ended with %+v", last)
			}
			if j := <-waited; j == nil || j.State != jobs.StateSucceeded {
				t.Fatalf("jobs.Wait ended with %+v", j)
			}
		}
	})
}

// TestSuiteReorderedEvents holds events back and delivers them after the
// next one, so an older RUNNING event arrives after newer ones (and after
// the final one): the handle never goes back and ends SUCCESS at 100%.
func TestSuiteReorderedEvents(t *testing.T) {
	eachProtocol(t, func(t *testing.T, e *suiteEnv) {
		ctx := testCtx(t)
		n := 0
		e.p.setFilter(func(msg string, fields map[string]any) filterAction {
			if msg == "changed" && !terminal(fields) {
				n++
				if n%2 == 1 {
					return hold
				}
			}
			return pass
		})
		h, err := e.c.CallJob(ctx, "filesystem.copy", "/mnt/a", "/mnt/b")
		if err != nil {
			t.Fatal(err)
		}
		regress := make(chan float64, 1)
		go func() {
			defer close(regress)
			var prev float64
			for p := range h.Progress() {
				if p.Percent < prev {
					regress <- p.Percent
					for range h.Progress() {
					}
					return
				}
				prev = p.Percent
			}
		}()
		stepUntil(t, e.clk, h.Done())
		if err := h.Wait(ctx, nil); err != nil {
			t.Fatal(err)
		}
		if en := h.Entry(); en.State != rpc.StateSuccess || en.Progress.Percent != 100 {
			t.Fatalf("entry %+v", en)
		}
		if p, ok := <-regress; ok {
			t.Fatalf("progress went back to %v", p)
		}
	})
}

func TestSuiteListAndAll(t *testing.T) {
	eachProtocol(t, func(t *testing.T, e *suiteEnv) {
		ctx := testCtx(t)
		for i := range 5 {
			if _, err := e.c.CallJob(ctx, "filesystem.copy", "/mnt/a"+string(rune('0'+i)), "/mnt/b"); err != nil {
				t.Fatal(err)
			}
		}
		p, err := e.c.List(ctx, &rpc.ListOptions{Limit: 2, Filters: []rpc.Filter{rpc.Where("method", rpc.Eq, "filesystem.copy")}})
		if err != nil || len(p.Items) != 2 || !p.More || p.Total != -1 || p.Items[0].ID != 1 || p.NextOffset() != 2 {
			t.Fatalf("page %+v %v", p, err)
		}
		var ids []int64
		for j, err := range e.c.All(ctx, &rpc.ListOptions{Limit: 2}) {
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, j.ID)
		}
		if len(ids) != 5 || ids[4] != 5 {
			t.Fatalf("All: %v", ids)
		}
	})
}

func TestSuiteWaitTimeout(t *testing.T) {
	eachProtocol(t, func(t *testing.T, e *suiteEnv) {
		h, err := e.c.CallJob(testCtx(t), "filesystem.copy", "/mnt/a", "/mnt/b")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(testCtx(t))
		cancel()
		err = h.Wait(ctx, nil)
		var te *jobs.TimeoutError
		if !errors.As(err, &te) || !errors.Is(err, context.Canceled) {
			t.Fatalf("want a *jobs.TimeoutError, got %v", err)
		}
		if e.jobIDs && (te.Last == nil || te.Last.ID != h.ID()) {
			t.Fatalf("last snapshot %+v", te.Last)
		}
	})
}
