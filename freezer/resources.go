package freezer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"

	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/rest"
)

// The resources besides jobs: clients (the agents that run jobs), actions
// (the stored steps of jobs), sessions (jobs that start together) and
// backups (what a job produced), each under /v1/{name} and
// /v2/{project_id}/{name}. Every listing pages like jobs (limit, offset,
// a search document in the body); List returns one page and All every
// page.

// listPage sends GET path with opts as python-freezerclient does and
// returns the page items() reads from out.
func listPage[T any](ctx context.Context, c *Client, path string, opts *ListOptions, out any, items func() []T) (*jobs.Page[T], error) {
	var o ListOptions
	if opts != nil {
		o = *opts
	}
	if o.Limit < 0 || o.Offset < 0 {
		return nil, &ValidationError{Field: "limit/offset", Value: fmt.Sprint(o.Limit, "/", o.Offset), Reason: "negative"}
	}
	q := url.Values{}
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	if o.Offset > 0 {
		q.Set("offset", strconv.Itoa(o.Offset))
	}
	var body any
	if !o.Search.Empty() {
		body = o.Search
	}
	if _, err := c.do(ctx, http.MethodGet, path, q, body, out); err != nil {
		return nil, err
	}
	got := items()
	limit := o.Limit
	if limit == 0 {
		limit = DefaultLimit
	}
	return &jobs.Page[T]{Items: got, Offset: o.Offset, Limit: o.Limit, Total: -1, More: len(got) >= limit}, nil
}

// all iterates list page after page.
func all[T any](ctx context.Context, opts *ListOptions, list func(context.Context, *ListOptions) (*jobs.Page[T], error)) iter.Seq2[T, error] {
	var o ListOptions
	if opts != nil {
		o = *opts
	}
	if o.Limit <= 0 {
		o.Limit = DefaultLimit
	}
	return rest.Paginate(ctx, o.Offset, func(ctx context.Context, offset int) (*jobs.Page[T], error) {
		o.Offset = offset
		return list(ctx, &o)
	})
}

// itemPath is a collection's path joined with an id ("." and ".." are
// refused: they would name another resource once the URL is resolved).
func (c *Client) itemPath(ctx context.Context, name, field, id string) (string, error) {
	if id == "" || id == "." || id == ".." {
		return "", &ValidationError{Field: field, Value: id, Reason: "not an id"}
	}
	col, err := c.resource(ctx, name)
	if err != nil {
		return "", err
	}
	return col + "/" + url.PathEscape(id), nil
}

// ---- clients ----

// Agent is a registered Freezer client: the scheduler agent that runs the
// jobs whose client_id names it (GET .../clients/{client_id}).
type Agent struct {
	ProjectID string `json:"project_id,omitempty"`
	UserID    string `json:"user_id,omitempty"`
	// Client is the registration itself.
	Client AgentInfo `json:"client"`
	// Extra holds keys this type does not model (and nulls), raw.
	Extra map[string]json.RawMessage `json:"-"`

	present []string
}

func (a *Agent) fields() []field {
	return []field{{"project_id", &a.ProjectID}, {"user_id", &a.UserID}, {"client", &a.Client}}
}

func (a *Agent) fromValue(v any) (err error) {
	*a = Agent{}
	a.present, a.Extra, err = fill(v, a.fields())
	return err
}

// UnmarshalJSON decodes a client document, keeping unknown keys and nulls.
func (a *Agent) UnmarshalJSON(data []byte) error { return unmarshal(data, a.fromValue) }

// MarshalJSON encodes the document as it came, with changed fields.
func (a Agent) MarshalJSON() ([]byte, error) { return encode(a.fields(), a.present, a.Extra) }

// AgentInfo is what a client registers: its id (the client_id jobs name),
// host name, description and uuid (the server makes one when absent).
type AgentInfo struct {
	ClientID    string `json:"client_id,omitempty"`
	Hostname    string `json:"hostname,omitempty"`
	Description string `json:"description,omitempty"`
	UUID        string `json:"uuid,omitempty"`
	// Extra holds keys this type does not model (and nulls), raw.
	Extra map[string]json.RawMessage `json:"-"`

	present []string
}

