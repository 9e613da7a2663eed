// Package freezertest holds longrun's Freezer scenario tests, written once
// and run against any Freezer API: the in-process fake and the real
// freezer-api server (the conformance test).
package freezertest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/longrun/longrun/freezer"
	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/rest"
)

// Target is a Freezer API to run the scenarios against.
type Target struct {
	// BaseURL is the API endpoint (the version path is added).
	BaseURL string
	// Token is sent as X-Auth-Token.
	Token string
	// Version and ProjectID select v1 or v2 paths.
	Version   freezer.APIVersion
	ProjectID string
	// Agent is true when a scheduler agent runs started jobs (the fake);
	// the wait scenarios run only then.
	Agent bool
	// Clock is what waits sleep on (the fake's clock), nil for wall time.
	Clock jobs.Clock
	// SetResult scripts a job's next result (fake only).
	SetResult func(id string, r string)
	// SkipEvents names why events cannot run here ("" runs them).
	SkipEvents string
}

func (tg Target) client(t *testing.T) *freezer.Client {
	t.Helper()
	opts := []freezer.Option{freezer.WithToken(tg.Token), freezer.WithAPIVersion(tg.Version)}
	if tg.Version == freezer.V2 {
		opts = append(opts, freezer.WithProjectID(tg.ProjectID))
	}
	c, err := freezer.New(tg.BaseURL, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (tg Target) collection() string {
	if tg.Version == freezer.V2 {
		return tg.BaseURL + "/v2/" + tg.ProjectID + "/jobs"
	}
	return tg.BaseURL + "/v1/jobs"
}

// raw sends a request without the SDK (to see what the server itself says).
func (tg Target) raw(t *testing.T, method, url, body string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", tg.Token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

func uniq() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// NewJob is the scenarios' backup job: one fs backup action with an
// option the SDK does not model, and a schedule.
func NewJob(clientID, interval string) *freezer.Job {
	j := &freezer.Job{
		ClientID:    clientID,
		Description: "nightly /etc backup",
		JobSchedule: freezer.JobSchedule{ScheduleInterval: interval},
		JobActions: []freezer.JobAction{{
			FreezerAction: freezer.FreezerAction{Action: "backup", Mode: "fs", PathToBackup: "/etc", BackupName: "etc", Container: "backups", Storage: "local"},
			MaxRetries:    3, MaxRetriesInterval: 10,
		}},
	}
	_ = j.JobActions[0].FreezerAction.Set("no_incremental", true)
	_ = j.JobActions[0].FreezerAction.Set("remove_older_than", 365)
	return j
}

// created creates NewJob(a fresh client id, interval) and deletes it when
// the test ends.
func created(t *testing.T, c *freezer.Client, interval string) string {
	t.Helper()
	id, err := c.Create(context.Background(), NewJob("lr-"+uniq(), interval))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Delete(context.Background(), id) })
	return id
}

func apiError(t *testing.T, err error, status int) *rest.APIError {
	t.Helper()
	var ae *rest.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T), want *rest.APIError %d", err, err, status)
	}
	if ae.StatusCode != status {
		t.Fatalf("status %d (%v), want %d", ae.StatusCode, err, status)
	}
	return ae
}

// Run runs every scenario against tg.
func Run(t *testing.T, tg Target) {
	t.Run("CRUD", func(t *testing.T) { CRUD(t, tg) })
	t.Run("ListSearchPaging", func(t *testing.T) { ListSearchPaging(t, tg) })
	t.Run("Events", func(t *testing.T) {
		if tg.SkipEvents != "" {
			t.Skip(tg.SkipEvents)
		}
		Events(t, tg)
	})
	t.Run("ServerErrors", func(t *testing.T) { ServerErrors(t, tg) })
	t.Run("Clients", func(t *testing.T) { Clients(t, tg) })
	t.Run("Actions", func(t *testing.T) { Actions(t, tg) })
	t.Run("Sessions", func(t *testing.T) { Sessions(t, tg) })
	t.Run("Backups", func(t *testing.T) { Backups(t, tg) })
	t.Run("ClientValidation", func(t *testing.T) { ClientValidation(t, tg) })
	t.Run("Wait", func(t *testing.T) {
		if !tg.Agent {
			t.Skip("no scheduler agent runs jobs on this server")
		}
		if tg.SkipEvents != "" {
			t.Skip(tg.SkipEvents)
		}
		Wait(t, tg)
	})
	t.Run("WaitOnAgentWrites", func(t *testing.T) {
		if tg.Agent {
			t.Skip("the server's own agent runs jobs here")
		}
		if tg.SkipEvents != "" {
			t.Skip(tg.SkipEvents)
		}
		WaitOnAgentWrites(t, tg)
	})
}

