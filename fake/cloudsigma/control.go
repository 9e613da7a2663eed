package cloudsigma

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/longrun/longrun/fake/sim"
)

// This file holds the hooks package fake's control API calls
// (RunningJobs, ForceJob, Seed).

// RunningJobs is how many jobs have not reached a final state.
func (b *Backend) RunningJobs() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tickLocked()
	n := 0
	for _, j := range b.jobs {
		if j.finished.IsZero() && !j.frozen {
			n++
		}
	}
	return n
}

// ForceJob ends job id now: "finish" completes it (and its children) with
// success, "fail" puts it in state "error"; CloudSigma has no way to abort
// a job, so "abort" is sim.ErrUnsupported.
func (b *Backend) ForceJob(id, outcome string) error {
	switch outcome {
	case sim.OutcomeFail:
		if _, ok := b.Job(id); !ok {
			return fmt.Errorf("cloudsigma job %s: %w", id, sim.ErrNoJob)
		}
		return b.FailJob(id, "error", "failed through the longrun fake's control API")
	case sim.OutcomeAbort:
		return fmt.Errorf("cloudsigma jobs cannot be aborted: %w", sim.ErrUnsupported)
	case sim.OutcomeFinish:
	default:
		return fmt.Errorf("cloudsigma: unknown outcome %q: %w", outcome, sim.ErrUnsupported)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tickLocked()
	j, ok := b.jobs[id]
	if !ok {
		return fmt.Errorf("cloudsigma job %s: %w", id, sim.ErrNoJob)
	}
	now := b.now()
	b.finishJobLocked(j, now)
	if p := b.jobs[j.parent]; p != nil {
		b.tickLocked() // the parent may be done now
	}
	return nil
}

func (b *Backend) finishJobLocked(j *job, now time.Time) {
	if !j.finished.IsZero() {
		return
	}
	for _, c := range j.children {
		if cj := b.jobs[c]; cj != nil {
			b.finishJobLocked(cj, now)
		}
	}
	j.progress, j.state, j.modified, j.finished, j.frozen = 100, "success", now, now, false
	if len(j.children) == 0 {
		b.finishCloneLocked(j)
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

// NextEvent is the earliest instant after now at which a running job
// completes (its progress is computed from the clock on every read, so no
// timer marks it); false when no job runs.
func (b *Backend) NextEvent() (time.Time, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tickLocked()
	var next time.Time
	for _, j := range b.jobs {
		if !j.finished.IsZero() || j.frozen || j.duration <= 0 || len(j.children) > 0 {
			continue
		}
		if end := j.start.Add(j.duration); next.IsZero() || end.Before(next) {
			next = end
		}
	}
	for _, d := range b.drives {
		if d.status == "creating" && (next.IsZero() || d.readyAt.Before(next)) {
			next = d.readyAt
		}
	}
	return next, !next.IsZero()
}
