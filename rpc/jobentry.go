package rpc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/longrun/longrun/jobs"
)

// Dialect names TrueNAS middleware jobs in the shared Job.
const Dialect jobs.Dialect = "truenas"

// Middleware job states.
const (
	StateWaiting = "WAITING"
	StateRunning = "RUNNING"
	StateSuccess = "SUCCESS"
	StateFailed  = "FAILED"
	StateAborted = "ABORTED"
)

// JobProgress is a job entry's progress.
type JobProgress struct {
	Percent     float64         `json:"percent"`
	Description string          `json:"description"`
	Extra       json.RawMessage `json:"extra"`
}

// ExcInfo describes a failed job's exception. Type is "VALIDATION" for
// validation errors (Extra is then a list of [attribute, message, errno])
// or the exception's class name.
type ExcInfo struct {
	Repr  string          `json:"repr"`
	Type  string          `json:"type"`
	Errno *int            `json:"errno"`
	Extra json.RawMessage `json:"extra"`
}

// JobEntry is one job as core.get_jobs and its collection_update events
// describe it. Fields longrun does not model are kept in Unknown and
// written back by MarshalJSON.
type JobEntry struct {
	ID                  int64             `json:"id"`
	MessageIDs          []json.RawMessage `json:"message_ids"`
	Method              string            `json:"method"`
	Arguments           []json.RawMessage `json:"arguments"`
	Transient           bool              `json:"transient"`
	Description         *string           `json:"description"`
	Abortable           bool              `json:"abortable"`
	LogsPath            *string           `json:"logs_path"`
	LogsExcerpt         *string           `json:"logs_excerpt"`
	Progress            JobProgress       `json:"progress"`
	Result              json.RawMessage   `json:"result"`
	ResultEncodingError *string           `json:"result_encoding_error"`
	Error               *string           `json:"error"`
	Exception           *string           `json:"exception"`
	ExcInfo             *ExcInfo          `json:"exc_info"`
	State               string            `json:"state"`
	TimeStarted         *Time             `json:"time_started"`
	TimeFinished        *Time             `json:"time_finished"`
	Credentials         json.RawMessage   `json:"credentials"`

	// Unknown are the fields of the entry this version does not model.
	Unknown map[string]json.RawMessage `json:"-"`
}

type jobEntryAlias JobEntry

var knownJobFields = map[string]bool{
	"id": true, "message_ids": true, "method": true, "arguments": true, "transient": true,
	"description": true, "abortable": true, "logs_path": true, "logs_excerpt": true, "progress": true,
	"result": true, "result_encoding_error": true, "error": true, "exception": true, "exc_info": true,
	"state": true, "time_started": true, "time_finished": true, "credentials": true,
}

// UnmarshalJSON decodes an entry, keeping unknown fields.
func (e *JobEntry) UnmarshalJSON(b []byte) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return err
	}
	var a jobEntryAlias
	if err := json.Unmarshal(b, &a); err != nil {
		return fmt.Errorf("rpc: job entry: %w", err)
	}
	for k, v := range fields {
		if !knownJobFields[k] {
			if a.Unknown == nil {
				a.Unknown = map[string]json.RawMessage{}
			}
			a.Unknown[k] = v
		}
	}
	*e = JobEntry(a)
	return nil
}

// fromFields decodes merged fields and returns them encoded as one JSON
// object (the snapshot's Raw).
func (e *JobEntry) fromFields(fields map[string]json.RawMessage) ([]byte, error) {
	var a jobEntryAlias
	for k, v := range fields {
		if !knownJobFields[k] {
			if a.Unknown == nil {
				a.Unknown = map[string]json.RawMessage{}
			}
			a.Unknown[k] = v
		}
	}
	b, err := json.Marshal(fields)
	if err != nil {
		return nil, err
	}
	unknown := a.Unknown
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("rpc: job entry: %w", err)
	}
	a.Unknown = unknown
	*e = JobEntry(a)
	return b, nil
}

// MarshalJSON writes the entry with its unknown fields.
func (e JobEntry) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(jobEntryAlias(e))
	if err != nil || len(e.Unknown) == 0 {
		return b, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for k, v := range e.Unknown {
		if _, ok := m[k]; !ok {
			m[k] = v
		}
	}
	return json.Marshal(m)
}

// Terminal reports a final state: SUCCESS, FAILED or ABORTED.
func (e *JobEntry) Terminal() bool { return terminalState(e.State) }

func terminalState(s string) bool {
	return s == StateSuccess || s == StateFailed || s == StateAborted
}

func stateRank(s string) int {
	switch s {
	case StateWaiting:
		return 1
	case StateRunning:
		return 2
	case StateSuccess, StateFailed, StateAborted:
		return 3
	}
	return 0
}

// HasMessageID reports whether the entry's message_ids holds request id.
func (e *JobEntry) HasMessageID(id int64) bool {
	s := strconv.FormatInt(id, 10)
	for _, m := range e.MessageIDs {
		if m := string(bytes.TrimSpace(m)); m == s || m == `"`+s+`"` {
			return true
		}
	}
	return false
}

// ToJob converts the entry to longrun's normalized job. A TrueNAS job is
// done only in a final state (SUCCESS, FAILED, ABORTED): one still RUNNING
// at 100% is not, so jobs.Wait never ends before the job's result exists.
func (e *JobEntry) ToJob() *jobs.Job {
	raw, err := json.Marshal(e)
	if err != nil {
		raw = nil
	}
	return e.toJob(raw)
}

