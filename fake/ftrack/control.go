package ftrack

import (
	"fmt"

	"github.com/longrun/longrun/fake/sim"
)

// This file holds the hooks package fake's control API calls
// (RunningJobs, ForceJob).

// RunningJobs is how many Job entities are queued or running.
func (b *Backend) RunningJobs() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, e := range b.tables["Job"] {
		if s, _ := e["status"].(string); s == "queued" || s == "running" {
			n++
		}
	}
	return n
}

// ForceJob sets Job id's status as another process would: "done" for
// finish, "failed" for fail. ftrack's Job has no aborted status, so
// abort fails it too, with a description saying so.
func (b *Backend) ForceJob(id, outcome string) error {
	if b.Job(id) == nil {
		return fmt.Errorf("ftrack job %s: %w", id, sim.ErrNoJob)
	}
	switch outcome {
	case sim.OutcomeFinish:
		return b.SetJob(id, "done", "")
	case sim.OutcomeFail:
		return b.SetJob(id, "failed", "failed through the longrun fake's control API")
	case sim.OutcomeAbort:
		return b.SetJob(id, "failed", "aborted through the longrun fake's control API")
	}
	return fmt.Errorf("ftrack: unknown outcome %q: %w", outcome, sim.ErrUnsupported)
}
