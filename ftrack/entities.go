package ftrack

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Status is a Job's status. The server's schema allows exactly queued
// (the default), running, done and failed.
type Status string

// The job statuses.
const (
	StatusQueued  Status = "queued"
	StatusRunning Status = "running"
	StatusDone    Status = "done"
	StatusFailed  Status = "failed"
)

// Finished reports whether s is done or failed.
func (s Status) Finished() bool { return s == StatusDone || s == StatusFailed }

// JobTypeAPI is the only job type an API client may create.
const JobTypeAPI = "api_job"

// Job is an ftrack Job entity: feedback about a long task, shown in the
// web interface's Jobs menu of its user.
type Job struct {
	EntityType string `json:"__entity_type__,omitempty"`
	ID         string `json:"id,omitempty"`
	Status     Status `json:"status,omitempty"`
	Type       string `json:"type,omitempty"`
	// Data is a JSON document serialised into a string, such as
	// {"description": "Exporting 42%"}; see JobData and Description.
	Data          *string        `json:"data,omitempty"`
	UserID        string         `json:"user_id,omitempty"`
	User          *User          `json:"user,omitempty"`
	CreatedAt     DateTime       `json:"created_at,omitzero"`
	FinishedAt    DateTime       `json:"finished_at,omitzero"`
	JobComponents []JobComponent `json:"job_components,omitempty"`
	// Raw is the entity as the server sent it, unknown attributes included;
	// MarshalJSON re-encodes those.
	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes the entity and keeps it whole in Raw.
func (j *Job) UnmarshalJSON(b []byte) error {
	type plain Job
	return decodeRaw(b, (*plain)(j), &j.Raw)
}

// MarshalJSON encodes the fields, plus the attributes of Raw that Job
// does not model.
func (j Job) MarshalJSON() ([]byte, error) {
	type plain Job
	return encodeRaw(plain(j), j.Raw)
}

// JobData is the document a Job's data string holds. The web interface
// shows Description.
type JobData struct {
	Description string `json:"description,omitempty"`
	// Extra holds other keys of the document.
	Extra map[string]json.RawMessage `json:"-"`
}

// UnmarshalJSON keeps unknown keys.
func (d *JobData) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*d = JobData{}
	if v, ok := m["description"]; ok {
		if err := json.Unmarshal(v, &d.Description); err != nil {
			return fmt.Errorf("ftrack: job data description: %w", err)
		}
		delete(m, "description")
	}
	if len(m) > 0 {
		d.Extra = m
	}
	return nil
}

// MarshalJSON re-encodes with unknown keys; Description wins over an
// Extra key of the same name.
func (d JobData) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(d.Extra)+1)
	for k, v := range d.Extra {
		m[k] = v
	}
	if d.Description != "" {
		m["description"] = d.Description
	} else {
		delete(m, "description")
	}
	return json.Marshal(m)
}

// String serialises the document the way the data attribute holds it.
func (d JobData) String() string {
	b, err := json.Marshal(d)
	if err != nil {
		return "{}"
	}
	return string(b)
}

// JobDataString serialises {"description": description}.
func JobDataString(description string) string { return JobData{Description: description}.String() }

// ParsedData decodes the data string. A job without data gives an empty
// JobData; data that is not a JSON object is an error.
func (j *Job) ParsedData() (JobData, error) {
	var d JobData
	if j.Data == nil || strings.TrimSpace(*j.Data) == "" {
		return d, nil
	}
	if err := json.Unmarshal([]byte(*j.Data), &d); err != nil {
		return JobData{}, fmt.Errorf("ftrack: job %s data is not a JSON object: %w", j.ID, err)
	}
	return d, nil
}

// Description is the description in the job's data, or "" when there is
// none or the data does not decode.
func (j *Job) Description() string {
	d, _ := j.ParsedData()
	return d.Description
}

// SetDescription sets the description in the job's data, keeping its
// other keys (data that does not decode is replaced).
func (j *Job) SetDescription(description string) {
	d, _ := j.ParsedData()
	d.Description = description
	s := d.String()
	j.Data = &s
}

var percentRE = regexp.MustCompile(`(\d{1,3}(?:\.\d+)?)\s*%`)

// Percent finds a percentage in a description ("Exporting 42%" is 42). It
// returns false when there is none or it is above 100.
func Percent(description string) (float64, bool) {
	m := percentRE.FindAllStringSubmatch(description, -1)
	if len(m) == 0 {
		return 0, false
	}
	p, err := strconv.ParseFloat(m[len(m)-1][1], 64)
	if err != nil || p > 100 {
		return 0, false
	}
	return p, true
}

