package cloudsigma

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/longrun/longrun/internal/wire"
	"github.com/longrun/longrun/jobs"
)

// Job is a job exactly as CloudSigma API 2.0 serves it on /jobs/ and
// /jobs/{uuid}/. Children are full nested job documents.
type Job struct {
	UUID string `json:"uuid"`
	// Operation is drive_clone, server_clone, or another operation name.
	Operation string `json:"operation"`
	// State is "started" while the job runs and "success" when it ended
	// well; any other word is kept as it came.
	State string `json:"state"`
	// Data holds progress (0..100) and whatever else the job reports.
	Data *JobData `json:"data"`
	// Children are the sub-jobs (a server clone's drive clones).
	Children     []*Job   `json:"children"`
	Resources    []string `json:"resources"`
	Created      Time     `json:"created"`
	LastModified Time     `json:"last_modified"`
	ResourceURI  string   `json:"resource_uri"`
	// Extra holds members longrun does not model.
	Extra map[string]json.RawMessage `json:"-"`

	keys wire.Keys
	raw  json.RawMessage
}

type jobAlias struct {
	UUID         string   `json:"uuid"`
	Operation    string   `json:"operation"`
	State        string   `json:"state"`
	Data         *JobData `json:"data"`
	Children     []*Job   `json:"children"`
	Resources    []string `json:"resources"`
	Created      Time     `json:"created"`
	LastModified Time     `json:"last_modified"`
	ResourceURI  string   `json:"resource_uri"`
}

// UnmarshalJSON decodes a job and keeps unknown members, refusing a tree
// deeper than jobs.DefaultMaxDepth levels (DecodeJob takes another bound).
func (j *Job) UnmarshalJSON(b []byte) error {
	got, err := DecodeJob(b, 0)
	if err != nil {
		return err
	}
	*j = *got
	return nil
}

// MarshalJSON writes every member back, unknown ones included.
func (j Job) MarshalJSON() ([]byte, error) {
	return wire.Encode(jobAlias{
		UUID: j.UUID, Operation: j.Operation, State: j.State, Data: j.Data, Children: j.Children,
		Resources: j.Resources, Created: j.Created, LastModified: j.LastModified, ResourceURI: j.ResourceURI,
	}, j.Extra, j.keys)
}

// JobData is a job's "data" member.
type JobData struct {
	// Progress is 0..100; nil when the server sent none. 100 means the
	// job has finished.
	Progress *float64 `json:"progress"`
	// Extra holds members longrun does not model.
	Extra map[string]json.RawMessage `json:"-"`

	keys wire.Keys
}

type jobDataAlias struct {
	Progress *float64 `json:"progress"`
}

// UnmarshalJSON keeps unknown members.
func (d *JobData) UnmarshalJSON(b []byte) error {
	s := newScanner(append([]byte(nil), b...), 64, 0)
	got, err := s.jobData()
	if err == nil {
		err = s.End()
	}
	if err != nil {
		return err
	}
	if got == nil {
		return nil
	}
	*d = *got
	return nil
}

// MarshalJSON writes every member back.
func (d JobData) MarshalJSON() ([]byte, error) {
	return wire.Encode(jobDataAlias{d.Progress}, d.Extra, d.keys)
}

// maxJSONDepth is the JSON nesting a job tree of maxDepth job levels may
// take: two levels per job (the object and its children array), the data
// object, and room for a list wrapper.
func maxJSONDepth(maxDepth int) int { return 2*maxDepth + 16 }

// DecodeJob decodes one job document, refusing a tree that nests deeper
// than maxDepth job levels (jobs.DefaultMaxDepth when 0) as it reads: such
// a document ends in an error wrapping jobs.ErrTooDeep, never a crash or a
// stall. Other bad input ends in an error wrapping ErrMalformed. It reads
// the document once: unknown members are kept as slices of one private
// copy of data, not decoded twice.
func DecodeJob(data []byte, maxDepth int) (*Job, error) {
	if maxDepth <= 0 {
		maxDepth = jobs.DefaultMaxDepth
	}
	s := newScanner(append([]byte(nil), data...), maxJSONDepth(maxDepth), maxDepth)
	j, err := s.job(0)
	if err == nil {
		err = s.End()
	}
	if err != nil {
		return nil, err
	}
	if j == nil {
		return nil, fmt.Errorf("%w: job document is null", ErrMalformed)
	}
	return j, nil
}

