package cloudsigma

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/longrun/longrun/fake/sim"
)

// This file holds the hooks package fake's control API calls
// (RunningJobs, NextEvent, ForceJob, Seed). They bring the backend up to
// the clock through Job (which does so before it looks) and then read the
// job table's fields; only forceFinishLocked depends on how a clone ends.

// catchUp brings every job and drive up to the clock's now.
func (b *Backend) catchUp() { b.Job("") }

// RunningJobs is how many jobs have not reached a final state.
func (b *Backend) RunningJobs() int {
	b.catchUp()
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, j := range b.jobs {
		if j.finished.IsZero() && !j.frozen {
			n++
		}
	}
	return n
}

// NextEvent is the earliest instant after now at which a running drive
// clone completes (no clock timer marks it: a job's progress follows from
// the clock); false when none runs.
func (b *Backend) NextEvent() (time.Time, bool) {
	b.catchUp()
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	var next time.Time
	for _, j := range b.jobs {
		if !j.finished.IsZero() || j.frozen || j.duration <= 0 || len(j.children) > 0 {
			continue
		}
		if end := j.start.Add(j.duration); end.After(now) && (next.IsZero() || end.Before(next)) {
			next = end
		}
	}
	return next, !next.IsZero()
}

// ForceJob ends job id now: "finish" completes it (and its children) with
// success, "fail" puts it in state "error"; CloudSigma has no way to abort
// a job, so "abort" is sim.ErrUnsupported.
func (b *Backend) ForceJob(id, outcome string) error {
	if _, ok := b.Job(id); !ok {
		return fmt.Errorf("cloudsigma job %s: %w", id, sim.ErrNoJob)
	}
	switch outcome {
	case sim.OutcomeFail:
		return b.FailJob(id, "error", "failed through the longrun fake's control API")
	case sim.OutcomeAbort:
		return fmt.Errorf("cloudsigma jobs cannot be aborted: %w", sim.ErrUnsupported)
	case sim.OutcomeFinish:
	default:
		return fmt.Errorf("cloudsigma: unknown outcome %q: %w", outcome, sim.ErrUnsupported)
	}
	b.mu.Lock()
	j := b.jobs[id]
	if j != nil {
		b.forceFinishLocked(j, b.now())
	}
	b.mu.Unlock()
	b.catchUp() // a parent whose children are all done now ends too
	if j == nil {
		return fmt.Errorf("cloudsigma job %s: %w", id, sim.ErrNoJob)
	}
	return nil
}

// forceFinishLocked ends j and its children with success at now, as their
// own completion would (drive statuses, the parent, the history expiry
// and the websocket notes included).
func (b *Backend) forceFinishLocked(j *job, now time.Time) {
	if !j.finished.IsZero() {
		return
	}
	if len(j.children) == 0 {
		j.frozen = false
		b.finishLeafLocked(j, now)
		return
	}
	for _, c := range j.children {
		if cj := b.jobs[c]; cj != nil {
			b.forceFinishLocked(cj, now)
		}
	}
	if j.finished.IsZero() { // a child that had failed kept the parent open
		j.progress, j.state, j.modified, j.finished, j.frozen = 100, "success", now, now, false
		b.jobsRev++
		if j.parent == "" {
			b.schedule(now.Add(JobHistory), evExpire, j.uuid, 0)
		}
		b.notifyJobLocked(j)
	}
}

// SeedServer is one server a seed document adds: Disks disks of DiskSize
// bytes each (default 10 GiB), owned by the user with email Owner.
type SeedServer struct {
	Owner    string `json:"owner"`
	Name     string `json:"name"`
	Disks    int    `json:"disks"`
	DiskSize int64  `json:"disk_size"`
}

// SeedSection is the "cloudsigma" section of a seed document.
type SeedSection struct {
	Servers []SeedServer `json:"servers"`
}

// Seed adds what a seed document's "cloudsigma" section lists.
func (b *Backend) Seed(raw json.RawMessage) error {
	var sec SeedSection
	if err := json.Unmarshal(raw, &sec); err != nil {
		return fmt.Errorf("cloudsigma section: %v: %w", err, sim.ErrBadSeed)
	}
	for i, s := range sec.Servers {
		if s.Owner == "" || s.Name == "" || s.Disks < 0 || s.Disks > 64 || s.DiskSize < 0 {
			return fmt.Errorf("cloudsigma server %d: owner and name are required, disks 0..64, disk_size >= 0: %w", i, sim.ErrBadSeed)
		}
		size := s.DiskSize
		if size == 0 {
			size = 10 * GiB
		}
		if _, err := b.AddServerWithDisks(s.Owner, s.Name, s.Disks, size); err != nil {
			return fmt.Errorf("%v: %w", err, sim.ErrBadSeed)
		}
	}
	return nil
}
