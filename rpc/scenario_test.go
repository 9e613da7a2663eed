package rpc_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/fake/sim"
	"github.com/longrun/longrun/fake/truenas"
	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/rpc"
)

var modes = []struct {
	name   string
	legacy bool
}{{"blocking", false}, {"legacy", true}}

func TestEventsBeforeReply(t *testing.T) {
	// A slow reply (1s of fake time that nobody advances yet) arrives
	// after the job's events: the handle is bound by message_ids and has
	// merged the events before the reply exists.
	srv, clk := newFake(t)
	c := dial(t, srv, rpc.WithLegacyJobs(true))
	ctx := testCtx(t)
	if _, err := c.CallJob(ctx, "catalog.sync"); err != nil { // subscribes
		t.Fatal(err)
	}
	srv.Faults().Inject(sim.FaultSlowReplies, 1)
	h, err := c.CallJob(ctx, "filesystem.copy", "/mnt/tank/a", "/mnt/tank/b")
	if err != nil {
		t.Fatal(err)
	}
	e := h.Entry()
	if h.ID() != "2" || e == nil || e.Description == nil || *e.Description != "Copying /mnt/tank/a to /mnt/tank/b" {
		t.Fatalf("bound before reply: id %s entry %+v", h.ID(), e)
	}
	clk.Advance(time.Hour)
	if err := h.Wait(ctx, nil); err != nil {
		t.Fatal(err)
	}
}

func TestLockedDuplicateAttach(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			srv, clk := newFake(t)
			c := dial(t, srv, rpc.WithLegacyJobs(m.legacy))
			ctx := testCtx(t)
			var hs []*rpc.JobHandle
			for range 3 {
				h, err := c.CallJob(ctx, "cloud_backup.sync", 7)
				if err != nil {
					t.Fatal(err)
				}
				hs = append(hs, h)
			}
			// lock_queue_size 1: one runs, one waits, the third attaches.
			if hs[0].ID() != "1" || hs[1].ID() != "2" || hs[2].ID() != "2" {
				t.Fatalf("ids %s %s %s", hs[0].ID(), hs[1].ID(), hs[2].ID())
			}
			clk.Advance(time.Hour)
			for _, h := range hs {
				if err := h.Wait(ctx, nil); err != nil {
					t.Fatal(err)
				}
			}
			e, err := c.GetJob(ctx, "2")
			if err != nil {
				t.Fatal(err)
			}
			if len(e.MessageIDs) != 2 || !e.HasMessageID(mustReq(t, hs[2])) {
				t.Fatalf("message_ids %s", e.MessageIDs)
			}
		})
	}
}

// mustReq finds the request id of a handle through its entry: the last
// message id.
func mustReq(t *testing.T, h *rpc.JobHandle) int64 {
	t.Helper()
	e := h.Entry()
	var id int64
	if e == nil || len(e.MessageIDs) == 0 || json.Unmarshal(e.MessageIDs[len(e.MessageIDs)-1], &id) != nil {
		t.Fatalf("no message ids in %+v", e)
	}
	return id
}

