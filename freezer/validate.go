package freezer

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// MaxDescriptionBytes is the documented limit on a job's description
// (api-ref parameters.yaml). Note: freezer-api 13 does not enforce it.
const MaxDescriptionBytes = 64

// ErrInvalid matches every *ValidationError.
var ErrInvalid = errors.New("freezer: invalid job")

// ValidationError is a job document the client refused to send because the
// server's schema (or the documented limits) would reject it.
type ValidationError struct {
	// Field is the JSON path of the bad value, such as
	// "job_schedule.schedule_interval" or "job_actions[0].freezer_action.mode".
	Field string
	// Value is the offending value (never a secret: job documents hold none).
	Value string
	// Reason says what is wrong.
	Reason string
}

// Error says which field is wrong, its value and why.
func (e *ValidationError) Error() string {
	if e.Value != "" {
		return fmt.Sprintf("freezer: invalid %s %q: %s", e.Field, e.Value, e.Reason)
	}
	return fmt.Sprintf("freezer: invalid %s: %s", e.Field, e.Reason)
}

// Unwrap returns ErrInvalid.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

// The server's patterns (freezer_api/common/json_schemas.py), in Go syntax.
// Python's \w and \d match Unicode letters and digits, and its $ also
// matches before a final newline; these do the same.
const (
	wordRE = `[\p{L}\p{N}_]`
	digit  = `\p{Nd}`
	pyEnd  = `\n?\z`
)

var (
	// idPattern is what job_id, user_id, project_id, action and mode must match.
	idPattern = regexp.MustCompile(`^` + wordRE[:len(wordRE)-1] + `-]+` + pyEnd)
	// sessionIDPattern is what session_id must match (empty allowed).
	sessionIDPattern = regexp.MustCompile(`^` + wordRE[:len(wordRE)-1] + `-]*` + pyEnd)
	// intervalPattern is what schedule_interval must match.
	intervalPattern = regexp.MustCompile(`^(continuous|(` + digit + `+ +(weeks|days|hours|minutes|seconds)))` + pyEnd)
	// datePattern is what schedule_date, schedule_start_date and
	// schedule_end_date must match: an ISO 8601 date-time.
	datePattern = regexp.MustCompile(`^(-?(?:[1-9][0-9]*)?[0-9]{4})-(1[0-2]|0[1-9])-(3[01]|0[1-9]|[12][0-9])T(2[0-3]|[01][0-9]):([0-5][0-9]):([0-5][0-9])(\.[0-9]+)?(Z|[+-](?:2[0-3]|[01][0-9]):[0-5][0-9])?` + pyEnd)
	// yearPattern is what schedule_year must match.
	yearPattern = regexp.MustCompile(`^` + digit + `{4}` + pyEnd)
	// clientIDPattern is what client_id must match: an optional
	// "<project>_" prefix and a host name.
	clientIDPattern = regexp.MustCompile(`^(?:([` + `\p{L}\p{N}_` + `\-]+)_)?` +
		`([a-zA-Z\d]|[a-zA-Z\d][a-zA-Z\d\-]{0,61}[a-zA-Z\d])(\.([a-zA-Z\d]|[a-zA-Z\d][a-zA-Z\d\-]{0,61}[a-zA-Z\d]))*` + pyEnd)
)

// Validate checks a job document for create or replace: what the server's
// job_schema requires (client_id; patterns; enum words; no unknown
// job_schedule keys; job_actions present, each with an action) and the
// documented 64-byte description. It returns the first problem as a
// *ValidationError.
func (j *Job) Validate() error { return j.validate(true) }

// ValidatePatch checks a partial job document for Update (PATCH): the same
// rules, with nothing required.
func (j *Job) ValidatePatch() error { return j.validate(false) }