// stepClock is a jobs.Clock whose every pause runs the next scripted step
// at once: a wait that polls between steps, with no wall-time sleep.
type stepClock struct {
	steps []func()
}

// Now is the wall time.
func (c *stepClock) Now() time.Time { return time.Now() }

// After runs the next step and fires at once.

func (c *stepClock) After(time.Duration) <-chan time.Time {
	if len(c.steps) > 0 {
		step := c.steps[0]
		c.steps = c.steps[1:]
		step()
	}
	ch := make(chan time.Time, 1)
	ch <- time.Now()
	return ch
}

// WaitOnAgentWrites plays the freezer scheduler agent through the API, as
// freezer/scheduler/scheduler_job.py does with python-freezerclient (PATCH
// of the whole job for update_job, PATCH of {"job_schedule": {"status":
// ...}} for update_job_status), and waits on the job between its writes.
// On the real server this checks Wait against the documents the real
// server returns for each step of a run.
func WaitOnAgentWrites(t *testing.T, tg Target) {
	ctx := context.Background()
	c := tg.client(t)
	id := created(t, c, "")
	agentDoc := func(edit func(*freezer.JobSchedule)) {
		j, err := c.Get(ctx, id)
		if err != nil {
			t.Error(err)
			return
		}
		edit(&j.JobSchedule)
		if _, err := c.Update(ctx, id, j); err != nil {
			t.Errorf("agent update_job: %v", err)
		}
	}
	now := time.Now().Unix()
	clk := &stepClock{steps: []func(){
		// StopState.start, then schedule(): event "", status scheduled.
		func() { agentDoc(func(s *freezer.JobSchedule) { s.Event, s.Status = "", freezer.StatusScheduled }) },
		// execute(): update_job_status(running) sends only the status.
		func() {
			if _, err := c.Update(ctx, id, &freezer.Job{JobSchedule: freezer.JobSchedule{Status: freezer.StatusRunning}}); err != nil {
				t.Errorf("agent update_job_status: %v", err)
			}
		},
		// finish(): the agent writes back its whole copy of the job.
		func() {
			agentDoc(func(s *freezer.JobSchedule) {
				*s = freezer.JobSchedule{Status: freezer.StatusCompleted, Result: freezer.ResultSuccess,
					TimeCreated: now, TimeStarted: now, TimeEnded: now + 5}
			})
		},
	}}
	var seen []string
	final, err := c.Run(ctx, id, jobs.WithClock(clk), jobs.WithInterval(time.Millisecond, time.Millisecond),
		jobs.WithOnProgress(func(j *jobs.Job) { seen = append(seen, string(j.State)+":"+j.RawState) }))
	if err != nil {
		t.Fatalf("wait: %v (seen %v)", err, seen)
	}
	if got := strings.Join(seen, " "); got != "queued: queued:scheduled running:running succeeded:completed/success" {
		t.Errorf("progress %q", got)
	}
	if final.State != jobs.StateSucceeded || final.Updated.Unix() != now+5 {
		t.Errorf("final %+v", final)
	}
}

