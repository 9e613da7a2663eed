package cloudsigma

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/longrun/longrun/fake/sim"
)

// Clones started at one instant share their queued events: the queue
// holds a handful of events for 50 clones, Queued still counts every
// change, and every clone moves on and ends as it would alone.
func TestQueueSharesEventsOfOneInstant(t *testing.T) {
	b := New(sim.NewEnv(nil, nil, nil))
	defer b.Close()
	src, err := b.AddServerWithDisks("admin@example.com", "one", 1, GiB)
	if err != nil {
		t.Fatal(err)
	}
	for range 50 {
		req := httptest.NewRequest("POST", Prefix+"servers/"+src+"/action/?do=clone", nil)
		req.SetBasicAuth("admin@example.com", "secret")
		w := httptest.NewRecorder()
		b.ServeHTTP(w, req)
		if w.Code != 202 {
			t.Fatalf("clone: %d %s", w.Code, w.Body)
		}
	}
	events := func() int {
		b.mu.Lock()
		defer b.mu.Unlock()
		return len(b.queue)
	}
	// Each disk clone queues its first tenth and its end.
	if q, e := b.Queued(), events(); q != 100 || e != 2 {
		t.Fatalf("%d changes in %d events, want 100 in 2", q, e)
	}
	b.env.Clock.Advance(30 * time.Second)
	if n := b.RunningJobs(); n != 100 {
		t.Fatalf("%d running after 30 s, want 100", n)
	}
	b.mu.Lock()
	for _, j := range b.jobOrder {
		if p := b.progressLocked(j, b.now(), 0); p != 50 {
			t.Errorf("job %s at %d%%, want 50", j.uuid, p)
		}
	}
	b.mu.Unlock()
	if q, e := b.Queued(), events(); q != 100 || e != 2 {
		t.Fatalf("%d changes in %d events at 30 s, want 100 in 2", q, e)
	}
	b.env.Clock.Advance(30 * time.Second)
	if n := b.RunningJobs(); n != 0 {
		t.Fatalf("%d running after a minute", n)
	}
	// The 50 server clones leave the history together.
	if q, e := b.Queued(), events(); q != 50 || e != 1 {
		t.Fatalf("%d changes in %d events once done, want 50 in 1", q, e)
	}
	b.env.Clock.Advance(JobHistory)
	if _, _, jobs := b.Counts(); jobs != 0 || b.Queued() != 0 || events() != 0 {
		t.Fatalf("%d jobs, %d changes, %d events after the history", jobs, b.Queued(), events())
	}
}