func (a *AgentInfo) fields() []field {
	return []field{{"uuid", &a.UUID}, {"hostname", &a.Hostname}, {"client_id", &a.ClientID}, {"description", &a.Description}}
}

func (a *AgentInfo) fromValue(v any) (err error) {
	*a = AgentInfo{}
	a.present, a.Extra, err = fill(v, a.fields())
	return err
}

// UnmarshalJSON decodes a registration, keeping unknown keys and nulls.
func (a *AgentInfo) UnmarshalJSON(data []byte) error { return unmarshal(data, a.fromValue) }

// MarshalJSON encodes the registration as it came, with changed fields.
func (a AgentInfo) MarshalJSON() ([]byte, error) { return encode(a.fields(), a.present, a.Extra) }

// ListClients fetches one page of the caller's registered clients.
func (c *Client) ListClients(ctx context.Context, opts *ListOptions) (*jobs.Page[*Agent], error) {
	col, err := c.resource(ctx, "clients")
	if err != nil {
		return nil, err
	}
	var out struct {
		Clients []*Agent `json:"clients"`
	}
	return listPage(ctx, c, col, opts, &out, func() []*Agent { return out.Clients })
}

// AllClients yields every registered client, page after page.
func (c *Client) AllClients(ctx context.Context, opts *ListOptions) iter.Seq2[*Agent, error] {
	return all(ctx, opts, c.ListClients)
}

