package freezer

import (
	"fmt"

	"github.com/longrun/longrun/fake/sim"
)

// This file holds the hooks package fake's control API calls
// (RunningJobs, ForceJob).

// RunningJobs is how many jobs the agent has scheduled or is running.
func (b *Backend) RunningJobs() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, j := range b.jobs {
		if j.agent != agentStopped {
			n++
		}
	}
	return n
}

// ForceJob ends the agent's run of job id now, with result "success"
// (finish), "fail" (fail) or "aborted" (abort); a job only scheduled
// starts first, as if its time had come.
func (b *Backend) ForceJob(id, outcome string) error {
	b.mu.Lock()
	j := b.jobs[id]
	var st agentState
	if j != nil {
		st = j.agent
	}
	b.mu.Unlock()
	if j == nil {
		return fmt.Errorf("freezer job %s: %w", id, sim.ErrNoJob)
	}
	if st == agentStopped {
		return fmt.Errorf("freezer job %s has no scheduled or running run: %w", id, sim.ErrNotRunning)
	}
	if st == agentScheduled {
		b.run(id)
	}
	b.mu.Lock()
	if j.timer != nil {
		j.timer.Stop()
	}
	b.mu.Unlock()
	switch outcome {
	case sim.OutcomeFinish:
		b.finish(id, "success")
	case sim.OutcomeFail:
		b.finish(id, "fail")
	case sim.OutcomeAbort:
		b.finish(id, "aborted")
	default:
		return fmt.Errorf("freezer: unknown outcome %q: %w", outcome, sim.ErrUnsupported)
	}
	return nil
}
