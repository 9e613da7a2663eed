package jobs

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/longrun/longrun/internal/wire"
)

// CloudSigmaTimeLayout is how CloudSigma writes timestamps:
// 2014-06-05T09:45:08.003595+00:00.
const CloudSigmaTimeLayout = "2006-01-02T15:04:05.000000-07:00"

// CloudSigmaTime is a CloudSigma timestamp. It keeps the server's own
// spelling, so a document re-encodes byte for byte; Time is the parsed
// instant (zero when the text was null or did not parse).
type CloudSigmaTime struct {
	time.Time
	// Raw is the text as the server sent it; empty for a value built in Go.
	Raw string
}

// UnmarshalJSON accepts a string or null.
func (t *CloudSigmaTime) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*t = CloudSigmaTime{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("cloudsigma: timestamp: %w", err)
	}
	*t = CloudSigmaTime{Raw: s}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999-07:00"} {
		if v, err := time.Parse(layout, s); err == nil {
			t.Time = v
			break
		}
	}
	return nil
}

// MarshalJSON writes Raw when set, else the instant in CloudSigma's layout,
// else null.
func (t CloudSigmaTime) MarshalJSON() ([]byte, error) {
	switch {
	case t.Raw != "":
		return json.Marshal(t.Raw)
	case t.Time.IsZero():
		return []byte("null"), nil
	}
	return json.Marshal(t.Time.UTC().Format(CloudSigmaTimeLayout))
}

// CloudSigmaRef is a reference to another object, as CloudSigma writes it
// in responses: {"resource_uri": "/api/2.0/jobs/<uuid>/", "uuid": "<uuid>"}.
// In requests CloudSigma takes a bare uuid string (a server's drives[].drive);
// a reference decoded from a string encodes back as a string.
type CloudSigmaRef struct {
	UUID        string `json:"uuid"`
	ResourceURI string `json:"resource_uri"`
	// Extra holds members longrun does not model.
	Extra map[string]json.RawMessage `json:"-"`

	keys wire.Keys
	bare bool
}

type refAlias struct {
	UUID        string `json:"uuid"`
	ResourceURI string `json:"resource_uri"`
}

// UnmarshalJSON accepts an object or a bare uuid string.
func (r *CloudSigmaRef) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*r = CloudSigmaRef{UUID: s, bare: true}
		return nil
	}
	var a refAlias
	extra, keys, err := wire.Decode(b, &a)
	if err != nil {
		return err
	}
	*r = CloudSigmaRef{UUID: a.UUID, ResourceURI: a.ResourceURI, Extra: extra, keys: keys}
	return nil
}

// MarshalJSON writes the object form, or the bare uuid for a reference
// that came as one (or was built with only a UUID by RefTo).
func (r CloudSigmaRef) MarshalJSON() ([]byte, error) {
	if r.bare {
		return json.Marshal(r.UUID)
	}
	return wire.Encode(refAlias{UUID: r.UUID, ResourceURI: r.ResourceURI}, r.Extra, r.keys)
}

// RefTo returns a reference to uuid in the bare-string form CloudSigma
// takes in request bodies.
func RefTo(uuid string) CloudSigmaRef { return CloudSigmaRef{UUID: uuid, bare: true} }

// CloudSigmaMeta is the "meta" member of every CloudSigma list response.
type CloudSigmaMeta struct {
	Limit      int `json:"limit"`
	Offset     int `json:"offset"`
	TotalCount int `json:"total_count"`
	// Extra holds members longrun does not model.
	Extra map[string]json.RawMessage `json:"-"`

	keys wire.Keys
}

type metaAlias struct {
	Limit      int `json:"limit"`
	Offset     int `json:"offset"`
	TotalCount int `json:"total_count"`
}

// UnmarshalJSON keeps unknown members.
func (m *CloudSigmaMeta) UnmarshalJSON(b []byte) error {
	var a metaAlias
	extra, keys, err := wire.Decode(b, &a)
	if err != nil {
		return err
	}
	*m = CloudSigmaMeta{Limit: a.Limit, Offset: a.Offset, TotalCount: a.TotalCount, Extra: extra, keys: keys}
	return nil
}

// MarshalJSON writes every member back.
func (m CloudSigmaMeta) MarshalJSON() ([]byte, error) {
	return wire.Encode(metaAlias{m.Limit, m.Offset, m.TotalCount}, m.Extra, m.keys)
}