// toJob is ToJob with the entry's JSON already at hand.
func (e *JobEntry) toJob(raw []byte) *jobs.Job {
	j := &jobs.Job{
		ID:        strconv.FormatInt(e.ID, 10),
		Dialect:   Dialect,
		Operation: e.Method,
		RawState:  e.State,
		Progress: jobs.Progress{
			Percent:     e.Progress.Percent,
			Known:       true,
			Description: e.Progress.Description,
		},
	}
	switch e.State {
	case StateWaiting:
		j.State = jobs.StateQueued
	case StateRunning:
		j.State = jobs.StateRunning
	case StateSuccess:
		j.State = jobs.StateSucceeded
	case StateFailed:
		j.State = jobs.StateFailed
	case StateAborted:
		j.State = jobs.StateAborted
	default:
		j.State = jobs.StateUnknown
	}
	if e.Error != nil {
		j.Message = *e.Error
	}
	if e.TimeStarted != nil {
		j.Created = e.TimeStarted.Time
		j.Updated = e.TimeStarted.Time
	}
	if e.TimeFinished != nil && !e.TimeFinished.IsZero() {
		j.Updated = e.TimeFinished.Time
	}
	j.Raw = raw
	return j
}

// JobError is a job that ended FAILED or ABORTED, or a blocking job call
// that answered an error.
type JobError struct {
	JobID  int64  // 0 when the job id was never learned
	Method string // the job's method
	State  string // FAILED or ABORTED
	// Message is the job's error (str of the exception).
	Message string
	// Type is exc_info.type: "VALIDATION" or the exception class.
	Type string
	// Errno is exc_info.errno, when the server gave one.
	Errno *int
	// Validation lists the invalid arguments of a VALIDATION failure.
	Validation []ValidationItem
	// Exception is the server's formatted traceback.
	Exception string
	// Extra is exc_info.extra as sent.
	Extra json.RawMessage
	// Entry is the final job entry, when known.
	Entry *JobEntry
	// Cause is the JSON-RPC error a blocking call answered, if any.
	Cause *Error
}

// Error implements error.
func (e *JobError) Error() string {
	var sb strings.Builder
	sb.WriteString("rpc: job ")
	if e.JobID != 0 {
		sb.WriteString(strconv.FormatInt(e.JobID, 10))
		sb.WriteString(" ")
	}
	if e.Method != "" {
		sb.WriteString("(" + e.Method + ") ")
	}
	if e.State == StateAborted {
		sb.WriteString("aborted")
		return sb.String()
	}
	sb.WriteString("failed")
	if e.Type != "" {
		sb.WriteString(" with " + e.Type)
	}
	if len(e.Validation) > 0 {
		for i, v := range e.Validation {
			if i == 0 {
				sb.WriteString(": ")
			} else {
				sb.WriteString("; ")
			}
			sb.WriteString(v.String())
		}
	} else if e.Message != "" {
		sb.WriteString(": " + strings.TrimSpace(e.Message))
	}
	return sb.String()
}

// Is matches jobs.ErrJobFailed for every failure, jobs.ErrJobAborted for
// an abort and ErrInvalidParams for a validation failure.
func (e *JobError) Is(target error) bool {
	switch target {
	case jobs.ErrJobFailed:
		return true
	case jobs.ErrJobAborted:
		return e.State == StateAborted
	case ErrInvalidParams:
		return e.Type == "VALIDATION"
	}
	return false
}

// Unwrap returns the JSON-RPC error of a blocking call, if any.
func (e *JobError) Unwrap() error {
	if e.Cause == nil {
		return nil
	}
	return e.Cause
}

// jobErrorFromEntry builds the failure of a FAILED or ABORTED entry.
func jobErrorFromEntry(e *JobEntry) *JobError {
	je := &JobError{JobID: e.ID, Method: e.Method, State: e.State, Entry: e}
	if e.Error != nil {
		je.Message = *e.Error
	}
	if e.Exception != nil {
		je.Exception = *e.Exception
	}
	if e.ExcInfo != nil {
		je.Type, je.Errno, je.Extra = e.ExcInfo.Type, e.ExcInfo.Errno, e.ExcInfo.Extra
		if je.Type == "VALIDATION" {
			_ = json.Unmarshal(e.ExcInfo.Extra, &je.Validation)
		}
	}
	return je
}

// jobErrorFromReply builds the failure of a blocking job call that
// answered an error.
func jobErrorFromReply(id int64, method string, err *Error) *JobError {
	je := &JobError{JobID: id, Method: method, State: StateFailed, Message: err.Message, Cause: err}
	if err.Data != nil {
		je.Message = err.Data.Reason
		if err.Data.Errno != 0 {
			n := err.Data.Errno
			je.Errno = &n
		}
		je.Extra = err.Data.Extra
		if err.Data.Trace != nil {
			je.Type = err.Data.Trace.Class
			je.Exception = err.Data.Trace.Formatted
		}
	}
	if err.Code == CodeInvalidParams {
		je.Type = "VALIDATION"
		je.Validation = err.Validation()
	}
	return je
}

// decodeJobFields parses an event's or a query's job fields.
func decodeJobFields(raw json.RawMessage) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, protoErr("job fields are not an object: "+err.Error(), raw)
	}
	if m == nil {
		return nil, protoErr("job fields are null", raw)
	}
	return m, nil
}