// User is an ftrack User entity (the attributes longrun uses).
type User struct {
	EntityType   string `json:"__entity_type__,omitempty"`
	ID           string `json:"id,omitempty"`
	Username     string `json:"username,omitempty"`
	FirstName    string `json:"first_name,omitempty"`
	LastName     string `json:"last_name,omitempty"`
	Email        string `json:"email,omitempty"`
	IsActive     *bool  `json:"is_active,omitempty"`
	ResourceType string `json:"resource_type,omitempty"`
	// Raw is the entity as the server sent it, unknown attributes included;
	// MarshalJSON re-encodes those.
	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes the entity and keeps it whole in Raw.
func (u *User) UnmarshalJSON(b []byte) error {
	type plain User
	return decodeRaw(b, (*plain)(u), &u.Raw)
}

// MarshalJSON encodes the fields, plus the attributes of Raw that User
// does not model.
func (u User) MarshalJSON() ([]byte, error) {
	type plain User
	return encodeRaw(plain(u), u.Raw)
}

// FileComponent is a file known to ftrack: Name plus FileType (with its
// dot, ".log") make the file name.
type FileComponent struct {
	EntityType         string              `json:"__entity_type__,omitempty"`
	ID                 string              `json:"id,omitempty"`
	Name               string              `json:"name,omitempty"`
	FileType           string              `json:"file_type,omitempty"`
	Size               *int64              `json:"size,omitempty"`
	SystemType         string              `json:"system_type,omitempty"`
	ContainerID        *string             `json:"container_id,omitempty"`
	VersionID          *string             `json:"version_id,omitempty"`
	ComponentLocations []ComponentLocation `json:"component_locations,omitempty"`
	// Raw is the entity as the server sent it, unknown attributes included;
	// MarshalJSON re-encodes those.
	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes the entity and keeps it whole in Raw.
func (c *FileComponent) UnmarshalJSON(b []byte) error {
	type plain FileComponent
	return decodeRaw(b, (*plain)(c), &c.Raw)
}

// MarshalJSON encodes the fields, plus the attributes of Raw that FileComponent
// does not model.
func (c FileComponent) MarshalJSON() ([]byte, error) {
	type plain FileComponent
	return encodeRaw(plain(c), c.Raw)
}

// FileName is Name followed by FileType.
func (c *FileComponent) FileName() string { return c.Name + c.FileType }

// ComponentLocation records that a component is stored in a Location under
// a resource identifier.
type ComponentLocation struct {
	EntityType         string         `json:"__entity_type__,omitempty"`
	ID                 string         `json:"id,omitempty"`
	ComponentID        string         `json:"component_id,omitempty"`
	LocationID         string         `json:"location_id,omitempty"`
	ResourceIdentifier string         `json:"resource_identifier,omitempty"`
	Component          *FileComponent `json:"component,omitempty"`
	Location           *Location      `json:"location,omitempty"`
	// Raw is the entity as the server sent it, unknown attributes included;
	// MarshalJSON re-encodes those.
	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes the entity and keeps it whole in Raw.
func (c *ComponentLocation) UnmarshalJSON(b []byte) error {
	type plain ComponentLocation
	return decodeRaw(b, (*plain)(c), &c.Raw)
}

// MarshalJSON encodes the fields, plus the attributes of Raw that ComponentLocation
// does not model.
func (c ComponentLocation) MarshalJSON() ([]byte, error) {
	type plain ComponentLocation
	return encodeRaw(plain(c), c.Raw)
}

// JobComponent attaches a component to a job; its key is
// [component_id, job_id].
type JobComponent struct {
	EntityType  string         `json:"__entity_type__,omitempty"`
	ComponentID string         `json:"component_id,omitempty"`
	JobID       string         `json:"job_id,omitempty"`
	Component   *FileComponent `json:"component,omitempty"`
	Job         *Job           `json:"job,omitempty"`
	// Raw is the entity as the server sent it, unknown attributes included;
	// MarshalJSON re-encodes those.
	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes the entity and keeps it whole in Raw.
func (c *JobComponent) UnmarshalJSON(b []byte) error {
	type plain JobComponent
	return decodeRaw(b, (*plain)(c), &c.Raw)
}

// MarshalJSON encodes the fields, plus the attributes of Raw that JobComponent
// does not model.
func (c JobComponent) MarshalJSON() ([]byte, error) {
	type plain JobComponent
	return encodeRaw(plain(c), c.Raw)
}

// Location is a storage place such as ftrack.server.
type Location struct {
	EntityType  string `json:"__entity_type__,omitempty"`
	ID          string `json:"id,omitempty"`
	Name        string `json:"name,omitempty"`
	Label       string `json:"label,omitempty"`
	Description string `json:"description,omitempty"`
	// Raw is the entity as the server sent it, unknown attributes included;
	// MarshalJSON re-encodes those.
	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes the entity and keeps it whole in Raw.
func (l *Location) UnmarshalJSON(b []byte) error {
	type plain Location
	return decodeRaw(b, (*plain)(l), &l.Raw)
}

// MarshalJSON encodes the fields, plus the attributes of Raw that Location
// does not model.
func (l Location) MarshalJSON() ([]byte, error) {
	type plain Location
	return encodeRaw(plain(l), l.Raw)
}
