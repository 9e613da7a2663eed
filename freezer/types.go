package freezer

import (
	"encoding/json"
	"maps"
	"slices"
)

// Job is a Freezer job document, as GET /v1/jobs/{job_id} and
// GET /v2/{project_id}/jobs/{job_id} return it and as POST, PATCH and
// replace take it. Field names are the API's. Keys this type does not
// model are kept in Extra and written back.
type Job struct {
	// JobID is the server's id (32 hex digits for jobs it created).
	JobID string `json:"job_id,omitempty"`
	// UserID and ProjectID are the owner; the server sets them. ProjectID
	// is null (empty here) on the v1 API of the SQL backend.
	UserID    string `json:"user_id,omitempty"`
	ProjectID string `json:"project_id,omitempty"`
	// ClientID names the Freezer agent (scheduler) that runs the job;
	// required on create. The reference client uses
	// "<project_id>_<hostname>".
	ClientID string `json:"client_id,omitempty"`
	// SessionID and SessionTag tie the job to a session.
	SessionID  string `json:"session_id,omitempty"`
	SessionTag int64  `json:"session_tag,omitempty"`
	// Description is free text; the api-ref documents at most 64 bytes.
	Description string `json:"description,omitempty"`
	// JobActions are the steps, run in order.
	JobActions []JobAction `json:"job_actions,omitempty"`
	// JobSchedule holds when the job runs and its status and result.
	JobSchedule JobSchedule `json:"job_schedule"`
	// ActionDefaults, on create, are merged by the server into every
	// action's freezer_action (keys an action already has win). The
	// server never returns it.
	ActionDefaults *FreezerAction `json:"action_defaults,omitempty"`
	// Extra holds keys this type does not model ("_version", "session_name",
	// a newer server's fields), raw.
	Extra map[string]json.RawMessage `json:"-"`

	present []string
}

func (j *Job) fields() []field {
	return []field{
		{"job_id", &j.JobID}, {"user_id", &j.UserID}, {"project_id", &j.ProjectID},
		{"client_id", &j.ClientID}, {"session_id", &j.SessionID}, {"session_tag", &j.SessionTag},
		{"description", &j.Description}, {"job_actions", &j.JobActions},
		{"job_schedule", &j.JobSchedule}, {"action_defaults", &j.ActionDefaults},
	}
}

func (j *Job) fromValue(v any) (err error) {
	*j = Job{}
	j.present, j.Extra, err = fill(v, j.fields())
	return err
}

// UnmarshalJSON decodes a job document, keeping unknown keys in Extra. A
// known key whose value has an unexpected type is kept in Extra too.
func (j *Job) UnmarshalJSON(data []byte) error { return unmarshal(data, j.fromValue) }

// MarshalJSON encodes the job with its Extra keys.
func (j Job) MarshalJSON() ([]byte, error) { return encode(j.fields(), j.present, j.Extra) }

// outgoing is the job as Create, Update and Replace send it: the nulls of
// modelled keys a fetched document kept (v1's "project_id": null) are
// left out, as the server's schema refuses a null where it wants a string.
func (j *Job) outgoing() *Job {
	var drop []string
	for k, raw := range j.Extra {
		if isNull(raw) && slices.ContainsFunc(j.fields(), func(f field) bool { return f.name == k }) {
			drop = append(drop, k)
		}
	}
	if len(drop) == 0 {
		return j
	}
	c := *j
	c.Extra = maps.Clone(j.Extra)
	for _, k := range drop {
		delete(c.Extra, k)
	}
	c.present = slices.DeleteFunc(slices.Clone(j.present), func(k string) bool { return slices.Contains(drop, k) })
	return &c
}

// JobAction is one step of a job: a freezer_action (what the agent runs)
// and its retry policy.
type JobAction struct {
	FreezerAction FreezerAction `json:"freezer_action"`
	// MaxRetries is how many times the agent tries the action (its default
	// is 1); MaxRetriesInterval the seconds between tries (default 60).
	MaxRetries         int64 `json:"max_retries,omitempty"`
	MaxRetriesInterval int64 `json:"max_retries_interval,omitempty"`
	// Mandatory actions run even after an earlier action failed.
	Mandatory bool `json:"mandatory,omitempty"`
	// ActionID is set by the server, which stores each action too.
	ActionID string `json:"action_id,omitempty"`
	// UserID and ProjectID are set by the server.
	UserID    string `json:"user_id,omitempty"`
	ProjectID string `json:"project_id,omitempty"`
	// Extra holds keys this type does not model, raw.
	Extra map[string]json.RawMessage `json:"-"`

	present []string
}

func (a *JobAction) fields() []field {
	return []field{
		{"freezer_action", &a.FreezerAction}, {"max_retries", &a.MaxRetries},
		{"max_retries_interval", &a.MaxRetriesInterval}, {"mandatory", &a.Mandatory},
		{"action_id", &a.ActionID}, {"user_id", &a.UserID}, {"project_id", &a.ProjectID},
	}
}