// CRUD creates, reads, patches, replaces and deletes a job.
func CRUD(t *testing.T, tg Target) {
	ctx := context.Background()
	c := tg.client(t)
	client := "lr-" + uniq()
	id, err := c.Create(ctx, NewJob(client, "10 minutes"))
	if err != nil {
		t.Fatal(err)
	}
	if len(id) != 32 {
		t.Errorf("job_id %q, want 32 hex digits", id)
	}
	j, err := c.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if j.JobID != id || j.ClientID != client || j.Description != "nightly /etc backup" || j.UserID == "" {
		t.Errorf("got %+v", j)
	}
	s := j.JobSchedule
	if s.ScheduleInterval != "10 minutes" || s.TimeStarted != -1 || s.TimeEnded != -1 || s.TimeCreated <= 0 {
		t.Errorf("schedule %+v", s)
	}
	if len(j.JobActions) != 1 {
		t.Fatalf("actions %+v", j.JobActions)
	}
	a := j.JobActions[0]
	if a.ActionID == "" || a.FreezerAction.Mode != "fs" || a.MaxRetries != 3 || string(a.FreezerAction.Extra["no_incremental"]) != "true" || string(a.FreezerAction.Extra["remove_older_than"]) != "365" {
		t.Errorf("action %+v", a)
	}
	if tg.Version == freezer.V2 && j.ProjectID != tg.ProjectID {
		t.Errorf("project_id %q, want %q", j.ProjectID, tg.ProjectID)
	}
	// Re-encoding the fetched job loses nothing.
	first, _ := json.Marshal(j)
	var again freezer.Job
	if err := json.Unmarshal(first, &again); err != nil {
		t.Fatal(err)
	}
	if second, _ := json.Marshal(&again); !bytes.Equal(first, second) {
		t.Errorf("re-encoding changed the job:\n%s\n%s", first, second)
	}

	// PATCH: the server stores job_schedule as sent ({} when absent), so
	// send it along.
	patch := &freezer.Job{Description: "patched", JobSchedule: j.JobSchedule}
	v, err := c.Update(ctx, id, patch)
	if err != nil {
		t.Fatal(err)
	}
	if v.JobID != id || string(v.Version) != "0" {
		t.Errorf("update answered %+v %s", v, v.Version)
	}
	j2, err := c.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if j2.Description != "patched" || j2.JobSchedule.ScheduleInterval != "10 minutes" || j2.ClientID != client {
		t.Errorf("after patch %+v", j2)
	}

	// A PATCH without job_schedule stores an empty one: freezer-api's Job()
	// adds {} before update_job writes the column.
	if _, err := c.Update(ctx, id, &freezer.Job{SessionTag: 4}); err != nil {
		t.Fatal(err)
	}
	if w, err := c.Get(ctx, id); err != nil || w.SessionTag != 4 || w.JobSchedule.ScheduleInterval != "" || w.JobSchedule.TimeCreated != 0 {
		t.Errorf("PATCH without job_schedule: %+v %v", w, err)
	}

	// Replace with a new document (the fetched actions keep their ids).
	j2.Description = "replaced"
	j2.JobSchedule = freezer.JobSchedule{ScheduleInterval: "2 hours"}
	rv, err := c.Replace(ctx, id, j2)
	if err != nil {
		t.Fatal(err)
	}
	if rv.JobID != id {
		t.Errorf("replace answered %+v", rv)
	}
	j3, err := c.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if j3.Description != "replaced" || j3.JobSchedule.ScheduleInterval != "2 hours" || len(j3.JobActions) != 1 {
		t.Errorf("after replace %+v", j3)
	}

	// Replace at a new id creates the job.
	newID := "lr" + uniq()
	if _, err := c.Replace(ctx, newID, NewJob(client, "")); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Get(ctx, newID); err != nil || got.JobID != newID {
		t.Fatalf("replace-created job: %v %v", got, err)
	}

	for _, del := range []string{id, newID} {
		if err := c.Delete(ctx, del); err != nil {
			t.Fatal(err)
		}
	}
	_, err = c.Get(ctx, id)
	apiError(t, err, 404)
	if !errors.Is(err, rest.ErrNotFound) {
		t.Errorf("%v does not match rest.ErrNotFound", err)
	}
	err = c.Delete(ctx, id)
	if tg.Version == freezer.V1 {
		ae := apiError(t, err, 404)
		if ae.Type != "Not Found" || ae.Message != "No Job found with ID:"+id {
			t.Errorf("v1 delete of a deleted job: %q %q", ae.Type, ae.Message)
		}
	} else if err != nil {
		t.Errorf("v2 delete of a deleted job: %v (the server answers 204)", err)
	}
}