func TestAbort(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			srv, clk := newFake(t)
			c := dial(t, srv, rpc.WithLegacyJobs(m.legacy))
			ctx := testCtx(t)
			h, err := c.CallJob(ctx, "filesystem.copy", "/mnt/a", "/mnt/b")
			if err != nil {
				t.Fatal(err)
			}
			clk.Advance(truenas.CopyStep * 3)
			if err := h.Abort(ctx); err != nil {
				t.Fatal(err)
			}
			err = h.Wait(ctx, nil)
			var je *rpc.JobError
			if !errors.Is(err, jobs.ErrJobAborted) || !errors.As(err, &je) || je.State != rpc.StateAborted || je.JobID != 1 {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestFailureTypes(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			srv, clk := newFake(t)
			c := dial(t, srv, rpc.WithLegacyJobs(m.legacy))
			ctx := testCtx(t)

			h, err := c.CallJob(ctx, "filesystem.copy", "/tmp/a", "/mnt/b")
			if err != nil {
				t.Fatal(err)
			}
			err = h.Wait(ctx, nil)
			var je *rpc.JobError
			if !errors.As(err, &je) || !errors.Is(err, rpc.ErrInvalidParams) || !errors.Is(err, jobs.ErrJobFailed) {
				t.Fatalf("validation: %v", err)
			}
			if je.Type != "VALIDATION" || len(je.Validation) != 1 || je.Validation[0].Attribute != "filesystem.copy.src" || je.Validation[0].Errno != 22 {
				t.Fatalf("validation: %+v", je)
			}

			h, err = c.CallJob(ctx, "filesystem.copy", "/mnt/tank/missing", "/mnt/b")
			if err != nil {
				t.Fatal(err)
			}
			err = h.Wait(ctx, nil)
			if !errors.As(err, &je) || je.Type != "FileNotFoundError" || errors.Is(err, rpc.ErrInvalidParams) {
				t.Fatalf("exception: %v %+v", err, je)
			}

			// A job with lock_queue_size 0 (as system.debug has): a second
			// call while one runs is refused with EBUSY before any job
			// exists. (catalog.sync queues: lock_queue_size 1 from 25.10.)
			srv.TrueNAS().RegisterJobMethod("test.busy", truenas.JobMethod{
				Lock:          func([]json.RawMessage) string { return "test.busy" },
				LockQueueSize: truenas.QueueSize(0),
				Run: func(r *truenas.JobRun) (any, error) {
					return nil, r.Sleep(time.Minute)
				},
			})
			first, err := c.CallJob(ctx, "test.busy")
			if err != nil {
				t.Fatal(err)
			}
			second, err := c.CallJob(ctx, "test.busy")
			if err != nil {
				t.Fatal(err)
			}
			err = second.Wait(ctx, nil)
			var rpcErr *rpc.Error
			if !errors.As(err, &rpcErr) || rpcErr.Code != rpc.CodeMethodCallError || rpcErr.Errno() != 16 {
				t.Fatalf("EBUSY: %v", err)
			}
			clk.Advance(time.Hour)
			if err := first.Wait(ctx, nil); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestGetJobsFilters(t *testing.T) {
	srv, clk := newFake(t)
	c := dial(t, srv, rpc.WithLegacyJobs(true))
	ctx := testCtx(t)
	for _, args := range [][]any{{"/mnt/a", "/mnt/b"}, {"/tmp/x", "/mnt/y"}, {"/mnt/c", "/mnt/d"}} {
		if _, err := c.CallJob(ctx, "filesystem.copy", args...); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.CallJob(ctx, "catalog.sync"); err != nil {
		t.Fatal(err)
	}
	clk.Advance(truenas.CopyStep * 2)

	got, err := c.GetJobs(ctx, []rpc.Filter{
		rpc.Where("method", rpc.CI(rpc.Prefix), "FILESYSTEM."),
		rpc.Or(rpc.And(rpc.Where("state", rpc.Eq, "RUNNING")), rpc.And(rpc.Where("exc_info.type", rpc.Eq, "VALIDATION"))),
	}, rpc.QueryOptions{OrderBy: []string{"-id"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].ID != 3 || got[2].ID != 1 || got[1].State != rpc.StateFailed {
		t.Fatalf("got %+v", got)
	}
	n, err := c.CountJobs(ctx, rpc.Where("arguments.0", rpc.Has, "/mnt"), rpc.Where("progress.percent", rpc.Ge, 10))
	if err != nil || n != 2 {
		t.Fatalf("count %d %v", n, err)
	}
	var sel []map[string]any
	err = c.Query(ctx, "core.get_jobs", []rpc.Filter{rpc.Where("id", rpc.In, []int{2, 4})},
		rpc.QueryOptions{SelectAs: [][2]string{{"method", "m"}}, Select: []string{"progress.percent"}, Limit: 1, Offset: 1}, &sel)
	if err != nil || len(sel) != 1 || sel[0]["m"] != "catalog.sync" {
		t.Fatalf("select %v %v", sel, err)
	}
	since := sim.Epoch.Add(-time.Minute).Format(time.RFC3339)
	n, err = c.CountJobs(ctx, rpc.Where("time_started.$date", rpc.Gt, since), rpc.Where("method", rpc.Match, `^catalog\.`))
	if err != nil || n != 1 {
		t.Fatalf("date count %d %v", n, err)
	}
	_, err = c.GetJobs(ctx, []rpc.Filter{rpc.Where("id", "bogus", 1)}, rpc.QueryOptions{})
	if !errors.Is(err, rpc.ErrInvalidParams) {
		t.Fatalf("bad operator: %v", err)
	}
	_, err = c.GetJob(ctx, "99")
	if !errors.Is(err, jobs.ErrNotFound) {
		t.Fatalf("missing job: %v", err)
	}
}

func TestReconnectMidJob(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			srv, clk := newFake(t)
			c := dial(t, srv, rpc.WithLegacyJobs(m.legacy))
			ctx := testCtx(t)
			h, err := c.CallJob(ctx, "filesystem.copy", "/mnt/a", "/mnt/b")
			if err != nil {
				t.Fatal(err)
			}
			// The socket breaks after the next event; the job then runs
			// to its end, possibly before the client is back.
			srv.Faults().Inject(sim.FaultDropWebsocket, 1)
			clk.Advance(truenas.CopyStep)
			clk.Advance(time.Hour)
			var ok bool
			if err := h.Wait(ctx, &ok); err != nil || !ok {
				t.Fatalf("wait after reconnect: %v %v", ok, err)
			}
			if err := c.Ping(ctx); err != nil {
				t.Fatalf("ping after reconnect: %v", err)
			}
		})
	}
}

func TestJobsWaitAcrossReconnect(t *testing.T) {
	srv, clk := newFake(t)
	c := dial(t, srv, rpc.WithLegacyJobs(true))
	ctx := testCtx(t)
	h, err := c.CallJob(ctx, "filesystem.copy", "/mnt/a", "/mnt/b")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var snaps []*jobs.Job
	done := make(chan error, 1)
	go func() {
		_, err := jobs.Wait(ctx, c, "1", jobs.WithClock(clk), jobs.WithInterval(time.Hour, time.Hour),
			jobs.WithOnProgress(func(j *jobs.Job) { mu.Lock(); snaps = append(snaps, j); mu.Unlock() }))
		done <- err
	}()
	srv.TrueNAS().DropConnections()
	clk.Advance(time.Hour)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if last := snaps[len(snaps)-1]; last.State != jobs.StateSucceeded {
		t.Fatalf("last %+v", last)
	}
	_ = h
}

func TestDuplicateAndReorderedEvents(t *testing.T) {
	srv, clk := newFake(t)
	c := dial(t, srv)
	ctx := testCtx(t)
	srv.Faults().Inject(sim.FaultDuplicateEvents, -1)
	srv.Faults().Inject(sim.FaultReorderEvents, 5)
	h, err := c.CallJob(ctx, "filesystem.copy", "/mnt/a", "/mnt/b")
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
	clk.Advance(time.Hour)
	if err := h.Wait(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if e := h.Entry(); e.State != rpc.StateSuccess || e.Progress.Percent != 100 {
		t.Fatalf("entry %+v", e)
	}
	if p, ok := <-regress; ok {
		t.Fatalf("progress went back to %v", p)
	}
}

func TestSubscriptionOverflow(t *testing.T) {
	srv, clk := newFake(t)
	c := dial(t, srv, rpc.WithEventBuffer(2))
	ctx := testCtx(t)
	sub, err := c.Subscribe(ctx, "core.get_jobs")
	if err != nil {
		t.Fatal(err)
	}
	h, err := c.CallJob(ctx, "filesystem.copy", "/mnt/a", "/mnt/b")
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour)
	if err := h.Wait(ctx, nil); err != nil {
		t.Fatal(err)
	}
	n := 0
	for range sub.C() {
		n++
	}
	if n != 2 || !errors.Is(sub.Err(), rpc.ErrSubscriptionOverflow) {
		t.Fatalf("read %d, err %v", n, sub.Err())
	}
	// The connection itself is fine.
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestSubscribeEvents(t *testing.T) {
	srv, clk := newFake(t)
	c := dial(t, srv)
	ctx := testCtx(t)
	sub, err := c.Subscribe(ctx, "core.get_jobs")
	if err != nil {
		t.Fatal(err)
	}
	h, err := c.CallJob(ctx, "catalog.sync")
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour)
	if err := h.Wait(ctx, nil); err != nil {
		t.Fatal(err)
	}
	first := <-sub.C()
	if first.Msg != "added" || first.Collection != "core.get_jobs" || string(first.ID) != "1" {
		t.Fatalf("first event %+v", first)
	}
	if err := sub.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if sub.Err() != nil {
		t.Fatal(sub.Err())
	}
}

func TestErrorsTyped(t *testing.T) {
	srv, _ := newFake(t)
	ctx := testCtx(t)
	c, err := rpc.Dial(ctx, srv.WebsocketURL())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.Call(ctx, "core.get_jobs", nil, nil)
	var e *rpc.Error
	if !errors.Is(err, rpc.ErrNotAuthenticated) || !errors.As(err, &e) || e.Code != rpc.CodeMethodCallError || e.Data.Errname != "ENOTAUTHENTICATED" {
		t.Fatalf("unauthenticated: %v", err)
	}
	if err := c.Call(ctx, "no.such", nil, nil); !errors.Is(err, rpc.ErrMethodNotFound) {
		t.Fatalf("unknown method: %v", err)
	}
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestTooManyConcurrentCalls(t *testing.T) {
	// 25.10 blocking job calls hold the connection's call slots: 10 run,
	// 10 more wait in the server, and the 21st is refused with -32000.
	srv, _ := newFake(t)
	c := dial(t, srv, rpc.WithMaxInFlight(64))
	ctx := testCtx(t)
	if _, err := c.Changes(ctx, "99999"); err != nil { // subscribes to core.get_jobs
		t.Fatal(err)
	}
	results := make(chan error, 32)
	var wg sync.WaitGroup
	for i := range truenas.HardCallLimit + 1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h, err := c.CallJob(ctx, "pool.scrub.scrub", fmt.Sprintf("tank%d", i))
			if err != nil {
				results <- err
				return
			}
			select {
			case <-h.Done():
				results <- h.Wait(ctx, nil)
			default:
				results <- nil
			}
		}()
	}
	refused := 0
	for range truenas.SoftCallLimit + 1 {
		if err := <-results; err != nil {
			if !errors.Is(err, rpc.ErrTooManyCalls) {
				t.Fatalf("unexpected: %v", err)
			}
			var e *rpc.Error
			if !errors.As(err, &e) || !e.Temporary() {
				t.Fatalf("not a temporary *rpc.Error: %v", err)
			}
			refused++
		}
	}
	c.Close()
	wg.Wait()
	if refused != 1 {
		t.Fatalf("%d calls refused with -32000, want 1", refused)
	}
}

func TestTokenAndFallbackLogin(t *testing.T) {
	srv, _ := newFake(t)
	ctx := testCtx(t)
	c := dial(t, srv)
	tok, err := c.GenerateToken(ctx, rpc.GenerateTokenOptions{TTL: time.Minute, SingleUse: true})
	if err != nil || tok == "" {
		t.Fatal(err)
	}
	c2, err := rpc.Dial(ctx, srv.WebsocketURL(), rpc.WithToken(tok))
	if err != nil {
		t.Fatal(err)
	}
	c2.Close()
	// Single use: the token is spent.
	if _, err := rpc.Dial(ctx, srv.WebsocketURL(), rpc.WithToken(tok)); !errors.Is(err, rpc.ErrAuthFailed) {
		t.Fatalf("spent token: %v", err)
	}
	// A server without auth.login_ex: the client falls back.
	srv.TrueNAS().Disable("auth.login_ex")
	c3, err := rpc.Dial(ctx, srv.WebsocketURL(), rpc.WithPassword("admin", "secret"))
	if err != nil {
		t.Fatal(err)
	}
	c3.Close()
	if _, err := rpc.Dial(ctx, srv.WebsocketURL(), rpc.WithPassword("admin", "bad")); !errors.Is(err, rpc.ErrAuthFailed) {
		t.Fatalf("legacy bad password: %v", err)
	}
}

func TestCloseEndsGoroutines(t *testing.T) {
	clk := sim.NewClock(sim.Epoch)
	srv := fake.NewServer(nil, fake.Options{Clock: clk})
	check := checkGoroutines(t)
	ctx := testCtx(t)
	c, err := rpc.Dial(ctx, srv.WebsocketURL(), rpc.WithAPIKey("admin", "1-longrunfakeapikey"))
	if err != nil {
		t.Fatal(err)
	}
	h, err := c.CallJob(ctx, "filesystem.copy", "/mnt/a", "/mnt/b")
	if err != nil {
		t.Fatal(err)
	}
	sub, err := c.Subscribe(ctx, "core.get_jobs")
	if err != nil {
		t.Fatal(err)
	}
	ch, err := c.Changes(ctx, "1")
	if err != nil {
		t.Fatal(err)
	}
	check(c, srv)
	if err := h.Wait(ctx, nil); !errors.Is(err, rpc.ErrClosed) {
		t.Fatalf("wait after close: %v", err)
	}
	if _, ok := <-sub.C(); ok {
		// drain whatever was buffered
		for range sub.C() {
		}
	}
	for range ch {
	}
	if err := c.Ping(ctx); !errors.Is(err, rpc.ErrClosed) {
		t.Fatalf("call after close: %v", err)
	}
}

func TestTransientJob(t *testing.T) {
	// pool.scrub is transient: forgotten at its end (the pool.scrub.scrub
	// job it wraps stays). From 26.0 it sends
	// no events (job.py's send_job_event skips transient jobs since
	// NAS-137842): a blocking call gets the result in its reply (CallJob
	// returns only then: there is no job id to learn); a legacy call is
	// followed with core.job_wait. Up to 25.10 a transient job sends its
	// events as any job does, so its id is learnt and followed.
	for _, v := range []truenas.Version{truenas.Version2600, truenas.Version2510} {
		for _, m := range modes {
			t.Run(string(v)+"-"+m.name, func(t *testing.T) {
				srv, clk := newFake(t)
				srv.TrueNAS().SetVersion(v)
				c := dial(t, srv, rpc.WithLegacyJobs(m.legacy))
				ctx := testCtx(t)
				type res struct {
					h   *rpc.JobHandle
					err error
				}
				got := make(chan res, 1)
				go func() {
					h, err := c.CallJob(ctx, "pool.scrub", 1, "START")
					got <- res{h, err}
				}()
				// Step the clock once the server holds the jobs it needs:
				// pool.scrub and the pool.scrub.scrub job it wraps, and for
				// legacy calls on 26.0 the core.job_wait on it.
				want := 2
				if m.legacy && v == truenas.Version2600 {
					want = 3
				}
				for {
					n, err := c.CountJobs(ctx)
					if err != nil {
						t.Fatal(err)
					}
					if n == want {
						break
					}
					runtime.Gosched()
				}
				clk.Advance(time.Hour)
				r := <-got
				if r.err != nil {
					t.Fatal(r.err)
				}
				if err := r.h.Wait(ctx, nil); err != nil {
					t.Fatal(err)
				}
				wantID := "1"
				if !m.legacy && v == truenas.Version2600 {
					wantID = ""
				}
				if r.h.ID() != wantID {
					t.Fatalf("id %q, want %q", r.h.ID(), wantID)
				}
				if _, err := c.GetJob(ctx, "1"); !errors.Is(err, jobs.ErrNotFound) {
					t.Fatalf("transient job still listed: %v", err)
				}
			})
		}
	}
}

func TestJobWait(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			srv, clk := newFake(t)
			c := dial(t, srv, rpc.WithLegacyJobs(m.legacy))
			ctx := testCtx(t)
			h, err := c.CallJob(ctx, "filesystem.copy", "/mnt/a", "/mnt/b")
			if err != nil {
				t.Fatal(err)
			}
			bad, err := c.CallJob(ctx, "filesystem.copy", "/mnt/missing", "/mnt/b")
			if err != nil {
				t.Fatal(err)
			}
			_ = bad.Wait(ctx, nil)
			type res struct {
				ok  bool
				err error
			}
			out := make(chan res, 1)
			go func() {
				var ok bool
				err := c.JobWait(ctx, h.ID(), &ok)
				out <- res{ok, err}
			}()
			for {
				n, err := c.CountJobs(ctx, rpc.Where("method", rpc.Eq, "core.job_wait"))
				if err != nil {
					t.Fatal(err)
				}
				if n == 1 {
					break
				}
				runtime.Gosched()
			}
			clk.Advance(time.Hour)
			if r := <-out; r.err != nil || !r.ok {
				t.Fatalf("job_wait: %v %v", r.ok, r.err)
			}
			// A wait on a job that failed with an exception fails with a
			// CallError carrying the job's error, as job.wrap does.
			err = c.JobWait(ctx, bad.ID(), nil)
			var je *rpc.JobError
			if !errors.As(err, &je) || je.Type != "CallError" || je.Errno == nil || *je.Errno != 14 {
				t.Fatalf("job_wait on failed job: %v %+v", err, je)
			}
		})
	}
}