func (a *JobAction) fromValue(v any) (err error) {
	*a = JobAction{}
	a.present, a.Extra, err = fill(v, a.fields())
	return err
}

// UnmarshalJSON decodes an action, keeping unknown keys in Extra.
func (a *JobAction) UnmarshalJSON(data []byte) error { return unmarshal(data, a.fromValue) }

// MarshalJSON encodes the action with its Extra keys.
func (a JobAction) MarshalJSON() ([]byte, error) { return encode(a.fields(), a.present, a.Extra) }

// FreezerAction is what the Freezer agent runs: its keys are the freezer
// agent's command-line options. The server validates only action, mode,
// backup_name and restore_abs_path and accepts any other key, which this
// type keeps in Extra (no_incremental, max_level, remove_older_than, ...).
type FreezerAction struct {
	// Action is backup, restore, info, admin or exec.
	Action string `json:"action,omitempty"`
	// Mode is fs, mysql, mongo, sqlserver, cinder, nova, ...
	Mode           string `json:"mode,omitempty"`
	PathToBackup   string `json:"path_to_backup,omitempty"`
	BackupName     string `json:"backup_name,omitempty"`
	Container      string `json:"container,omitempty"`
	Storage        string `json:"storage,omitempty"`
	Engine         string `json:"engine,omitempty"`
	RestoreAbsPath string `json:"restore_abs_path,omitempty"`
	// Extra holds every other option, raw.
	Extra map[string]json.RawMessage `json:"-"`

	present []string
}

func (f *FreezerAction) fields() []field {
	return []field{
		{"action", &f.Action}, {"mode", &f.Mode}, {"path_to_backup", &f.PathToBackup},
		{"backup_name", &f.BackupName}, {"container", &f.Container}, {"storage", &f.Storage},
		{"engine", &f.Engine}, {"restore_abs_path", &f.RestoreAbsPath},
	}
}

// Set stores an option this type has no field for (it goes to Extra).
func (f *FreezerAction) Set(key string, value any) error {
	v, err := json.Marshal(value)
	if err != nil {
		return err
	}
	if f.Extra == nil {
		f.Extra = map[string]json.RawMessage{}
	}
	f.Extra[key] = v
	return nil
}

func (f *FreezerAction) fromValue(v any) (err error) {
	*f = FreezerAction{}
	f.present, f.Extra, err = fill(v, f.fields())
	return err
}

// UnmarshalJSON decodes an action's options, keeping unknown keys in Extra.
func (f *FreezerAction) UnmarshalJSON(data []byte) error { return unmarshal(data, f.fromValue) }

// MarshalJSON encodes the options with their Extra keys.
func (f FreezerAction) MarshalJSON() ([]byte, error) { return encode(f.fields(), f.present, f.Extra) }

// Event, Status and Result are the words of a job_schedule.
type (
	// Event is a request to the agent: "", start, stop, abort, remove.
	Event string
	// Status is where the agent has the job: "", completed, stop,
	// scheduled, running, aborting, removed.
	Status string
	// Result is how the last run ended: "", success, fail, aborted.
	Result string
)

// The schedule words the server accepts (freezer_api/common/json_schemas.py).
const (
	EventNone   Event = ""
	EventStart  Event = "start"
	EventStop   Event = "stop"
	EventAbort  Event = "abort"
	EventRemove Event = "remove"

	StatusNone      Status = ""
	StatusCompleted Status = "completed"
	StatusStop      Status = "stop"
	StatusScheduled Status = "scheduled"
	StatusRunning   Status = "running"
	StatusAborting  Status = "aborting"
	StatusRemoved   Status = "removed"

	ResultNone    Result = ""
	ResultSuccess Result = "success"
	ResultFail    Result = "fail"
	ResultAborted Result = "aborted"
)

// The accepted words, in the server's order (arrays: no caller can change
// what Validate accepts).
var (
	events   = [...]Event{EventNone, EventStop, EventStart, EventAbort, EventRemove}
	statuses = [...]Status{StatusNone, StatusCompleted, StatusStop, StatusScheduled, StatusRunning, StatusAborting, StatusRemoved}
	results  = [...]Result{ResultNone, ResultSuccess, ResultFail, ResultAborted}
)

// Events lists the events a job_schedule accepts, in the server's order.
func Events() []Event { return slices.Clone(events[:]) }

// Statuses lists the statuses a job_schedule accepts, in the server's order.
func Statuses() []Status { return slices.Clone(statuses[:]) }

// Results lists the results a job_schedule accepts, in the server's order.
func Results() []Result { return slices.Clone(results[:]) }