// ListSearchPaging lists jobs page by page and searches them.
func ListSearchPaging(t *testing.T, tg Target) {
	ctx := context.Background()
	c := tg.client(t)
	client := "lr-" + uniq()
	other := "lr-" + uniq()
	var ids []string
	for i := range 3 {
		j := NewJob(client, "")
		if i == 2 {
			j.JobSchedule.Status = freezer.StatusStop
		}
		id, err := c.Create(ctx, j)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	otherID, err := c.Create(ctx, NewJob(other, ""))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, id := range append(ids, otherID) {
			_ = c.Delete(context.Background(), id)
		}
	})
	mine := &freezer.Search{Match: []map[string]any{{"client_id": client}}}
	var got []string
	for j, err := range c.All(ctx, &freezer.ListOptions{Limit: 2, Search: mine}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, j.JobID)
	}
	if strings.Join(got, ",") != strings.Join(ids, ",") {
		t.Errorf("paged search listed %v, want %v", got, ids)
	}
	page, err := Items(c.List(ctx, &freezer.ListOptions{Limit: 1, Offset: 1, Search: mine}))
	if err != nil || len(page) != 1 || page[0].JobID != ids[1] {
		t.Errorf("page 2 of 1: %v %v", page, err)
	}
	// match (at any depth: status is in job_schedule) and match_not.
	stopped, err := Items(c.List(ctx, &freezer.ListOptions{Search: &freezer.Search{
		Match: []map[string]any{{"client_id": client}, {"status": "stop"}}}}))
	if err != nil || len(stopped) != 1 || stopped[0].JobID != ids[2] {
		t.Errorf("match status=stop: %v %v", stopped, err)
	}
	notStopped, err := Items(c.List(ctx, &freezer.ListOptions{Search: &freezer.Search{
		Match: []map[string]any{{"client_id": client}}, MatchNot: []map[string]any{{"status": "stop"}}}}))
	if err != nil || len(notStopped) != 2 {
		t.Errorf("match_not status=stop: %v %v", notStopped, err)
	}
	// Without a search, the first page holds the server's default 10 at most.
	all, err := Items(c.List(ctx, nil))
	if err != nil || len(all) == 0 || len(all) > freezer.DefaultLimit {
		t.Errorf("default page: %d jobs, %v", len(all), err)
	}
}

// Events sends start, stop and abort.
func Events(t *testing.T, tg Target) {
	ctx := context.Background()
	c := tg.client(t)
	id := created(t, c, "")
	r, err := c.Start(ctx, id)
	if err != nil || !r.Accepted() {
		t.Fatalf("start: %+v %v", r, err)
	}
	if !tg.Agent {
		r, err = c.Start(ctx, id)
		if err != nil || r.Result != "start already requested" {
			t.Errorf("second start: %+v %v", r, err)
		}
		j, err := c.Get(ctx, id)
		if err != nil || j.JobSchedule.Event != freezer.EventStart || j.JobSchedule.Status != "" || j.JobSchedule.Result != "" {
			t.Errorf("after start: %+v %v", j.JobSchedule, err)
		}
		if n := j.ToJob(); n.State != jobs.StateQueued {
			t.Errorf("started job normalizes to %s", n.State)
		}
	}
	if r, err := c.Stop(ctx, id); err != nil || r.Result == "" {
		t.Errorf("stop: %+v %v", r, err)
	}
	if r, err := c.Abort(ctx, id); err != nil || r.Result == "" {
		t.Errorf("abort: %+v %v", r, err)
	}
	code, body := tg.raw(t, http.MethodPost, tg.collection()+"/"+id+"/event", `{"pause": null}`)
	if code != 400 || !strings.Contains(string(body), `"Bad Action Method"`) {
		t.Errorf("unknown event: %d %s", code, body)
	}
	code, body = tg.raw(t, http.MethodPost, tg.collection()+"/"+id+"/event", `{}`)
	if code != 400 || !strings.Contains(string(body), `"Bad event request format"`) {
		t.Errorf("empty event: %d %s", code, body)
	}
}