func TestManyWaitsShareOneSubscription(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{}) // auto-advancing clock
	c := dial(t, srv, rpc.WithLegacyJobs(true))
	ctx := testCtx(t)
	const n = 25
	var ids []string
	for i := range n {
		h, err := c.CallJob(ctx, "filesystem.copy", fmt.Sprintf("/mnt/src%d", i), "/mnt/dst")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, h.ID())
	}
	errs := make(chan error, n)
	for _, id := range ids {
		go func() {
			j, err := jobs.Wait(ctx, c, id, jobs.WithClock(srv.Clock()))
			if err == nil && j.State != jobs.StateSucceeded {
				err = fmt.Errorf("job %s ended %s", id, j.State)
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if got := srv.TrueNAS().Subscriptions(); got != 1 {
		t.Fatalf("%d subscriptions for %d waits", got, n)
	}
}

// TestChangesSeesEventsBeforeSubscribeReply: the middleware sends job
// events as soon as it has taken core.subscribe, before its reply. A job
// that ends in between must still reach the Changes stream (it was lost,
// and a Watcher waited for the next reconciliation, when the watch was
// registered only after the reply).
func TestChangesSeesEventsBeforeSubscribeReply(t *testing.T) {
	srv, clk := newFake(t)
	nas := srv.TrueNAS()
	nas.RegisterJobMethod("test.half", truenas.JobMethod{Run: func(r *truenas.JobRun) (any, error) {
		return true, r.Sleep(500 * time.Millisecond)
	}})
	// The Conn's own timers run on a clock nobody moves: no check of the
	// job can stand in for its event.
	c := dial(t, srv, rpc.WithClock(sim.NewClock(sim.Epoch)), rpc.WithReconcile(time.Hour, time.Hour))
	ctx := testCtx(t)
	j, err := nas.StartJob(srv.Env().Users()[0], "test.half", []json.RawMessage{}, truenas.Pipes{})
	if err != nil {
		t.Fatal(err)
	}
	// core.subscribe's reply waits one second of fake time; the auto
	// clock jumps there at once, ending the job at 0.5s on the way, so
	// its SUCCESS event goes out between the fake taking the call and
	// answering it.
	srv.Faults().Inject(sim.FaultSlowReplies, 1)
	clk.SetAuto(true)
	ch, err := c.Changes(ctx, fmt.Sprint(j.ID()))
	if err != nil {
		t.Fatal(err)
	}
	for snap := range ch {
		if snap.State == jobs.StateSucceeded {
			return
		}
	}
	t.Fatal("the stream closed without the job's SUCCESS event")
}

// TestAllChanges: one stream carries every job's events, in the order the
// middleware sends them, for both protocols; it closes when the connection
// drops (the events sent meanwhile are lost, so its receiver must poll).
func TestAllChanges(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			srv, clk := newFake(t)
			nas := srv.TrueNAS()
			nas.RegisterJobMethod("test.steps", truenas.JobMethod{Run: func(r *truenas.JobRun) (any, error) {
				if err := r.Sleep(time.Second); err != nil {
					return nil, err
				}
				r.SetProgress(50, "half", nil)
				return true, r.Sleep(time.Second)
			}})
			c := dial(t, srv, rpc.WithLegacyJobs(mode.legacy), rpc.WithReconcile(time.Hour, time.Hour))
			ctx := testCtx(t)
			ch, err := c.AllChanges(ctx)
			if err != nil {
				t.Fatal(err)
			}
			user := srv.Env().Users()[0]
			for range 3 {
				if _, err := nas.StartJob(user, "test.steps", []json.RawMessage{}, truenas.Pipes{}); err != nil {
					t.Fatal(err)
				}
			}
			clk.Advance(3 * time.Second)
			last := map[string]*jobs.Job{}
			for len(last) < 3 || !allDone(last) {
				j, ok := <-ch
				if !ok {
					t.Fatal("stream closed")
				}
				if prev := last[j.ID]; prev != nil && prev.Progress.Percent > j.Progress.Percent {
					t.Fatalf("job %s went back from %v%% to %v%%", j.ID, prev.Progress.Percent, j.Progress.Percent)
				}
				last[j.ID] = j
			}
			for _, id := range []string{"1", "2", "3"} {
				if last[id] == nil || last[id].State != jobs.StateSucceeded {
					t.Fatalf("job %s: %+v", id, last[id])
				}
			}
			nas.DropConnections()
			for range ch {
			}
		})
	}
}

