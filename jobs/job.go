// Package jobs is longrun's shared vocabulary for long-running jobs: the
// normalized Job, its Progress and State, the sub-job tree, and the Wait,
// Poll and Watcher helpers that follow any Source to the end.
//
// It imports only the standard library and knows no service: every
// dialect package turns its own wire documents into *Job values (with its
// ToJob method), so one Wait works for all of them.
package jobs

import (
	"encoding/json"
	"time"
)

// State is a job's state normalized across dialects. The service's own word
// is kept in Job.RawState; a value longrun does not recognize maps to
// StateUnknown and is never dropped.
type State string

// The normalized states.
const (
	// StateUnknown is a state the service reported that longrun does not
	// recognize. Job.RawState holds the service's word.
	StateUnknown State = "unknown"
	// StateQueued is a job that has not started yet (waiting, scheduled,
	// queued, as the service words it).
	StateQueued State = "queued"
	// StateRunning is a job that is under way.
	StateRunning State = "running"
	// StateSucceeded is a job that ended well.
	StateSucceeded State = "succeeded"
	// StateFailed is a job that ended badly.
	StateFailed State = "failed"
	// StateAborted is a job that was cancelled before it could end.
	StateAborted State = "aborted"
)

// Terminal reports whether s is a final state: succeeded, failed or aborted.
func (s State) Terminal() bool {
	return s == StateSucceeded || s == StateFailed || s == StateAborted
}

// Failure reports whether s is a final state that is not a success.
func (s State) Failure() bool { return s == StateFailed || s == StateAborted }

// Progress is how far a job has come.
type Progress struct {
	// Percent is 0..100. It is meaningful only when Known is true.
	Percent float64 `json:"percent"`
	// Known is false when the service reports no progress figure.
	Known bool `json:"known"`
	// Description is the service's own words about the current step.
	Description string `json:"description,omitempty"`
}

// Dialect names the service a Job came from. The jobs package knows no
// service: each dialect package declares its own Dialect constant, and
// code that needs to tell jobs apart compares with those.
type Dialect string

// Job is one node of a job tree, normalized from a dialect's wire document.
type Job struct {
	// ID is the service's identifier, as a string (a uuid, or a number in
	// decimal).
	ID string `json:"id"`
	// Dialect names the service the job came from; each dialect package
	// declares its own constant.
	Dialect Dialect `json:"dialect,omitempty"`
	// Operation is what the job does, in the service's words (an
	// operation, method, action or job type name).
	Operation string `json:"operation,omitempty"`
	// State is the normalized state.
	State State `json:"state"`
	// RawState is the state exactly as the service spelled it.
	RawState string `json:"raw_state,omitempty"`
	// Progress is the job's own progress, not its children's.
	Progress Progress `json:"progress"`
	// Message is the service's error or result text, when it gave one.
	Message string `json:"message,omitempty"`
	// Children are the sub-jobs. A child whose Partial field is true is a
	// reference the service has not described yet; Wait fetches it.
	Children []*Job `json:"children,omitempty"`
	// Partial is true when only ID is known (the service gave a reference,
	// not a document).
	Partial bool `json:"partial,omitempty"`
	// Resources are the URIs or ids of the objects the job works on.
	Resources []string `json:"resources,omitempty"`
	// Created and Updated are the service's timestamps, zero when absent.
	Created time.Time `json:"created,omitzero"`
	Updated time.Time `json:"updated,omitzero"`
	// Raw is the service's own document for this node, unmodified, so a
	// caller can decode fields longrun does not model.
	Raw json.RawMessage `json:"raw,omitempty"`
}

// Done reports whether this node alone is finished: its normalized state is
// terminal. What "finished" means is each dialect's to say when it
// normalizes: one service documents progress 100 as finished, so its
// converter maps 100 to StateSucceeded (RawState keeps the service's word);
// another is not finished at 100% until it reports success. A partial
// reference is never done.
func (j *Job) Done() bool {
	if j == nil || j.Partial {
		return false
	}
	return j.State.Terminal()
}

// Clone returns a deep copy of the tree rooted at j. Raw documents are
// shared, since nothing in longrun modifies them. Cycles are cut: a node
// that was already copied on the current path is copied without children.
func (j *Job) Clone() *Job {
	return cloneJob(j, make(map[*Job]bool))
}

func cloneJob(j *Job, onPath map[*Job]bool) *Job {
	if j == nil {
		return nil
	}
	c := *j
	c.Resources = append([]string(nil), j.Resources...)
	c.Children = nil
	if onPath[j] {
		return &c
	}
	onPath[j] = true
	if len(j.Children) > 0 {
		c.Children = make([]*Job, len(j.Children))
		for i, ch := range j.Children {
			c.Children[i] = cloneJob(ch, onPath)
		}
	}
	delete(onPath, j)
	return &c
}
