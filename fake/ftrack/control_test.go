package ftrack

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/longrun/longrun/fake/sim"
)

func TestSeedCreatesJobs(t *testing.T) {
	b := New(sim.NewEnv(nil, nil, nil))
	err := b.Seed(json.RawMessage(`{"jobs": [{"id": "j1", "user": "guest", "status": "running", "description": "render"}, {}]}`))
	if err != nil {
		t.Fatal(err)
	}
	j := b.Job("j1")
	if j == nil {
		t.Fatal("no job j1")
	}
	if j["status"] != "running" || j["user_id"] != sim.DefaultUsers()[1].ID || j["data"] != `{"description":"render"}` || j["type"] != "api_job" {
		t.Errorf("job j1 = %v", j)
	}
	if b.JobCount() != 2 || b.RunningJobs() != 2 {
		t.Errorf("%d jobs, %d queued or running; want 2 and 2", b.JobCount(), b.RunningJobs())
	}
	for _, c := range []struct{ doc, want string }{
		{`{"jobs": [{"id": "j1"}]}`, "ftrack job 0: Duplicate entry: Job with key [j1]"},
		{`{"jobs": [{}, {"status": "paused"}]}`, "ftrack job 1: Job.status must be one of"},
		{`{"jobs": [{"user": "nobody"}]}`, `ftrack job 0: no user "nobody"`},
		{`{"jobs": [{"owner": "admin"}]}`, "ftrack section"},
	} {
		err := b.Seed(json.RawMessage(c.doc))
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, sim.ErrBadSeed) {
			t.Errorf("%s: got %v, want %q and ErrBadSeed", c.doc, err, c.want)
		}
	}
}