func allDone(m map[string]*jobs.Job) bool {
	for _, j := range m {
		if !j.Done() {
			return false
		}
	}
	return true
}

// TestWatcherOverConnSharesOneStream: a jobs.Watcher over a Conn follows
// many jobs through AllChanges (it is a jobs.MultiPusher), with one
// goroutine in all rather than one forwarder per wait, and sees every end.
func TestWatcherOverConnSharesOneStream(t *testing.T) {
	srv, clk := newFake(t)
	nas := srv.TrueNAS()
	nas.RegisterJobMethod("test.sleep", truenas.JobMethod{Run: func(r *truenas.JobRun) (any, error) {
		return true, r.Sleep(time.Second)
	}})
	c := dial(t, srv, rpc.WithReconcile(time.Hour, time.Hour))
	ctx := testCtx(t)
	user := srv.Env().Users()[0]
	const n = 200
	ids := make([]string, n)
	for i := range ids {
		j, err := nas.StartJob(user, "test.sleep", []json.RawMessage{}, truenas.Pipes{})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = fmt.Sprint(j.ID())
	}
	polled := &roundCounter{}
	w := jobs.NewWatcher(c, jobs.WithClock(clk), jobs.WithInterval(time.Hour, time.Hour), jobs.WithObserver(polled))
	defer w.Close()
	g0 := runtime.NumGoroutine()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var bad []string
	wg.Add(n)
	for _, id := range ids {
		err := w.WaitAsync(ctx, id, func(j *jobs.Job, err error) {
			if err != nil || j.State != jobs.StateSucceeded {
				mu.Lock()
				bad = append(bad, fmt.Sprint(id, j, err))
				mu.Unlock()
			}
			wg.Done()
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// The poller, the stream's goroutine and a round's fetch in flight,
	// however many waits: not one per wait.
	if g := runtime.NumGoroutine() - g0; g > 8 {
		t.Fatalf("%d goroutines for %d waits", g, n)
	}
	// Once every wait has had its first poll, the next is an hour away:
	// the ends can only come by push.
	for polled.ids.Load() < n {
		runtime.Gosched()
	}
	clk.Advance(time.Second)
	wg.Wait()
	if len(bad) > 0 {
		t.Fatalf("%d waits did not succeed: %v", len(bad), bad[:1])
	}
	if st := w.Stats(); st.Pushes < n {
		t.Fatalf("%d pushes for %d jobs: the ends came by poll", st.Pushes, n)
	}
}

// roundCounter is a jobs.Observer that counts the ids Watcher rounds asked for.
type roundCounter struct{ ids atomic.Int64 }

func (r *roundCounter) WaitStarted(ctx context.Context, _ jobs.WaitInfo) (context.Context, jobs.WaitObserver) {
	return ctx, nil
}

func (r *roundCounter) Round(_ context.Context, info jobs.RoundInfo) {
	if info.Err == nil {
		r.ids.Add(int64(info.IDs))
	}
}
