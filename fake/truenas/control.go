package truenas

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/longrun/longrun/fake/sim"
)

// This file holds the hooks package fake's control API calls
// (RunningJobs, ForceJob, Seed).

// SeedJob is a job a seed document starts: Method (a job method such as
// "pool.scrub.scrub") with Params on behalf of the user named User
// ("admin" when empty). Methods that need an upload or download pipe
// cannot be seeded.
type SeedJob struct {
	User   string            `json:"user,omitempty"`
	Method string            `json:"method"`
	Params []json.RawMessage `json:"params,omitempty"`
}

// SeedSection is the "truenas" section of a seed document.
type SeedSection struct {
	Jobs []SeedJob `json:"jobs"`
}

// Seed starts the jobs a seed document's "truenas" section lists, in
// order (their ids count from 1 on a fresh backend).
func (b *Backend) Seed(raw json.RawMessage) error {
	var sec SeedSection
	if err := sim.DecodeSection(raw, "truenas", &sec); err != nil {
		return err
	}
	for i, sj := range sec.Jobs {
		u, err := b.env.SeedUser(sj.User)
		if err != nil {
			return fmt.Errorf("truenas job %d: %w", i, err)
		}
		b.mu.Lock()
		m := b.methods[sj.Method]
		b.mu.Unlock()
		if m == nil || m.job == nil || m.job.Input || m.job.Output {
			return fmt.Errorf("truenas job %d: %q is not a job method that runs without pipes: %w", i, sj.Method, sim.ErrBadSeed)
		}
		if _, err := b.StartJob(u, sj.Method, sj.Params, Pipes{}); err != nil {
			return fmt.Errorf("truenas job %d: %v: %w", i, err, sim.ErrBadSeed)
		}
	}
	return nil
}

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
// "finish" with SUCCESS and a null result. Fail and finish need a RUNNING
// job (sim.ErrNotRunning otherwise: abort a WAITING one); the job's Run
// is cancelled and its end lets the next queued job start, as usual.
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
	b.mu.Lock()
	if j.state != StateRunning || j.cancel == nil {
		state := j.state
		b.mu.Unlock()
		return fmt.Errorf("truenas job %d is %s, not RUNNING: %w", n, state, sim.ErrNotRunning)
	}
	if end == nil {
		b.finishLocked(j, json.RawMessage("null"), nil)
	} else {
		b.finishLocked(j, nil, end)
	}
	cancel := j.cancel
	b.mu.Unlock()
	cancel() // Run ends; its own finish is a no-op now
	return nil
}

// Calls returns how many calls of method the fake has received over
// websockets, of both protocols, since it started (authenticated or not,
// answered or failed), so a test can check how often a client polls:
// b.Calls("core.get_jobs").
func (b *Backend) Calls(method string) int {
	b.callsMu.Lock()
	defer b.callsMu.Unlock()
	return b.calls[method]
}

func (b *Backend) countCall(method string) {
	b.callsMu.Lock()
	if b.calls == nil {
		b.calls = map[string]int{}
	}
	b.calls[method]++
	b.callsMu.Unlock()
}
