package truenas

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/longrun/longrun/fake/sim"
)

// This file holds the hooks package fake's control API calls
// (RunningJobs, ForceJob).

// RunningJobs is how many jobs are WAITING or RUNNING.
func (b *Backend) RunningJobs() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, j := range b.jobs {
		if !terminal(j.state) {
			n++
		}
	}
	return n
}

// ForceJob ends job id (its decimal number) now: "abort" as
// core.job_abort does, "fail" with a CallError the job's error shows,
// "finish" with SUCCESS and a null result.
func (b *Backend) ForceJob(id, outcome string) error {
	n, err := strconv.Atoi(id)
	if err != nil {
		return fmt.Errorf("truenas job ids are numbers, not %q: %w", id, sim.ErrNoJob)
	}
	j, ok := b.JobByID(n)
	if !ok {
		return fmt.Errorf("truenas job %d: %w", n, sim.ErrNoJob)
	}
	var end error
	switch outcome {
	case sim.OutcomeAbort:
		j.Abort()
		return nil
	case sim.OutcomeFail:
		end = &CallError{Message: "failed through the longrun fake's control API"}
	case sim.OutcomeFinish:
	default:
		return fmt.Errorf("truenas: unknown outcome %q: %w", outcome, sim.ErrUnsupported)
	}
	b.hold.Lock()
	b.mu.Lock()
	for i, q := range b.queue {
		if q == j {
			b.queue = append(b.queue[:i], b.queue[i+1:]...)
			break
		}
	}
	if end == nil {
		b.finishLocked(j, json.RawMessage("null"), nil)
	} else {
		b.finishLocked(j, nil, end)
	}
	cancel := j.cancel
	starts := b.scheduleLocked()
	b.mu.Unlock()
	for _, s := range starts {
		b.launch(s)
	}
	b.hold.Unlock()
	if cancel != nil {
		cancel() // the job's Run ends; its own finish is a no-op now
	}
	return nil
}