// CloudSigmaJob is a job exactly as CloudSigma API 2.0 serves it on
// /jobs/ and /jobs/{uuid}/. Children are full nested job documents.
type CloudSigmaJob struct {
	UUID string `json:"uuid"`
	// Operation is drive_clone, server_clone, or another operation name.
	Operation string `json:"operation"`
	// State is "started" while the job runs and "success" when it ended
	// well; any other word is kept as it came.
	State string `json:"state"`
	// Data holds progress (0..100) and whatever else the job reports.
	Data *CloudSigmaJobData `json:"data"`
	// Children are the sub-jobs (a server clone's drive clones).
	Children     []*CloudSigmaJob `json:"children"`
	Resources    []string         `json:"resources"`
	Created      CloudSigmaTime   `json:"created"`
	LastModified CloudSigmaTime   `json:"last_modified"`
	ResourceURI  string           `json:"resource_uri"`
	// Extra holds members longrun does not model.
	Extra map[string]json.RawMessage `json:"-"`

	keys wire.Keys
	raw  json.RawMessage
}

type jobAlias struct {
	UUID         string             `json:"uuid"`
	Operation    string             `json:"operation"`
	State        string             `json:"state"`
	Data         *CloudSigmaJobData `json:"data"`
	Children     []*CloudSigmaJob   `json:"children"`
	Resources    []string           `json:"resources"`
	Created      CloudSigmaTime     `json:"created"`
	LastModified CloudSigmaTime     `json:"last_modified"`
	ResourceURI  string             `json:"resource_uri"`
}

// UnmarshalJSON decodes a job and keeps unknown members. It does not bound
// the nesting of children: decode untrusted documents with
// DecodeCloudSigmaJob, which does.
func (j *CloudSigmaJob) UnmarshalJSON(b []byte) error {
	var a jobAlias
	extra, keys, err := wire.Decode(b, &a)
	if err != nil {
		return err
	}
	*j = CloudSigmaJob{
		UUID: a.UUID, Operation: a.Operation, State: a.State, Data: a.Data, Children: a.Children,
		Resources: a.Resources, Created: a.Created, LastModified: a.LastModified, ResourceURI: a.ResourceURI,
		Extra: extra, keys: keys, raw: append(json.RawMessage(nil), b...),
	}
	return nil
}

// MarshalJSON writes every member back, unknown ones included.
func (j CloudSigmaJob) MarshalJSON() ([]byte, error) {
	return wire.Encode(jobAlias{
		UUID: j.UUID, Operation: j.Operation, State: j.State, Data: j.Data, Children: j.Children,
		Resources: j.Resources, Created: j.Created, LastModified: j.LastModified, ResourceURI: j.ResourceURI,
	}, j.Extra, j.keys)
}