// JobSchedule is a job's job_schedule: when it runs (a date, an interval,
// or cron-like fields) and what the agent last did. The server rejects any
// key not listed here.
type JobSchedule struct {
	// TimeCreated, TimeStarted and TimeEnded are Unix seconds; the server
	// sets TimeStarted and TimeEnded to -1 on create.
	TimeCreated int64  `json:"time_created,omitempty"`
	TimeStarted int64  `json:"time_started,omitempty"`
	TimeEnded   int64  `json:"time_ended,omitempty"`
	Event       Event  `json:"event,omitempty"`
	Status      Status `json:"status,omitempty"`
	Result      Result `json:"result,omitempty"`
	// ScheduleDate runs the job once at an ISO 8601 date-time
	// ("2026-01-02T03:04:05", with optional fraction and zone).
	ScheduleDate string `json:"schedule_date,omitempty"`
	// ScheduleInterval repeats the job: "continuous" or "N weeks", "N
	// days", "N hours", "N minutes", "N seconds".
	ScheduleInterval  string `json:"schedule_interval,omitempty"`
	ScheduleStartDate string `json:"schedule_start_date,omitempty"`
	ScheduleEndDate   string `json:"schedule_end_date,omitempty"`
	// Cron-like fields (APScheduler's); ScheduleYear is four digits.
	ScheduleYear      string `json:"schedule_year,omitempty"`
	ScheduleMonth     string `json:"schedule_month,omitempty"`
	ScheduleDay       string `json:"schedule_day,omitempty"`
	ScheduleWeek      string `json:"schedule_week,omitempty"`
	ScheduleDayOfWeek string `json:"schedule_day_of_week,omitempty"`
	ScheduleHour      string `json:"schedule_hour,omitempty"`
	ScheduleMinute    string `json:"schedule_minute,omitempty"`
	ScheduleSecond    string `json:"schedule_second,omitempty"`
	// CurrentPID is the agent's process id for a running job.
	CurrentPID int64 `json:"current_pid,omitempty"`
	// Extra holds keys this type does not model. The server rejects them;
	// Validate reports them.
	Extra map[string]json.RawMessage `json:"-"`

	present []string
}

func (s *JobSchedule) fields() []field {
	return []field{
		{"time_created", &s.TimeCreated}, {"time_started", &s.TimeStarted}, {"time_ended", &s.TimeEnded},
		{"event", &s.Event}, {"status", &s.Status}, {"result", &s.Result},
		{"schedule_date", &s.ScheduleDate}, {"schedule_interval", &s.ScheduleInterval},
		{"schedule_start_date", &s.ScheduleStartDate}, {"schedule_end_date", &s.ScheduleEndDate},
		{"schedule_year", &s.ScheduleYear}, {"schedule_month", &s.ScheduleMonth},
		{"schedule_day", &s.ScheduleDay}, {"schedule_week", &s.ScheduleWeek},
		{"schedule_day_of_week", &s.ScheduleDayOfWeek}, {"schedule_hour", &s.ScheduleHour},
		{"schedule_minute", &s.ScheduleMinute}, {"schedule_second", &s.ScheduleSecond},
		{"current_pid", &s.CurrentPID},
	}
}

func (s *JobSchedule) fromValue(v any) (err error) {
	*s = JobSchedule{}
	s.present, s.Extra, err = fill(v, s.fields())
	return err
}

// UnmarshalJSON decodes a schedule, keeping unknown keys in Extra.
func (s *JobSchedule) UnmarshalJSON(data []byte) error { return unmarshal(data, s.fromValue) }

// MarshalJSON encodes the schedule with its Extra keys.
func (s JobSchedule) MarshalJSON() ([]byte, error) { return encode(s.fields(), s.present, s.Extra) }

// Search is the search document GET .../jobs takes in its body: a job is
// listed when every Match pair is found in it (at any depth: "status"
// matches job_schedule.status) and no MatchNot pair is. The SQL backend
// compares values exactly.
type Search struct {
	Match    []map[string]any `json:"match,omitempty"`
	MatchNot []map[string]any `json:"match_not,omitempty"`
}

// Empty reports whether s has no terms.
func (s *Search) Empty() bool { return s == nil || (len(s.Match) == 0 && len(s.MatchNot) == 0) }

// EventResult is the answer to an event: "success" or "start already
// requested" (or stop, abort).
type EventResult struct {
	Result string `json:"result"`
}

// Accepted reports whether the server recorded the event now (rather than
// finding it already requested).
func (r EventResult) Accepted() bool { return r.Result == "success" }

// IDVersion is what create, update and replace return: the job id and,
// for update and replace, a version (a number on update; on the SQL
// backend's replace, the job id again).
type IDVersion struct {
	JobID   string          `json:"job_id"`
	Version json.RawMessage `json:"version,omitempty"`
}