// JobList is a /jobs/ answer as CloudSigma writes it.
type JobList struct {
	Meta    Meta   `json:"meta"`
	Objects []*Job `json:"objects"`
}

// DecodeJobList decodes a /jobs/ answer with DecodeJob's bound.
func DecodeJobList(data []byte, maxDepth int) (*JobList, error) {
	if maxDepth <= 0 {
		maxDepth = jobs.DefaultMaxDepth
	}
	s := newScanner(append([]byte(nil), data...), maxJSONDepth(maxDepth), maxDepth)
	l, err := s.jobList()
	if err == nil {
		err = s.End()
	}
	if err != nil {
		return nil, err
	}
	return l, nil
}

// JobState maps a CloudSigma job state to the normalized jobs.State:
// "started" is running, "success" succeeded; words that plainly mean
// failure (failed, failure, error, errored) map to failed, and cancelled,
// canceled, aborted to aborted. Any other word is jobs.StateUnknown;
// jobs.Job.RawState keeps it.
func JobState(s string) jobs.State {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "started", "running", "in_progress":
		return jobs.StateRunning
	case "success", "succeeded", "finished", "done":
		return jobs.StateSucceeded
	case "failed", "failure", "error", "errored":
		return jobs.StateFailed
	case "cancelled", "canceled", "aborted":
		return jobs.StateAborted
	case "queued", "pending", "waiting":
		return jobs.StateQueued
	}
	return jobs.StateUnknown
}

// toJobLimit bounds ToJob on a tree built in Go, which the decoders did
// not check: deeper nodes (or a cycle of pointers) become partial
// references, which a wait's walk then reports.
const toJobLimit = 1024

// ToJob converts the wire job into the normalized *jobs.Job tree. The
// depth of a decoded tree was bounded when it was decoded.
func (j *Job) ToJob() *jobs.Job { return j.toJob(0) }

func (j *Job) toJob(depth int) *jobs.Job {
	if depth > toJobLimit {
		return &jobs.Job{ID: j.UUID, Dialect: Dialect, Partial: true}
	}
	out := &jobs.Job{
		ID: j.UUID, Dialect: Dialect, Operation: j.Operation,
		State: JobState(j.State), RawState: j.State,
		Created: j.Created.Time, Updated: j.LastModified.Time,
		Raw: j.raw,
	}
	if len(j.Resources) > 0 {
		out.Resources = append([]string(nil), j.Resources...)
	}
	if j.Data != nil {
		if p := j.Data.Progress; p != nil {
			out.Progress = jobs.Progress{Percent: *p, Known: true}
			// CloudSigma: "progress 100 means finished", whatever the
			// state word says (it reads "started" until the server
			// catches up). A failure word still wins.
			if *p >= 100 && !out.State.Failure() {
				out.State = jobs.StateSucceeded
			}
		}
		for _, k := range []string{"error_message", "error", "message"} {
			if raw, ok := j.Data.Extra[k]; ok {
				var s string
				if json.Unmarshal(raw, &s) == nil && s != "" {
					out.Message = s
					break
				}
			}
		}
		if raw, ok := j.Data.Extra["description"]; ok {
			var s string
			if json.Unmarshal(raw, &s) == nil {
				out.Progress.Description = s
			}
		}
	}
	if len(j.Children) > 0 {
		out.Children = make([]*jobs.Job, 0, len(j.Children))
		for _, c := range j.Children {
			if c != nil {
				out.Children = append(out.Children, c.toJob(depth+1))
			}
		}
	}
	return out
}