// ServerErrors checks the server's own refusals and their bodies.
func ServerErrors(t *testing.T, tg Target) {
	ctx := context.Background()
	c := tg.client(t)
	cases := []struct {
		method, path, body string
		code               int
		title, desc        string
	}{
		{"POST", "", `{"job_actions": [], "job_schedule": {}}`, 400, "Bad request format", "'client_id' is a required property"},
		{"POST", "", `{"job_actions": [], "job_schedule": {"bogus": 1}, "client_id": "n1"}`, 400, "Bad request format", "Additional properties are not allowed ('bogus' was unexpected)"},
		{"POST", "", `{"job_actions": [], "job_schedule": {"schedule_interval": "10 mins"}, "client_id": "n1"}`, 400, "Bad request format", `'10 mins' does not match '^(continuous|(\\d+ +(weeks|days|hours|minutes|seconds)))$'`},
		{"POST", "", `{"job_actions": [], "job_schedule": {"status": "weird"}, "client_id": "n1"}`, 400, "Bad request format", "'weird' is not one of ['', 'completed', 'stop', 'scheduled', 'running', 'aborting', 'removed']"},
		{"POST", "", `{"job_actions": [], "job_schedule": {"current_pid": "soon"}, "client_id": "n1"}`, 400, "Bad request format", "'soon' is not of type 'integer'"},
		{"POST", "", `{"job_actions": [], "job_schedule": {}, "client_id": "n1", "foo": 1}`, 400, "Bad request format", "Additional properties are not allowed ('foo' was unexpected)"},
		{"POST", "", `{"job_actions": [{"freezer_action": {"action": "backup", "mode": "f s"}}], "job_schedule": {}, "client_id": "n1"}`, 400, "Bad request format", `'f s' does not match '^[\\w-]+$'`},
		// The server stores each action before it validates the job; an
		// action without "action" breaks the actions table.
		{"POST", "", `{"job_actions": [{"freezer_action": {"mode": "fs"}}], "job_schedule": {}, "client_id": "n1"}`, 500, "Internal Storage Error", "Mysql operation failed (sqlite3.IntegrityError) NOT NULL constraint failed: actions.action"},
		{"POST", "", `{bad`, 753, "Malformed JSON", ""},
		{"PATCH", "/0123456789abcdef0123456789abcdef", `{"description": "x"}`, 404, "Not Found", "Tuple not registered with ID 0123456789abcdef0123456789abcdef in Table<class 'freezer_api.db.sqlalchemy.models.Job'> "},
	}
	for _, tc := range cases {
		code, body := tg.raw(t, tc.method, tg.collection()+tc.path, tc.body)
		if code != tc.code {
			t.Errorf("%s %s %s: %d %s, want %d", tc.method, tc.path, tc.body, code, body, tc.code)
			continue
		}
		var got freezer.ErrorBody
		if err := json.Unmarshal(body, &got); err != nil || got.Title != tc.title || (got.Description != tc.desc && (tc.code != 500 || !strings.HasPrefix(got.Description, tc.desc))) {
			t.Errorf("%s %s: body %s, want title %q description %q", tc.method, tc.body, body, tc.title, tc.desc)
		}
	}
	// An unknown job: an empty 404 on GET; the SDK's error says so.
	_, err := c.Get(ctx, "0123456789abcdef0123456789abcdef")
	ae := apiError(t, err, 404)
	if len(ae.Body) != 0 {
		t.Errorf("GET of an unknown job answered %q", ae.Body)
	}
	// Events on an unknown job: the server fails to store the event doc.
	_, err = c.Start(ctx, "0123456789abcdef0123456789abcdef")
	ae = apiError(t, err, 400)
	if ae.Message != "'job_actions' is a required property" {
		t.Errorf("start of an unknown job: %v", err)
	}
	// The SDK decodes falcon's error into Type and Message.
	_, err = c.Update(ctx, "0123456789abcdef0123456789abcdef", &freezer.Job{Description: "x"})
	ae = apiError(t, err, 404)
	if ae.Type != "Not Found" || !strings.HasPrefix(ae.Message, "Tuple not registered") {
		t.Errorf("patch of an unknown job: %q %q", ae.Type, ae.Message)
	}
	if d, ok := ae.Details.(*freezer.ErrorBody); !ok || d.Title != "Not Found" {
		t.Errorf("details %#v", ae.Details)
	}
	if tg.Agent && !strings.HasPrefix(ae.RequestID, "req-") {
		t.Errorf("request id %q (freezer-api's pipeline sets x-openstack-request-id)", ae.RequestID)
	}
}

// ClientValidation checks that the SDK refuses bad documents before any
// request: the server is never asked (its job list does not change).
func ClientValidation(t *testing.T, tg Target) {
	ctx := context.Background()
	c := tg.client(t)
	client := "lr-" + uniq()
	bad := []struct {
		field string
		edit  func(*freezer.Job)
	}{
		{"description", func(j *freezer.Job) { j.Description = strings.Repeat("x", 65) }},
		{"job_schedule.schedule_interval", func(j *freezer.Job) { j.JobSchedule.ScheduleInterval = "10 mins" }},
		{"job_schedule.schedule_date", func(j *freezer.Job) { j.JobSchedule.ScheduleDate = "2026-01-02" }},
		{"job_schedule.schedule_start_date", func(j *freezer.Job) { j.JobSchedule.ScheduleStartDate = "tomorrow" }},
		{"job_schedule.status", func(j *freezer.Job) { j.JobSchedule.Status = "weird" }},
		{"job_schedule.event", func(j *freezer.Job) { j.JobSchedule.Event = "pause" }},
		{"job_schedule.result", func(j *freezer.Job) { j.JobSchedule.Result = "ok" }},
		{"job_schedule.bogus", func(j *freezer.Job) { j.JobSchedule.Extra = map[string]json.RawMessage{"bogus": json.RawMessage("1")} }},
		{"job_actions[0].freezer_action.mode", func(j *freezer.Job) { j.JobActions[0].FreezerAction.Mode = "f s" }},
		{"job_actions[0].freezer_action.action", func(j *freezer.Job) { j.JobActions[0].FreezerAction.Action = "" }},
		{"client_id", func(j *freezer.Job) { j.ClientID = "" }},
		{"job_actions", func(j *freezer.Job) { j.JobActions = nil }},
		{"client_id", func(j *freezer.Job) { j.ClientID = "bad host!" }},
	}
	for _, b := range bad {
		j := NewJob(client, "")
		b.edit(j)
		_, err := c.Create(ctx, j)
		var ve *freezer.ValidationError
		if !errors.As(err, &ve) || ve.Field != b.field || !errors.Is(err, freezer.ErrInvalid) {
			t.Errorf("%s: %v, want a *ValidationError for it", b.field, err)
		}
	}
	left, err := Items(c.List(ctx, &freezer.ListOptions{Search: &freezer.Search{Match: []map[string]any{{"client_id": client}}}}))
	if err != nil || len(left) != 0 {
		t.Errorf("refused jobs reached the server: %v %v", left, err)
	}
}