// GetClient fetches the client registered as clientID (jobs.ErrNotFound
// when there is none).
func (c *Client) GetClient(ctx context.Context, clientID string) (*Agent, error) {
	p, err := c.itemPath(ctx, "clients", "client_id", clientID)
	if err != nil {
		return nil, err
	}
	var a Agent
	if _, err := c.do(ctx, http.MethodGet, p, nil, nil, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// RegisterClient registers an agent (201) and returns its client_id. The
// server wants a host name (its table refuses a client without one) and
// answers 409 for a client_id already registered.
func (c *Client) RegisterClient(ctx context.Context, info *AgentInfo) (string, error) {
	if info == nil || info.ClientID == "" {
		return "", &ValidationError{Field: "client_id", Reason: "required"}
	}
	if !clientIDPattern.MatchString(info.ClientID) {
		return "", &ValidationError{Field: "client_id", Value: info.ClientID, Reason: "must be [<project>_]<hostname>"}
	}
	if info.Hostname == "" {
		return "", &ValidationError{Field: "hostname", Reason: "required (the clients table refuses a null host name)"}
	}
	col, err := c.resource(ctx, "clients")
	if err != nil {
		return "", err
	}
	var out struct {
		ClientID string `json:"client_id"`
	}
	if _, err := c.do(ctx, http.MethodPost, col, nil, info, &out); err != nil {
		return "", err
	}
	return out.ClientID, nil
}

// DeleteClient removes a registration (v1 answers 404 for an unknown one,
// v2 204 either way).
func (c *Client) DeleteClient(ctx context.Context, clientID string) error {
	p, err := c.itemPath(ctx, "clients", "client_id", clientID)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, http.MethodDelete, p, nil, nil, nil)
	return err
}

// ---- actions ----

// Action is a stored action (GET .../actions/{action_id}): the steps jobs
// run are stored here as they are created, and actions can be created on
// their own. The server fills the columns it keeps apart (backup_name,
// mode, container, timeout, priority, path_to_backup, log_file) into
// freezer_action, null when unset.
type Action struct {
	ActionID           string        `json:"action_id,omitempty"`
	ProjectID          string        `json:"project_id,omitempty"`
	UserID             string        `json:"user_id,omitempty"`
	MaxRetries         int64         `json:"max_retries,omitempty"`
	MaxRetriesInterval int64         `json:"max_retries_interval,omitempty"`
	Mandatory          bool          `json:"mandatory,omitempty"`
	FreezerAction      FreezerAction `json:"freezer_action"`
	// Extra holds keys this type does not model (and nulls), raw.
	Extra map[string]json.RawMessage `json:"-"`

	present []string
}

func (a *Action) fields() []field {
	return []field{{"project_id", &a.ProjectID}, {"action_id", &a.ActionID}, {"user_id", &a.UserID},
		{"max_retries", &a.MaxRetries}, {"max_retries_interval", &a.MaxRetriesInterval},
		{"mandatory", &a.Mandatory}, {"freezer_action", &a.FreezerAction}}
}

func (a *Action) fromValue(v any) (err error) {
	*a = Action{}
	a.present, a.Extra, err = fill(v, a.fields())
	return err
}

// UnmarshalJSON decodes an action document, keeping unknown keys and nulls.
func (a *Action) UnmarshalJSON(data []byte) error { return unmarshal(data, a.fromValue) }

// MarshalJSON encodes the document as it came, with changed fields.
func (a Action) MarshalJSON() ([]byte, error) { return encode(a.fields(), a.present, a.Extra) }

// outgoing drops the server's nulls and the owner fields it sets itself.
func (a *Action) outgoing() map[string]any {
	out := map[string]any{"freezer_action": a.FreezerAction}
	if a.ActionID != "" {
		out["action_id"] = a.ActionID
	}
	if a.MaxRetries != 0 {
		out["max_retries"] = a.MaxRetries
	}
	if a.MaxRetriesInterval != 0 {
		out["max_retries_interval"] = a.MaxRetriesInterval
	}
	if a.Mandatory {
		out["mandatory"] = true
	}
	for k, raw := range a.Extra {
		if !isNull(raw) {
			out[k] = raw
		}
	}
	return out
}

func (a *Action) validate() error {
	if a.ActionID != "" && !idPattern.MatchString(a.ActionID) {
		return &ValidationError{Field: "action_id", Value: a.ActionID, Reason: "must be letters, digits, _ and -"}
	}
	if a.FreezerAction.Action == "" {
		return &ValidationError{Field: "freezer_action.action", Reason: "required (the actions table refuses a null action)"}
	}
	return a.FreezerAction.validate("freezer_action")
}

// ListActions fetches one page of the caller's actions.
func (c *Client) ListActions(ctx context.Context, opts *ListOptions) (*jobs.Page[*Action], error) {
	col, err := c.resource(ctx, "actions")
	if err != nil {
		return nil, err
	}
	var out struct {
		Actions []*Action `json:"actions"`
	}
	return listPage(ctx, c, col, opts, &out, func() []*Action { return out.Actions })
}

// AllActions yields every action, page after page.
func (c *Client) AllActions(ctx context.Context, opts *ListOptions) iter.Seq2[*Action, error] {
	return all(ctx, opts, c.ListActions)
}

// GetAction fetches one action (jobs.ErrNotFound when unknown).
func (c *Client) GetAction(ctx context.Context, id string) (*Action, error) {
	p, err := c.itemPath(ctx, "actions", "action_id", id)
	if err != nil {
		return nil, err
	}
	var a Action
	if _, err := c.do(ctx, http.MethodGet, p, nil, nil, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// CreateAction stores an action (201) and returns its id (the server's
// when a.ActionID is empty; 409 when the id is taken).
func (c *Client) CreateAction(ctx context.Context, a *Action) (string, error) {
	if err := a.validate(); err != nil {
		return "", err
	}
	col, err := c.resource(ctx, "actions")
	if err != nil {
		return "", err
	}
	var out struct {
		ActionID string `json:"action_id"`
	}
	if _, err := c.do(ctx, http.MethodPost, col, nil, a.outgoing(), &out); err != nil {
		return "", err
	}
	return out.ActionID, nil
}

// UpdateAction patches action id. Beware the server's rule: the patch's
// freezer_action replaces the stored one, and max_retries and
// max_retries_interval become null unless the patch has them.
func (c *Client) UpdateAction(ctx context.Context, id string, a *Action) error {
	if err := a.FreezerAction.validate("freezer_action"); err != nil {
		return err
	}
	p, err := c.itemPath(ctx, "actions", "action_id", id)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, http.MethodPatch, p, nil, a.outgoing(), nil)
	return err
}

// ReplaceAction stores a in place of action id, or as a new action with
// that id (POST .../actions/{action_id}, 201). The id must not belong to
// another project's (or a deleted) action: the server's table answers 500.
func (c *Client) ReplaceAction(ctx context.Context, id string, a *Action) error {
	if err := a.validate(); err != nil {
		return err
	}
	p, err := c.itemPath(ctx, "actions", "action_id", id)
	if err != nil {
		return err
	}
	body := a.outgoing()
	delete(body, "action_id")
	_, err = c.do(ctx, http.MethodPost, p, nil, body, nil)
	return err
}

// DeleteAction removes action id (v1: 404 when unknown; v2: 204 always).
// Its id stays taken: the server only marks the row deleted.
func (c *Client) DeleteAction(ctx context.Context, id string) error {
	p, err := c.itemPath(ctx, "actions", "action_id", id)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, http.MethodDelete, p, nil, nil, nil)
	return err
}

// ---- sessions ----

// Session groups jobs that start together: a scheduler asks to start a
// session's job with the tag it last saw, the first start of a round
// moves session_tag on and marks the session running, and the session
// completes, with result success or fail, once every job has ended.
type Session struct {
	SessionID   string `json:"session_id,omitempty"`
	ProjectID   string `json:"project_id,omitempty"`
	UserID      string `json:"user_id,omitempty"`
	Description string `json:"description,omitempty"`
	SessionTag  int64  `json:"session_tag,omitempty"`
	// Result is "", success or fail; Status active, running or completed.
	Result string `json:"result,omitempty"`
	Status string `json:"status,omitempty"`
	// HoldOff is how many seconds after a round's first start a job with
	// an older tag may still join it (30 by default).
	HoldOff int64 `json:"hold_off,omitempty"`
	// TimeStart and TimeEnd bound the last round (Unix seconds, -1 before).
	TimeStart   int64 `json:"time_start,omitempty"`
	TimeEnd     int64 `json:"time_end,omitempty"`
	TimeStarted int64 `json:"time_started,omitempty"`
	TimeEnded   int64 `json:"time_ended,omitempty"`
	// Schedule is given to every job added to the session.
	Schedule JobSchedule `json:"schedule"`
	// Jobs are the session's jobs by id.
	Jobs map[string]SessionJob `json:"jobs,omitempty"`
	// Extra holds keys this type does not model (and nulls), raw.
	Extra map[string]json.RawMessage `json:"-"`

	present []string
}

func (s *Session) fields() []field {
	return []field{{"project_id", &s.ProjectID}, {"session_id", &s.SessionID}, {"user_id", &s.UserID},
		{"description", &s.Description}, {"session_tag", &s.SessionTag}, {"result", &s.Result},
		{"hold_off", &s.HoldOff}, {"status", &s.Status}, {"time_ended", &s.TimeEnded},
		{"time_started", &s.TimeStarted}, {"time_end", &s.TimeEnd}, {"time_start", &s.TimeStart},
		{"schedule", &s.Schedule}, {"jobs", &s.Jobs}}
}

func (s *Session) fromValue(v any) (err error) {
	*s = Session{}
	s.present, s.Extra, err = fill(v, s.fields())
	return err
}

// UnmarshalJSON decodes a session document, keeping unknown keys and nulls.
func (s *Session) UnmarshalJSON(data []byte) error { return unmarshal(data, s.fromValue) }

// MarshalJSON encodes the document as it came, with changed fields.
func (s Session) MarshalJSON() ([]byte, error) { return encode(s.fields(), s.present, s.Extra) }

// SessionJob is a job's state within its session.
type SessionJob struct {
	ClientID    string `json:"client_id,omitempty"`
	Status      string `json:"status"`
	Result      string `json:"result"`
	TimeStarted int64  `json:"time_started,omitempty"`
	TimeEnded   int64  `json:"time_ended,omitempty"`
	// Extra holds keys this type does not model (and nulls), raw.
	Extra map[string]json.RawMessage `json:"-"`

	present []string
}

func (j *SessionJob) fields() []field {
	return []field{{"client_id", &j.ClientID}, {"status", &j.Status}, {"result", &j.Result},
		{"time_started", &j.TimeStarted}, {"time_ended", &j.TimeEnded}}
}

func (j *SessionJob) fromValue(v any) (err error) {
	*j = SessionJob{}
	j.present, j.Extra, err = fill(v, j.fields())
	return err
}

// UnmarshalJSON decodes a session's job entry.
func (j *SessionJob) UnmarshalJSON(data []byte) error { return unmarshal(data, j.fromValue) }

// MarshalJSON encodes the entry as it came, with changed fields.
func (j SessionJob) MarshalJSON() ([]byte, error) { return encode(j.fields(), j.present, j.Extra) }

// SessionRequest is what CreateSession and UpdateSession send.
type SessionRequest struct {
	Description string       `json:"description,omitempty"`
	HoldOff     int64        `json:"hold_off,omitempty"`
	Schedule    *JobSchedule `json:"schedule,omitempty"`
}

// SessionActionResult is a start or end answer: "success", or for a
// start "hold-off" (the round started too recently for this tag) or
// "out-of-sync" (the tag is behind); SessionTag is the session's tag now.
type SessionActionResult struct {
	Result     string `json:"result"`
	SessionTag int64  `json:"session_tag"`
}

// ListSessions fetches one page of the caller's sessions.
func (c *Client) ListSessions(ctx context.Context, opts *ListOptions) (*jobs.Page[*Session], error) {
	col, err := c.resource(ctx, "sessions")
	if err != nil {
		return nil, err
	}
	var out struct {
		Sessions []*Session `json:"sessions"`
	}
	return listPage(ctx, c, col, opts, &out, func() []*Session { return out.Sessions })
}

// AllSessions yields every session, page after page.
func (c *Client) AllSessions(ctx context.Context, opts *ListOptions) iter.Seq2[*Session, error] {
	return all(ctx, opts, c.ListSessions)
}

// GetSession fetches one session (jobs.ErrNotFound when unknown).
func (c *Client) GetSession(ctx context.Context, id string) (*Session, error) {
	p, err := c.itemPath(ctx, "sessions", "session_id", id)
	if err != nil {
		return nil, err
	}
	var s Session
	if _, err := c.do(ctx, http.MethodGet, p, nil, nil, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// CreateSession creates a session (201) and returns its id. The server
// wants a schedule (an empty one is fine) and starts the session active.
func (c *Client) CreateSession(ctx context.Context, r *SessionRequest) (string, error) {
	if r == nil {
		r = &SessionRequest{}
	}
	req := *r
	if req.Schedule == nil {
		req.Schedule = &JobSchedule{}
	}
	if err := req.Schedule.Validate(); err != nil {
		return "", err
	}
	col, err := c.resource(ctx, "sessions")
	if err != nil {
		return "", err
	}
	var out struct {
		SessionID string `json:"session_id"`
	}
	if _, err := c.do(ctx, http.MethodPost, col, nil, &req, &out); err != nil {
		return "", err
	}
	return out.SessionID, nil
}

// UpdateSession patches a session's description, hold-off or schedule.
func (c *Client) UpdateSession(ctx context.Context, id string, r *SessionRequest) error {
	if r != nil && r.Schedule != nil {
		if err := r.Schedule.Validate(); err != nil {
			return err
		}
	}
	p, err := c.itemPath(ctx, "sessions", "session_id", id)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, http.MethodPatch, p, nil, r, nil)
	return err
}

// DeleteSession removes a session (v1: 404 when unknown; v2: 204 always).
func (c *Client) DeleteSession(ctx context.Context, id string) error {
	p, err := c.itemPath(ctx, "sessions", "session_id", id)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, http.MethodDelete, p, nil, nil, nil)
	return err
}

// AddJob puts job jobID in session sessionID (PUT
// .../sessions/{id}/jobs/{job_id}, 204): the job takes the session's id,
// tag and schedule.
func (c *Client) AddJob(ctx context.Context, sessionID, jobID string) error {
	return c.sessionJob(ctx, http.MethodPut, sessionID, jobID)
}

// RemoveJob takes job jobID out of session sessionID (204): the job's
// schedule becomes {"event": "stop"}. On v1 freezer-api 13's SQL backend
// answers 400 ("None is not of type 'string'").
func (c *Client) RemoveJob(ctx context.Context, sessionID, jobID string) error {
	return c.sessionJob(ctx, http.MethodDelete, sessionID, jobID)
}

func (c *Client) sessionJob(ctx context.Context, method, sessionID, jobID string) error {
	p, err := c.itemPath(ctx, "sessions", "session_id", sessionID)
	if err != nil {
		return err
	}
	if jobID == "" || jobID == "." || jobID == ".." {
		return &ValidationError{Field: "job_id", Value: jobID, Reason: "not an id"}
	}
	_, err = c.do(ctx, method, p+"/jobs/"+url.PathEscape(jobID), nil, nil, nil)
	return err
}

// StartSession asks to start job jobID of session sessionID in the round
// after tag currentTag (what a scheduler posts before it runs the job).
// On the fake, the simulated agent then runs the job.
func (c *Client) StartSession(ctx context.Context, sessionID, jobID string, currentTag int64) (SessionActionResult, error) {
	return c.sessionAction(ctx, sessionID, "start", map[string]any{"job_id": jobID, "current_tag": currentTag})
}

// EndSession reports that job jobID of session sessionID ended with
// result (what a scheduler posts after the run).
func (c *Client) EndSession(ctx context.Context, sessionID, jobID string, result Result) (SessionActionResult, error) {
	if result != ResultSuccess && result != ResultFail && result != ResultAborted {
		return SessionActionResult{}, &ValidationError{Field: "result", Value: string(result), Reason: "want success, fail or aborted"}
	}
	return c.sessionAction(ctx, sessionID, "end", map[string]any{"job_id": jobID, "result": result})
}

func (c *Client) sessionAction(ctx context.Context, sessionID, action string, params map[string]any) (SessionActionResult, error) {
	if id, _ := params["job_id"].(string); id == "" {
		return SessionActionResult{}, &ValidationError{Field: "job_id", Reason: "required"}
	}
	p, err := c.itemPath(ctx, "sessions", "session_id", sessionID)
	if err != nil {
		return SessionActionResult{}, err
	}
	var out SessionActionResult
	_, err = c.do(ctx, http.MethodPost, p+"/action", nil, map[string]any{action: params}, &out)
	return out, err
}

// ---- backups ----

// Backup is a backup's record (GET .../backups/{backup_id}): what an agent
// reported after a backup, its metadata kept as sent.
type Backup struct {
	BackupID  string `json:"backup_id,omitempty"`
	ProjectID string `json:"project_id,omitempty"`
	UserID    string `json:"user_id,omitempty"`
	UserName  string `json:"user_name,omitempty"`
	// Metadata is the agent's report.
	Metadata BackupMetadata `json:"backup_metadata"`
	// Extra holds keys this type does not model (and nulls), raw.
	Extra map[string]json.RawMessage `json:"-"`

	present []string
}

func (b *Backup) fields() []field {
	return []field{{"project_id", &b.ProjectID}, {"backup_id", &b.BackupID}, {"user_id", &b.UserID},
		{"user_name", &b.UserName}, {"backup_metadata", &b.Metadata}}
}

func (b *Backup) fromValue(v any) (err error) {
	*b = Backup{}
	b.present, b.Extra, err = fill(v, b.fields())
	return err
}

// UnmarshalJSON decodes a backup document, keeping unknown keys and nulls.
func (b *Backup) UnmarshalJSON(data []byte) error { return unmarshal(data, b.fromValue) }

// MarshalJSON encodes the document as it came, with changed fields.
func (b Backup) MarshalJSON() ([]byte, error) { return encode(b.fields(), b.present, b.Extra) }

// BackupMetadata is an agent's report of one backup. The server requires
// container, hostname and backup_name and keeps every other key.
type BackupMetadata struct {
	Container  string `json:"container,omitempty"`
	Hostname   string `json:"hostname,omitempty"`
	BackupName string `json:"backup_name,omitempty"`
	JobID      string `json:"job_id,omitempty"`
	TimeStamp  int64  `json:"time_stamp,omitempty"`
	Level      int64  `json:"level,omitempty"`
	Mode       string `json:"mode,omitempty"`
	// Extra holds every other key (and nulls), raw.
	Extra map[string]json.RawMessage `json:"-"`

	present []string
}

func (m *BackupMetadata) fields() []field {
	return []field{{"container", &m.Container}, {"hostname", &m.Hostname}, {"backup_name", &m.BackupName},
		{"job_id", &m.JobID}, {"time_stamp", &m.TimeStamp}, {"level", &m.Level}, {"mode", &m.Mode}}
}

func (m *BackupMetadata) fromValue(v any) (err error) {
	*m = BackupMetadata{}
	m.present, m.Extra, err = fill(v, m.fields())
	return err
}

// UnmarshalJSON decodes the metadata, keeping unknown keys and nulls.
func (m *BackupMetadata) UnmarshalJSON(data []byte) error { return unmarshal(data, m.fromValue) }

// MarshalJSON encodes the metadata as it came, with changed fields.
func (m BackupMetadata) MarshalJSON() ([]byte, error) {
	return encode(m.fields(), m.present, m.Extra)
}

// ListBackups fetches one page of the caller's backups.
func (c *Client) ListBackups(ctx context.Context, opts *ListOptions) (*jobs.Page[*Backup], error) {
	col, err := c.resource(ctx, "backups")
	if err != nil {
		return nil, err
	}
	var out struct {
		Backups []*Backup `json:"backups"`
	}
	return listPage(ctx, c, col, opts, &out, func() []*Backup { return out.Backups })
}

// AllBackups yields every backup, page after page.
func (c *Client) AllBackups(ctx context.Context, opts *ListOptions) iter.Seq2[*Backup, error] {
	return all(ctx, opts, c.ListBackups)
}

// GetBackup fetches one backup with its metadata (jobs.ErrNotFound when
// unknown).
func (c *Client) GetBackup(ctx context.Context, id string) (*Backup, error) {
	p, err := c.itemPath(ctx, "backups", "backup_id", id)
	if err != nil {
		return nil, err
	}
	var b Backup
	if _, err := c.do(ctx, http.MethodGet, p, nil, nil, &b); err != nil {
		return nil, err
	}
	return &b, nil
}

// CreateBackup records a backup's metadata, as an agent does after a
// backup (201), and returns the new backup id.
func (c *Client) CreateBackup(ctx context.Context, m *BackupMetadata) (string, error) {
	if m == nil || m.Container == "" || m.Hostname == "" || m.BackupName == "" {
		return "", &ValidationError{Field: "backup_metadata", Reason: "container, hostname and backup_name are required"}
	}
	col, err := c.resource(ctx, "backups")
	if err != nil {
		return "", err
	}
	var out struct {
		BackupID string `json:"backup_id"`
	}
	if _, err := c.do(ctx, http.MethodPost, col, nil, m, &out); err != nil {
		return "", err
	}
	if out.BackupID == "" {
		return "", errors.New("freezer: create answered without a backup_id")
	}
	return out.BackupID, nil
}

// DeleteBackup removes a backup's record (v1: 404 when unknown; v2: 204
// always).
func (c *Client) DeleteBackup(ctx context.Context, id string) error {
	p, err := c.itemPath(ctx, "backups", "backup_id", id)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, http.MethodDelete, p, nil, nil, nil)
	return err
}
