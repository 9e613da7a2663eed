package ftrack

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/longrun/longrun/fake/sim"
)

// This file holds the hooks package fake's control API calls
// (RunningJobs, ForceJob, Seed).

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

// SeedJob is a Job a seed document creates for the user named User
// ("admin" when empty): Status (one of Job's statuses; the schema's
// default when empty) and Description (stored in the job's data as
// {"description": ...}, where ftrack keeps it); ID is the entity's id (a new one
// when empty).
type SeedJob struct {
	ID          string `json:"id,omitempty"`
	User        string `json:"user,omitempty"`
	Status      string `json:"status,omitempty"`
	Description string `json:"description,omitempty"`
}

// SeedSection is the "ftrack" section of a seed document.
type SeedSection struct {
	Jobs []SeedJob `json:"jobs"`
}

// Seed creates the Jobs a seed document's "ftrack" section lists, in
// order, through the same create operation POST /api runs (so the
// schema's checks apply: a bad status or a duplicate id is an error
// naming the entry).
func (b *Backend) Seed(raw json.RawMessage) error {
	var sec SeedSection
	if err := sim.DecodeSection(raw, "ftrack", &sec); err != nil {
		return err
	}
	for i, sj := range sec.Jobs {
		u, err := b.env.SeedUser(sj.User)
		if err != nil {
			return fmt.Errorf("ftrack job %d: %w", i, err)
		}
		data := map[string]any{"user_id": u.ID}
		if sj.ID != "" {
			data["id"] = sj.ID
		}
		if sj.Status != "" {
			data["status"] = sj.Status
		}
		if sj.Description != "" {
			// Job has no description attribute: ftrack keeps it in the
			// job's data, a JSON text {"description": ...}.
			d, _ := json.Marshal(map[string]string{"description": sj.Description})
			data["data"] = string(d)
		}
		tx := &txn{limits: b.currentLimits()}
		op := map[string]any{"action": "create", "entity_type": "Job", "entity_data": data}
		if _, aerr := b.apply(context.Background(), tx, op, ""); aerr != nil {
			b.rollback(tx)
			return fmt.Errorf("ftrack job %d: %s: %w", i, aerr.Content, sim.ErrBadSeed)
		}
		b.commit(tx)
	}
	return nil
}