// Wait runs jobs through the agent and waits for their results.
func Wait(t *testing.T, tg Target) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := tg.client(t)
	clock := tg.Clock
	if clock == nil {
		clock = jobs.WallClock // a real agent on a real server
	}
	opts := []jobs.Option{jobs.WithInterval(time.Second, 5*time.Second), jobs.WithClock(clock)}
	// One-off job: success, then status completed.
	id := created(t, c, "")
	var seen []string
	final, err := c.Run(ctx, id, append(opts, jobs.WithOnProgress(func(j *jobs.Job) { seen = append(seen, string(j.State)) }))...)
	if err != nil {
		t.Fatalf("run: %v (seen %v)", err, seen)
	}
	if final.State != jobs.StateSucceeded || final.RawState != "completed/success" || final.Operation != "backup" {
		t.Errorf("final %+v", final)
	}
	if !strings.Contains(strings.Join(seen, ","), "running") {
		t.Errorf("progress never showed running: %v", seen)
	}
	j, err := c.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if s := j.JobSchedule; s.TimeStarted <= 0 || s.TimeEnded < s.TimeStarted || s.Event != "" {
		t.Errorf("schedule after the run %+v", s)
	}

	// A failing run.
	if tg.SetResult != nil {
		id2 := created(t, c, "")
		tg.SetResult(id2, string(freezer.ResultFail))
		last, err := c.Run(ctx, id2, opts...)
		var fe *jobs.FailedError
		if !errors.As(err, &fe) || !errors.Is(err, jobs.ErrJobFailed) || errors.Is(err, jobs.ErrJobAborted) || last.RawState != "completed/fail" {
			t.Errorf("failing run: %v %+v", err, last)
		}
	}

	// A recurring job: the run ends with status scheduled for the next;
	// stop then takes it off the schedule.
	id3 := created(t, c, "1 minutes")
	final, err = c.Run(ctx, id3, opts...)
	if err != nil || final.RawState != "scheduled/success" {
		t.Fatalf("recurring run: %v %+v", err, final)
	}
	if _, err := c.Stop(ctx, id3); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		j, err = c.Get(ctx, id3)
		if err != nil || j.JobSchedule.Status == freezer.StatusStop {
			break
		}
		<-clock.After(time.Second)
	}
	if j == nil || j.JobSchedule.Status != freezer.StatusStop {
		t.Errorf("recurring job after stop: %+v", j)
	}

	// Abort while running.
	id4 := created(t, c, "")
	if _, err := c.Start(ctx, id4); err != nil {
		t.Fatal(err)
	}
	for n, err := range jobs.Poll(ctx, c, id4, opts...) {
		if err != nil {
			t.Fatal(err)
		}
		if n.State == jobs.StateRunning {
			break
		}
	}
	if _, err := c.Abort(ctx, id4); err != nil {
		t.Fatal(err)
	}
	last, err := c.Wait(ctx, id4, opts...)
	if !errors.Is(err, jobs.ErrJobAborted) || last.RawState != "completed/aborted" {
		t.Errorf("aborted run: %v %+v", err, last)
	}
}

// Items is a page's jobs (List's page, for the checks that want a slice).
func Items[T any](p *jobs.Page[T], err error) ([]T, error) {
	if err != nil {
		return nil, err
	}
	return p.Items, nil
}
