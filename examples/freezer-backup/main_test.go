package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/fake/sim"
	"github.com/longrun/longrun/freezer"
	"github.com/longrun/longrun/internal/display"
)

// The example runs to the end against the in-process fake: both jobs of
// the session run, the session completes with success, each job's backup
// is listed, and what it created is deleted.
func TestRunAgainstFake(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), config{client: "node-test", timeout: time.Minute, out: &out, mode: display.Lines}); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{"start ", ": success (session tag 1)", "status completed, result success, 2 jobs", "backup ", "nightly/etc", "nightly/var/lib", "deleted session"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Count(got, ": success (session tag 1)") != 2 {
		t.Errorf("both jobs should start in round 1:\n%s", got)
	}
}

// With no agent running the jobs (here: a fake whose clock never moves,
// as a real server with no freezer-scheduler), the wait ends after the
// timeout, the program says why, and it deletes the session and the jobs.
func TestNoAgentExplainsAndCleansUp(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{Clock: sim.NewClock(sim.Epoch)})
	tok, _ := srv.Freezer().IssueToken("admin")
	project := sim.DefaultUsers()[0].Project
	var out bytes.Buffer
	err := run(context.Background(), config{url: srv.URL(), token: tok, project: project, client: "node-x",
		timeout: 300 * time.Millisecond, out: &out, mode: display.Lines})
	if !errors.Is(err, errNoAgent) {
		t.Fatalf("err %v, want errNoAgent\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), `no freezer-scheduler agent with client_id "node-x" picked it up`) {
		t.Errorf("no explanation:\n%s", out.String())
	}
	c, _ := freezer.New(srv.URL(), freezer.WithToken(tok), freezer.WithAPIVersion(freezer.V2), freezer.WithProjectID(project))
	ctx := context.Background()
	if p, err := c.List(ctx, nil); err != nil || len(p.Items) != 0 {
		t.Errorf("jobs left behind: %v %v", p, err)
	}
	if p, err := c.ListSessions(ctx, nil); err != nil || len(p.Items) != 0 {
		t.Errorf("sessions left behind: %v %v", p, err)
	}

	// -keep leaves them.
	out.Reset()
	_ = run(ctx, config{url: srv.URL(), token: tok, project: project, client: "node-x",
		timeout: 100 * time.Millisecond, keep: true, out: &out, mode: display.Lines})
	if p, err := c.List(ctx, nil); err != nil || len(p.Items) != 2 {
		t.Errorf("-keep: %v %v", p, err)
	}
}