func (j *Job) validate(full bool) error {
	if j == nil {
		return &ValidationError{Field: "job", Reason: "nil job"}
	}
	if full && j.JobActions == nil && j.Extra["job_actions"] == nil {
		// The server requires the key; an empty list is accepted.
		return &ValidationError{Field: "job_actions", Reason: "required (an empty list is allowed)"}
	}
	if full && j.ClientID == "" {
		return &ValidationError{Field: "client_id", Reason: "required"}
	}
	if j.ClientID != "" && !clientIDPattern.MatchString(j.ClientID) {
		return &ValidationError{Field: "client_id", Value: j.ClientID, Reason: "must be [<project>_]<hostname>"}
	}
	for _, f := range []struct{ name, v string }{{"job_id", j.JobID}, {"user_id", j.UserID}, {"project_id", j.ProjectID}} {
		if f.v != "" && !idPattern.MatchString(f.v) {
			return &ValidationError{Field: f.name, Value: f.v, Reason: "must be letters, digits, _ and -"}
		}
	}
	if j.SessionID != "" && !sessionIDPattern.MatchString(j.SessionID) {
		return &ValidationError{Field: "session_id", Value: j.SessionID, Reason: "must be letters, digits, _ and -"}
	}
	if n := len(j.Description); n > MaxDescriptionBytes {
		return &ValidationError{Field: "description", Reason: fmt.Sprintf("%d bytes, at most %d allowed", n, MaxDescriptionBytes)}
	}
	for i := range j.JobActions {
		path := fmt.Sprintf("job_actions[%d].freezer_action", i)
		fa := &j.JobActions[i].FreezerAction
		if raw, ok := fa.Extra["action"]; fa.Action == "" && (!ok || isNull(raw)) {
			// The server stores each action in a table whose action
			// column is NOT NULL, and answers 500 without one.
			return &ValidationError{Field: path + ".action", Reason: "required"}
		}
		if err := fa.validate(path); err != nil {
			return err
		}
	}
	if j.ActionDefaults != nil {
		if err := j.ActionDefaults.validate("action_defaults"); err != nil {
			return err
		}
	}
	if err := j.JobSchedule.Validate(); err != nil {
		return err
	}
	for k, raw := range j.Extra {
		if isNull(raw) && slices.ContainsFunc(j.fields(), func(f field) bool { return f.name == k }) {
			continue // a null the server sent: not sent back (outgoing)
		}
		if !slices.Contains(extraJobKeys, k) {
			return &ValidationError{Field: k, Reason: "not a job field (the server rejects unknown keys)"}
		}
	}
	return nil
}

// extraJobKeys are job_schema properties this package keeps in Extra.
var extraJobKeys = []string{"_version", "session_name"}

func (f *FreezerAction) validate(path string) error {
	for _, p := range []struct{ name, v string }{{"action", f.Action}, {"mode", f.Mode}} {
		if p.v != "" && !idPattern.MatchString(p.v) {
			return &ValidationError{Field: path + "." + p.name, Value: p.v, Reason: "must be letters, digits, _ and -"}
		}
	}
	return nil
}

// Validate checks a job_schedule against the server's schema: enum words,
// interval and date patterns, and no unknown keys.
func (s *JobSchedule) Validate() error {
	if !slices.Contains(events[:], s.Event) {
		return &ValidationError{Field: "job_schedule.event", Value: string(s.Event), Reason: "unknown event; want one of " + words(events[:])}
	}
	if !slices.Contains(statuses[:], s.Status) {
		return &ValidationError{Field: "job_schedule.status", Value: string(s.Status), Reason: "unknown status; want one of " + words(statuses[:])}
	}
	if !slices.Contains(results[:], s.Result) {
		return &ValidationError{Field: "job_schedule.result", Value: string(s.Result), Reason: "unknown result; want one of " + words(results[:])}
	}
	if v := s.ScheduleInterval; v != "" && !intervalPattern.MatchString(v) {
		return &ValidationError{Field: "job_schedule.schedule_interval", Value: v, Reason: `want "continuous" or "N weeks|days|hours|minutes|seconds"`}
	}
	for _, d := range []struct{ name, v string }{{"schedule_date", s.ScheduleDate}, {"schedule_start_date", s.ScheduleStartDate}, {"schedule_end_date", s.ScheduleEndDate}} {
		if d.v != "" && !datePattern.MatchString(d.v) {
			return &ValidationError{Field: "job_schedule." + d.name, Value: d.v, Reason: "want an ISO 8601 date-time such as 2026-01-02T03:04:05Z"}
		}
	}
	if v := s.ScheduleYear; v != "" && !yearPattern.MatchString(v) {
		return &ValidationError{Field: "job_schedule.schedule_year", Value: v, Reason: "want four digits"}
	}
	if len(s.Extra) > 0 {
		keys := make([]string, 0, len(s.Extra))
		for k := range s.Extra {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return &ValidationError{Field: "job_schedule." + keys[0], Reason: "unknown job_schedule key (the server rejects it)"}
	}
	return nil
}

func words[T ~string](ws []T) string {
	q := make([]string, len(ws))
	for i, w := range ws {
		q[i] = fmt.Sprintf("%q", string(w))
	}
	return strings.Join(q, ", ")
}

// ParseInterval turns a schedule_interval into seconds: "continuous" is 1
// second (the agent's own reading), "N unit" N times the unit.
func ParseInterval(s string) (seconds int64, ok bool) {
	s = strings.TrimSuffix(s, "\n")
	if s == "continuous" {
		return 1, true
	}
	num, unit, found := strings.Cut(s, " ")
	if !found {
		return 0, false
	}
	unit = strings.TrimLeft(unit, " ")
	var n int64
	for _, r := range num {
		if r < '0' || r > '9' {
			return 0, false
		}
		n = n*10 + int64(r-'0')
		if n > 1<<40 {
			return 0, false
		}
	}
	mult := map[string]int64{"weeks": 7 * 86400, "days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}[unit]
	if mult == 0 || num == "" {
		return 0, false
	}
	return n * mult, true
}