// CloudSigmaJobData is a job's "data" member.
type CloudSigmaJobData struct {
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
func (d *CloudSigmaJobData) UnmarshalJSON(b []byte) error {
	var a jobDataAlias
	extra, keys, err := wire.Decode(b, &a)
	if err != nil {
		return err
	}
	*d = CloudSigmaJobData{Progress: a.Progress, Extra: extra, keys: keys}
	return nil
}

// MarshalJSON writes every member back.
func (d CloudSigmaJobData) MarshalJSON() ([]byte, error) {
	return wire.Encode(jobDataAlias{d.Progress}, d.Extra, d.keys)
}

// CloudSigmaJobList is a page of /jobs/ or /jobs/detail/.
type CloudSigmaJobList struct {
	Meta    CloudSigmaMeta   `json:"meta"`
	Objects []*CloudSigmaJob `json:"objects"`
}

// ErrMalformed is wrapped by the errors of the CloudSigma decoders for
// documents that are not what CloudSigma sends.
var ErrMalformed = errors.New("cloudsigma: malformed document")

// CloudSigmaMaxJSONDepth returns the JSON nesting a job tree of maxDepth
// job levels may take: two levels per job (the object and its children
// array), the data object, and room for a list wrapper.
func CloudSigmaMaxJSONDepth(maxDepth int) int {
	if maxDepth <= 0 {
		maxDepth = DefaultMaxDepth
	}
	return 2*maxDepth + 16
}

// DecodeCloudSigmaJob decodes one job document, refusing a tree that nests
// deeper than maxDepth job levels (DefaultMaxDepth when 0) before any
// recursive decoding starts: such a document ends in an error wrapping
// ErrTooDeep, never a crash or a stall.
func DecodeCloudSigmaJob(data []byte, maxDepth int) (*CloudSigmaJob, error) {
	var j *CloudSigmaJob
	if err := decodeBounded(data, maxDepth, &j); err != nil {
		return nil, err
	}
	if j == nil {
		return nil, fmt.Errorf("%w: job document is null", ErrMalformed)
	}
	return j, nil
}

// DecodeCloudSigmaJobList decodes a /jobs/ page with the same bound.
func DecodeCloudSigmaJobList(data []byte, maxDepth int) (*CloudSigmaJobList, error) {
	var l CloudSigmaJobList
	if err := decodeBounded(data, maxDepth, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

func decodeBounded(data []byte, maxDepth int, v any) error {
	if maxDepth <= 0 {
		maxDepth = DefaultMaxDepth
	}
	if err := wire.Depth(data, CloudSigmaMaxJSONDepth(maxDepth)); err != nil {
		return fmt.Errorf("%w: CloudSigma job document nests deeper than %d job levels allow (%v)", ErrTooDeep, maxDepth, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		if wire.IsDepthError(err) {
			return fmt.Errorf("%w: %v", ErrTooDeep, err)
		}
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return nil
}

// CloudSigmaState maps a CloudSigma job state to the normalized State:
// "started" is running, "success" succeeded; words that plainly mean
// failure (failed, failure, error, errored) map to failed, and cancelled,
// canceled, aborted to aborted. Any other word is StateUnknown; Job.RawState
// keeps it.
func CloudSigmaState(s string) State {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "started", "running", "in_progress":
		return StateRunning
	case "success", "succeeded", "finished", "done":
		return StateSucceeded
	case "failed", "failure", "error", "errored":
		return StateFailed
	case "cancelled", "canceled", "aborted":
		return StateAborted
	case "queued", "pending", "waiting":
		return StateQueued
	}
	return StateUnknown
}

// ToJob converts the wire job into the normalized *Job tree, at most
// maxDepth levels deep (DefaultMaxDepth when 0); a deeper tree (possible
// only for a value built in Go, since the decoders refuse one) or a cycle
// of pointers ends in a *TreeError wrapping ErrTooDeep.
func (j *CloudSigmaJob) ToJob(maxDepth int) (*Job, error) {
	if maxDepth <= 0 {
		maxDepth = DefaultMaxDepth
	}
	return j.toJob(0, maxDepth, nil)
}

func (j *CloudSigmaJob) toJob(depth, maxDepth int, path []string) (*Job, error) {
	path = append(path, j.UUID)
	if depth > maxDepth {
		return nil, &TreeError{Err: ErrTooDeep, Path: trimPath(path)}
	}
	out := &Job{
		ID: j.UUID, Dialect: "cloudsigma", Operation: j.Operation,
		State: CloudSigmaState(j.State), RawState: j.State,
		Resources: append([]string(nil), j.Resources...),
		Created:   j.Created.Time, Updated: j.LastModified.Time,
		Raw: j.raw,
	}
	if j.Data != nil {
		if p := j.Data.Progress; p != nil {
			out.Progress = Progress{Percent: *p, Known: true}
			// CloudSigma: "progress 100 means finished", whatever the
			// state word says (it reads "started" until the server
			// catches up). A failure word still wins.
			if *p >= 100 && !out.State.Failure() {
				out.State = StateSucceeded
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
		out.Children = make([]*Job, 0, len(j.Children))
		for _, c := range j.Children {
			if c == nil {
				continue
			}
			cj, err := c.toJob(depth+1, maxDepth, path)
			if err != nil {
				return nil, err
			}
			out.Children = append(out.Children, cj)
		}
	}
	return out, nil
}

func trimPath(p []string) []string {
	if len(p) > 16 {
		return append(append(append([]string(nil), p[:8]...), "…"), p[len(p)-8:]...)
	}
	return append([]string(nil), p...)
}

// CloudSigmaPage is one page of a CloudSigma list: {"meta": ..., "objects": [...]}.
type CloudSigmaPage[T any] struct {
	Meta    CloudSigmaMeta `json:"meta"`
	Objects []T            `json:"objects"`
}
