package freezer_test

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/fake/freezer"
	"github.com/longrun/longrun/fake/sim"
)

type client struct {
	t     *testing.T
	base  string
	token string
}

func newClient(t *testing.T) (*fake.Server, *client, *client) {
	srv := fake.NewServer(t, fake.Options{})
	admin, _ := srv.Freezer().IssueToken("admin")
	guest, _ := srv.Freezer().IssueToken("guest")
	return srv, &client{t, srv.URL(), admin}, &client{t, srv.URL(), guest}
}

func (c *client) do(method, path, body string) (int, http.Header, string) {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if c.token != "" {
		req.Header.Set("X-Auth-Token", c.token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(data)
}

func (c *client) create(path, body string) string {
	c.t.Helper()
	code, _, out := c.do("POST", path, body)
	if code != 201 {
		c.t.Fatalf("create: %d %s", code, out)
	}
	var r struct {
		JobID string `json:"job_id"`
	}
	_ = json.Unmarshal([]byte(out), &r)
	return r.JobID
}

func (c *client) schedule(path string) map[string]any {
	c.t.Helper()
	code, _, out := c.do("GET", path, "")
	if code != 200 {
		c.t.Fatalf("get %s: %d %s", path, code, out)
	}
	var j struct {
		JobSchedule map[string]any `json:"job_schedule"`
	}
	_ = json.Unmarshal([]byte(out), &j)
	return j.JobSchedule
}

const job = `{"client_id": "n1", "job_actions": [{"freezer_action": {"action": "backup"}}]`

func TestHTTPRefusals(t *testing.T) {
	_, admin, _ := newClient(t)
	anon := &client{t, admin.base, ""}
	code, h, body := anon.do("GET", "/v1/jobs", "")
	if code != 401 || !strings.Contains(h.Get("WWW-Authenticate"), "Keystone uri=") || !strings.Contains(body, `"The request you have made requires authentication."`) {
		t.Errorf("no token: %d %v %s", code, h, body)
	}
	cases := []struct {
		method, path, body string
		code               int
		want, allow        string
	}{
		{"PUT", "/v1/jobs", "", 405, `{"title": "405 Method Not Allowed"}`, "GET, POST, OPTIONS"},
		{"PUT", "/v1/jobs/x", "", 405, `{"title": "405 Method Not Allowed"}`, "DELETE, GET, PATCH, POST, OPTIONS"},
		{"GET", "/v2/p/jobs/x/event", "", 405, `{"title": "405 Method Not Allowed"}`, "POST, OPTIONS"},
		{"GET", "/v1/nothing", "", 404, `{"title": "404 Not Found"}`, ""},
		{"GET", "/v1/jobs?limit=abc", "", 400, `{"title": "Invalid parameter", "description": "The \"limit\" parameter is invalid. The value must be an integer."}`, ""},
		{"GET", "/v1/jobs", `[1]`, 500, `{"title": "500 Internal Server Error"}`, ""},
		{"GET", "/v1/jobs", `{"match": "x"}`, 500, `{"title": "500 Internal Server Error"}`, ""},
		{"POST", "/v1/jobs", `[1]`, 500, `{"title": "500 Internal Server Error"}`, ""},
		{"POST", "/v1/jobs", `{"job_actions": {"a": 1}, "client_id": "n"}`, 500, `{"title": "500 Internal Server Error"}`, ""},
		{"POST", "/v1/jobs", `{"a": 1} {"b": 2}`, 753, `{"title": "Malformed JSON"}`, ""},
		{"POST", "/v1/jobs", job + `, "action_defaults": 5}`, 400, `{"title": "Bad request format", "description": "action_defaults shouldbe a dictionary"}`, ""},
		{"POST", "/v1/jobs", `{"client_id": "n1", "job_actions": [{"max_retries": 1}]}`, 400, `{"title": "Bad request format", "description": "'freezer_action' is a required property"}`, ""},
		{"PATCH", "/v1/jobs/x", `{"session_name": "s"}`, 500, `{"title": "Internal Storage Error", "description": "sql operation failed Invalid expression type: 'session_name'"}`, ""},
		{"POST", "/v1/jobs/x/event", `{"start": null, "pause": null}`, 400, `{"title": "Bad request format", "description": "'job_actions' is a required property"}`, ""},
		{"POST", "/v1/jobs/x/event", `{"pause": null, "start": null}`, 400, `{"title": "Bad request format", "description": "Bad Action Method"}`, ""},
		{"POST", "/v1/jobs/x/event", `[1]`, 400, `{"title": "Bad request format", "description": "Bad event request format"}`, ""},
		{"POST", "/v1/jobs", `{"client_id": "n1", "job_actions": [], "job_schedule": {"event": 5}}`, 400, `{"title": "Bad request format", "description": "5 is not of type 'string'"}`, ""},
		{"POST", "/v1/jobs", `{"client_id": "n1", "job_actions": [], "job_schedule": {"b": 1, "a": 2}}`, 400, `{"title": "Bad request format", "description": "Additional properties are not allowed ('a', 'b' were unexpected)"}`, ""},
		{"POST", "/v1/jobs", `{"client_id": "it's bad", "job_actions": [], "job_schedule": {}}`, 400, "", ""},
		{"POST", "/v1/jobs", `{"client_id": "n1", "job_actions": [], "session_tag": 1.5}`, 400, `{"title": "Bad request format", "description": "1.5 is not of type 'integer'"}`, ""},
		{"POST", "/v1/jobs", `{"client_id": "n1", "job_actions": [{"freezer_action": {"action": "b"}, "mandatory": "yes"}]}`, 400, `{"title": "Bad request format", "description": "'yes' is not of type 'boolean'"}`, ""},
	}
	for _, c := range cases {
		code, h, body := admin.do(c.method, c.path, c.body)
		if code != c.code || (c.want != "" && body != c.want) || h.Get("Allow") != c.allow {
			t.Errorf("%s %s %s: %d %q Allow %q, want %d %q %q", c.method, c.path, c.body, code, body, h.Get("Allow"), c.code, c.want, c.allow)
		}
	}
	code, _, body = admin.do("POST", "/v1/jobs", `{"client_id": "it's bad", "job_actions": [], "job_schedule": {}}`)
	if code != 400 || !strings.Contains(body, `"\"it's bad\" does not match '^(?:([\\\\w\\\\-]+)\\\\_)?`) {
		t.Errorf("python repr of a quoted value: %s", body)
	}
	if code, h, _ := admin.do("OPTIONS", "/v1/jobs", ""); code != 200 || h.Get("Allow") == "" {
		t.Errorf("OPTIONS: %d", code)
	}
}

func TestKeystoneVersionDocument(t *testing.T) {
	_, admin, _ := newClient(t)
	for _, p := range []string{"/v3", "/v3/"} {
		code, _, body := admin.do("GET", p, "")
		if code != 200 || !strings.Contains(body, `"id":"v3.14"`) || !strings.Contains(body, admin.base+"/v3/") {
			t.Errorf("GET %s: %d %s", p, code, body)
		}
	}
	code, _, body := admin.do("POST", "/v3/auth/tokens", `{"auth": {"identity": {"methods": ["token"], "token": {"id": "`+admin.token+`"}}}}`)
	if code != 201 || !strings.Contains(body, `"methods":["token"]`) {
		t.Errorf("token method: %d %s", code, body)
	}
	code, _, _ = admin.do("POST", "/v3/auth/tokens", `{"auth": {}}`)
	if code != 400 {
		t.Errorf("no identity: %d", code)
	}
	code, _, _ = admin.do("POST", "/v3/auth/tokens", `{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "admin", "password": "secret", "domain": {"name": "Other"}}}}}}`)
	if code != 401 {
		t.Errorf("wrong domain: %d", code)
	}
}

func TestScopingAndDocuments(t *testing.T) {
	_, admin, guest := newClient(t)
	p := sim.DefaultUsers()[0].Project
	v1 := admin.create("/v1/jobs", job+`, "action_defaults": {"mode": "fs", "action": "restore"}}`)
	v2 := admin.create("/v2/"+p+"/jobs", job+`}`)
	// Guests see neither; v2 sees only its project's jobs; v1 sees both.
	for _, path := range []string{"/v1/jobs/" + v1, "/v2/" + p + "/jobs/" + v2} {
		if code, _, body := guest.do("GET", path, ""); code != 404 || body != "" {
			t.Errorf("guest GET %s: %d %q", path, code, body)
		}
	}
	if code, _, body := admin.do("GET", "/v2/"+p+"/jobs/"+v1, ""); code != 404 {
		t.Errorf("a v1 job through v2: %d %s", code, body)
	}
	_, _, body := admin.do("GET", "/v1/jobs", "")
	if !strings.Contains(body, v1) || !strings.Contains(body, v2) {
		t.Errorf("v1 list: %s", body)
	}
	_, _, body = admin.do("GET", "/v2/other/jobs", "")
	if body != `{"jobs": []}` {
		t.Errorf("other project: %s", body)
	}
	_, _, body = admin.do("GET", "/v1/jobs/"+v1, "")
	var d map[string]any
	_ = json.Unmarshal([]byte(body), &d)
	act := d["job_actions"].([]any)[0].(map[string]any)
	fa := act["freezer_action"].(map[string]any)
	if d["project_id"] != nil || fa["mode"] != "fs" || fa["action"] != "backup" || act["user_id"] != sim.DefaultUsers()[0].ID || act["project_id"] != nil {
		t.Errorf("v1 document: %s", body)
	}
	_, _, body = admin.do("GET", "/v2/"+p+"/jobs/"+v2, "")
	if !strings.Contains(body, `"project_id": "`+p+`"`) {
		t.Errorf("v2 document: %s", body)
	}
	// Replace with the stored action: kept; with a changed action under
	// the same action_id: the server's own 400.
	_ = json.Unmarshal([]byte(body), &d)
	delete(d, "project_id")
	same, _ := json.Marshal(d)
	if code, _, out := admin.do("POST", "/v2/"+p+"/jobs/"+v2, string(same)); code != 201 || out != `{"job_id": "`+v2+`", "version": "`+v2+`"}` {
		t.Errorf("replace: %d %s", code, out)
	}
	d["job_actions"].([]any)[0].(map[string]any)["freezer_action"].(map[string]any)["mode"] = "mysql"
	changed, _ := json.Marshal(d)
	if code, _, out := admin.do("POST", "/v2/"+p+"/jobs/"+v2, string(changed)); code != 400 || !strings.Contains(out, `does not match '^[\\\\w-]+$'`) {
		t.Errorf("replace with a changed action: %d %s", code, out)
	}
	// A guest cannot take over the id.
	if code, _, out := guest.do("POST", "/v1/jobs/"+v1, job+`}`); code != 500 || !strings.Contains(out, "Internal Storage Error") {
		t.Errorf("guest replace: %d %s", code, out)
	}
}

func TestSearchSemantics(t *testing.T) {
	_, admin, _ := newClient(t)
	a := admin.create("/v1/jobs", `{"client_id": "a", "job_actions": [{"freezer_action": {"action": "backup", "max_level": 3}}], "job_schedule": {"status": "stop"}}`)
	b := admin.create("/v1/jobs", `{"client_id": "b", "job_actions": [{"freezer_action": {"action": "restore", "max_level": 3.0}}], "job_schedule": {}}`)
	cases := map[string][]string{
		`{"match": [{"action": "backup"}]}`:                                     {a},
		`{"match": [{"max_level": 3}]}`:                                         {a, b},
		`{"match_not": [{"status": "stop"}]}`:                                   {b},
		`{"match": [{"client_id": "b"}, {"action": "restore"}]}`:                {b},
		`{"match": [{"client_id": "b"}], "match_not": [{"action": "restore"}]}`: {},
		`{"match": []}`: {a, b},
		`{}`:            {a, b},
	}
	for search, want := range cases {
		code, _, body := admin.do("GET", "/v1/jobs", search)
		var r struct {
			Jobs []struct {
				JobID string `json:"job_id"`
			} `json:"jobs"`
		}
		_ = json.Unmarshal([]byte(body), &r)
		var got []string
		for _, j := range r.Jobs {
			got = append(got, j.JobID)
		}
		if code != 200 || strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s: %d %v, want %v", search, code, got, want)
		}
	}
	if _, _, body := admin.do("GET", "/v1/jobs?limit=1&offset=1", `{"match": [{"max_level": 3}]}`); !strings.Contains(body, b) || strings.Contains(body, a) {
		t.Errorf("search page 2: %s", body)
	}
	if _, _, body := admin.do("GET", "/v1/jobs?limit=-1&offset=-3", ""); !strings.Contains(body, a) || !strings.Contains(body, b) {
		t.Errorf("negative limit and offset: %s", body)
	}
}

func TestAgentSchedules(t *testing.T) {
	srv, admin, _ := newClient(t)
	clk := srv.Clock()
	clk.SetAuto(false)
	start := func(id string) {
		if code, _, body := admin.do("POST", "/v2/f1e2d3c4b5a6978812345678abcdef01/jobs/"+id+"/event", `{"start": null}`); code != 202 || body != `{"result": "success"}` {
			t.Fatalf("start: %d %s", code, body)
		}
	}
	future := clk.Now().Add(time.Hour).UTC().Format("2006-01-02T15:04:05Z")
	past := clk.Now().Add(-time.Hour).UTC().Format("2006-01-02T15:04:05")
	dated := admin.create("/v2/f1e2d3c4b5a6978812345678abcdef01/jobs", job+`, "job_schedule": {"schedule_date": "`+future+`"}}`)
	late := admin.create("/v2/f1e2d3c4b5a6978812345678abcdef01/jobs", job+`, "job_schedule": {"schedule_date": "`+past+`"}}`)
	cron := admin.create("/v2/f1e2d3c4b5a6978812345678abcdef01/jobs", job+`, "job_schedule": {"schedule_hour": "3"}}`)
	every := admin.create("/v2/f1e2d3c4b5a6978812345678abcdef01/jobs", job+`, "job_schedule": {"schedule_interval": "10 minutes"}}`)
	for _, id := range []string{dated, late, cron, every} {
		start(id)
	}
	clk.Advance(time.Second)
	want := map[string]string{dated: "scheduled", late: "completed", cron: "completed", every: "scheduled"}
	for id, st := range want {
		if s := admin.schedule("/v2/f1e2d3c4b5a6978812345678abcdef01/jobs/" + id); s["status"] != st || s["event"] != "" {
			t.Errorf("%s after pickup: %v, want %s", id, s, st)
		}
	}
	clk.Advance(2 * time.Second) // the interval job starts
	if s := admin.schedule("/v2/f1e2d3c4b5a6978812345678abcdef01/jobs/" + every); s["status"] != "running" || s["time_started"] == -1.0 {
		t.Errorf("interval job: %v", s)
	}
	clk.Advance(5 * time.Second)
	if s := admin.schedule("/v2/f1e2d3c4b5a6978812345678abcdef01/jobs/" + every); s["status"] != "scheduled" || s["result"] != "success" {
		t.Errorf("interval job after its run: %v", s)
	}
	// Stop while scheduled: status stop, no more runs.
	admin.do("POST", "/v2/f1e2d3c4b5a6978812345678abcdef01/jobs/"+every+"/event", `{"stop": null}`)
	clk.Advance(time.Second)
	if s := admin.schedule("/v2/f1e2d3c4b5a6978812345678abcdef01/jobs/" + every); s["status"] != "stop" || s["event"] != "" {
		t.Errorf("after stop: %v", s)
	}
	clk.Advance(time.Hour)
	admin.token, _ = srv.Freezer().IssueToken("admin") // the old one expired
	if s := admin.schedule("/v2/f1e2d3c4b5a6978812345678abcdef01/jobs/" + every); s["status"] != "stop" {
		t.Errorf("a stopped job ran: %v", s)
	}
	if s := admin.schedule("/v2/f1e2d3c4b5a6978812345678abcdef01/jobs/" + dated); s["status"] != "completed" || s["result"] != "success" {
		t.Errorf("dated job an hour later: %v", s)
	}
	// A deleted job's timers do nothing.
	admin.do("POST", "/v2/f1e2d3c4b5a6978812345678abcdef01/jobs/"+every+"/event", `{"start": null}`)
	admin.do("DELETE", "/v2/f1e2d3c4b5a6978812345678abcdef01/jobs/"+every, "")
	clk.Advance(time.Hour)
	if _, ok := srv.Freezer().Job(every); ok {
		t.Error("deleted job came back")
	}
}

func TestAgentAutostart(t *testing.T) {
	srv, admin, _ := newClient(t)
	clk := srv.Clock()
	clk.SetAuto(false)
	srv.Freezer().SetAutostart(true)
	id := admin.create("/v2/f1e2d3c4b5a6978812345678abcdef01/jobs", job+`}`)
	stopped := admin.create("/v2/f1e2d3c4b5a6978812345678abcdef01/jobs", job+`, "job_schedule": {"status": "stop"}}`)
	clk.Advance(time.Second + 2*time.Second + 5*time.Second)
	if s := admin.schedule("/v2/f1e2d3c4b5a6978812345678abcdef01/jobs/" + id); s["status"] != "completed" || s["result"] != "success" {
		t.Errorf("autostarted job: %v", s)
	}
	if s := admin.schedule("/v2/f1e2d3c4b5a6978812345678abcdef01/jobs/" + stopped); s["status"] != "stop" || s["result"] != nil {
		t.Errorf("stopped job ran: %v", s)
	}
}

// TestAgentRunDocument: each run of a recurring job clears the last result
// and time_ended when it starts, as the agent's Job.execute does, and the
// last run's current_pid stays after it ends.
func TestAgentRunDocument(t *testing.T) {
	srv, admin, _ := newClient(t)
	clk := srv.Clock()
	clk.SetAuto(false)
	id := admin.create("/v2/f1e2d3c4b5a6978812345678abcdef01/jobs", job+`, "job_schedule": {"schedule_interval": "1 minutes"}}`)
	admin.do("POST", "/v2/f1e2d3c4b5a6978812345678abcdef01/jobs/"+id+"/event", `{"start": null}`)
	clk.Advance(freezer.PickupDelay + freezer.StartDelay + freezer.DefaultActionDuration)
	s := admin.schedule("/v2/f1e2d3c4b5a6978812345678abcdef01/jobs/" + id)
	if s["status"] != "scheduled" || s["result"] != "success" || s["current_pid"] == nil || s["time_ended"] == -1.0 {
		t.Fatalf("after the first run: %v", s)
	}
	pid := s["current_pid"]
	clk.Advance(time.Minute)
	s = admin.schedule("/v2/f1e2d3c4b5a6978812345678abcdef01/jobs/" + id)
	if s["status"] != "running" || s["result"] != "" || s["time_ended"] != -1.0 || s["current_pid"] == pid {
		t.Errorf("second run under way: %v", s)
	}
}

// TestServerAnswers checks the answers freezer-api 13 gives outside the
// job documents, as the real server gave them (probed through
// testdata/realserver.py): json-home at /v1 and /v2, 406 for XML,
// OPTIONS with Allow and no body, v1 events refused by the SQL backend,
// job_actions {} accepted, and the command line's _all search.
func TestServerAnswers(t *testing.T) {
	_, admin, _ := newClient(t)
	p := sim.DefaultUsers()[0].Project
	code, h, body := admin.do("GET", "/v1", "")
	if code != 200 || h.Get("Content-Type") != "application/json-home" || !strings.Contains(body, `"href-template": "/v1/backups/{backup_id}"`) {
		t.Errorf("GET /v1: %d %q %s", code, h.Get("Content-Type"), body)
	}
	if code, _, body := admin.do("GET", "/v2/", ""); code != 200 || !strings.Contains(body, `"project_id": "param/project_id"`) {
		t.Errorf("GET /v2/: %d %s", code, body)
	}
	if code, _, body := admin.do("GET", "/v2/"+p, ""); code != 404 || body != `{"title": "404 Not Found"}` {
		t.Errorf("GET /v2/{project}: %d %s", code, body)
	}
	req, _ := http.NewRequest("GET", admin.base+"/v1/jobs", nil)
	req.Header.Set("X-Auth-Token", admin.token)
	req.Header.Set("Accept", "application/xml")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 406 || resp.Header.Get("Content-Type") != "application/xml" {
		t.Errorf("Accept: application/xml: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for path, allow := range map[string]string{
		"/v1/jobs": "GET, POST", "/v2/" + p + "/jobs/x": "DELETE, GET, PATCH, POST", "/v1/clients/x": "DELETE, GET",
		"/v2/" + p + "/sessions/x/action": "POST", "/v1/sessions/s/jobs/j": "DELETE, PUT", "/v1/backups": "GET, POST",
	} {
		code, h, body := admin.do("OPTIONS", path, "")
		if code != 200 || h.Get("Allow") != allow || body != "" || h.Get("Content-Type") != "application/json" {
			t.Errorf("OPTIONS %s: %d Allow %q %q %q", path, code, h.Get("Allow"), h.Get("Content-Type"), body)
		}
	}
	v1 := admin.create("/v1/jobs", job+`}`)
	if code, _, body := admin.do("POST", "/v1/jobs/"+v1+"/event", `{"start": null}`); code != 400 || body != `{"title": "Bad request format", "description": "None is not of type 'string'"}` {
		t.Errorf("v1 event: %d %s", code, body)
	}
	empty := admin.create("/v2/"+p+"/jobs", `{"job_actions": {}, "client_id": "n1", "description": "empty"}`)
	_, _, body = admin.do("GET", "/v2/"+p+"/jobs/"+empty, "")
	if !strings.HasPrefix(body, `{"job_id": "`+empty+`", "project_id": "`+p+`", "user_id": "`) || !strings.HasSuffix(body, `"description": "empty", "job_actions": {}}`) {
		t.Errorf("job_actions {}: %s", body)
	}
	_, _, body = admin.do("GET", "/v2/"+p+"/jobs", `{"match": [{"_all": "[{\"description\": \"empty\"}]"}]}`)
	if strings.Count(body, `"job_id"`) != 1 || !strings.Contains(body, empty) {
		t.Errorf("_all search: %s", body)
	}
	_, _, body = admin.do("GET", "/v2/"+p+"/jobs", `{"match": [{"_all": "not json"}]}`)
	if !strings.Contains(body, empty) {
		t.Errorf("_all search that is not a JSON list lists everything: %s", body)
	}
}

// TestSessionRound runs a session as a scheduler would: two jobs added,
// both started in round 1 (the second with the old tag, inside the
// hold-off), the agent runs them, and the session completes; the key
// order of the documents is the SQL backend's.
func TestSessionRound(t *testing.T) {
	srv, admin, guest := newClient(t)
	p := "/v2/" + sim.DefaultUsers()[0].Project
	code, _, body := admin.do("POST", p+"/sessions", `{"description": "s", "schedule": {}}`)
	var s struct {
		SessionID string `json:"session_id"`
	}
	_ = json.Unmarshal([]byte(body), &s)
	if code != 201 || s.SessionID == "" {
		t.Fatalf("create: %d %s", code, body)
	}
	const bk = `{"client_id": "n1", "job_actions": [{"freezer_action": {"action": "backup", "container": "c", "backup_name": "b"}}]}`
	j1 := admin.create(p+"/jobs", bk)
	j2 := admin.create(p+"/jobs", bk)
	for _, j := range []string{j1, j2} {
		if code, _, body := admin.do("PUT", p+"/sessions/"+s.SessionID+"/jobs/"+j, ""); code != 204 {
			t.Fatalf("add: %d %s", code, body)
		}
	}
	for _, j := range []string{j1, j2} {
		code, _, body := admin.do("POST", p+"/sessions/"+s.SessionID+"/action", `{"start": {"job_id": "`+j+`", "current_tag": 0}}`)
		if code != 202 || body != `{"result": "success", "session_tag": 1}` {
			t.Fatalf("start %s: %d %s", j, code, body)
		}
	}
	if code, _, _ := guest.do("GET", "/v2/"+sim.DefaultUsers()[1].Project+"/sessions/"+s.SessionID, ""); code != 404 {
		t.Errorf("another user's session: %d", code)
	}
	srv.Clock().RunUntilIdle(time.Hour)
	_, _, body = admin.do("GET", p+"/sessions/"+s.SessionID, "")
	if !strings.HasPrefix(body, `{"project_id": "`) || !strings.Contains(body, `"session_tag": 1, "result": "success", "hold_off": 30, "status": "completed"`) {
		t.Errorf("after the round: %s", body)
	}
	_, _, body = admin.do("GET", p+"/backups", "")
	if strings.Count(body, `"backup_id"`) != 2 {
		t.Errorf("backups the runs recorded: %s", body)
	}
}

// TestEventKeyOrder: freezer-api 13's Job.start/stop/abort assign into the
// stored job_schedule dict, so a key it lacked goes last: event, then
// status and result for a start (the bodies are what the real server
// answered, times masked).
func TestEventKeyOrder(t *testing.T) {
	srv, admin, _ := newClient(t)
	srv.Clock().SetAuto(false)
	const v2 = "/v2/f1e2d3c4b5a6978812345678abcdef01/jobs/"
	masked := func(id string) string {
		_, _, body := admin.do("GET", v2+id, "")
		return regexp.MustCompile(`"time_created": [0-9]+`).ReplaceAllString(body, `"time_created": T`)
	}
	event := func(id, ev string) {
		if code, _, body := admin.do("POST", v2+id+"/event", `{"`+ev+`": null}`); code != 202 {
			t.Fatalf("%s: %d %s", ev, code, body)
		}
	}
	e := admin.create(v2, `{"client_id": "n", "job_actions": [], "job_schedule": {}}`)
	event(e, "start")
	want := `"job_schedule": {"time_created": T, "time_started": -1, "time_ended": -1, "event": "start", "status": "", "result": ""}`
	if got := masked(e); !strings.Contains(got, want) {
		t.Errorf("after start:\n%s\nwant %s", got, want)
	}
	r := admin.create(v2, `{"client_id": "n", "job_actions": [], "job_schedule": {"result": "fail", "schedule_interval": "1 days"}}`)
	event(r, "stop")
	event(r, "start")
	want = `"job_schedule": {"result": "", "schedule_interval": "1 days", "time_created": T, "time_started": -1, "time_ended": -1, "event": "start", "status": ""}`
	if got := masked(r); !strings.Contains(got, want) {
		t.Errorf("after stop and start:\n%s\nwant %s", got, want)
	}
}

// TestBodiesAsJSONBody: freezer-api's json_body reads no body when the
// request has no Content-Length (a chunked body), and decodes the bytes as
// strict UTF-8 before parsing (answers checked against freezer-api 13 by
// the wire probe bodies.py).
func TestBodiesAsJSONBody(t *testing.T) {
	srv, admin, _ := newClient(t)
	const v2 = "/v2/f1e2d3c4b5a6978812345678abcdef01"
	chunked := func(path, body string) (int, string) {
		req, _ := http.NewRequest("POST", srv.URL()+v2+path, io.MultiReader(strings.NewReader(body)))
		req.ContentLength = -1 // sent chunked
		req.Header.Set("X-Auth-Token", admin.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(data)
	}
	for _, c := range []struct{ path, body, want string }{
		{"/clients", `{"client_id": "chunked", "hostname": "h"}`, `{"title": "Bad request format", "description": "Missing request body"}`},
		{"/jobs", `{"client_id": "n", "job_actions": []}`, `{"title": "Bad request format", "description": "'job_actions' is a required property"}`},
		{"/jobs/x/event", `{"start": null}`, `{"title": "Bad request format", "description": "Bad event request format"}`},
	} {
		if code, body := chunked(c.path, c.body); code != 400 || body != c.want {
			t.Errorf("chunked POST %s: %d %s, want 400 %s", c.path, code, body, c.want)
		}
	}
	for _, body := range []string{"{\"client_id\": \"lat\xe9\", \"hostname\": \"h\"}", "{\"client_id\": \"s\", \"hostname\": \"\xed\xa0\x80\"}"} {
		if code, _, out := admin.do("POST", v2+"/clients", body); code != 753 || out != `{"title": "Malformed JSON"}` {
			t.Errorf("POST %q: %d %s, want 753 Malformed JSON", body, code, out)
		}
	}
}

// TestPythonNumberLiterals: freezer-api parses bodies with Python's
// json.loads, which reads NaN, Infinity, -Infinity and a float too large
// for a double (as inf), and answers with json.dumps, which writes them
// back as NaN, Infinity and -Infinity; jsonschema names them nan, inf and
// -inf (answers checked against freezer-api 13 by the wire probe
// numbers.py).
func TestPythonNumberLiterals(t *testing.T) {
	_, admin, _ := newClient(t)
	const v2 = "/v2/f1e2d3c4b5a6978812345678abcdef01"
	code, _, out := admin.do("POST", v2+"/backups", `{"container": "c", "hostname": "h", "backup_name": "b", "x": NaN, "y": [Infinity,-Infinity], "big": 1E400, "int": 123456789012345678901234567890, "s": "NaN"}`)
	if code != 201 {
		t.Fatalf("POST backup: %d %s", code, out)
	}
	var created struct {
		BackupID string `json:"backup_id"`
	}
	_ = json.Unmarshal([]byte(out), &created)
	want := `"backup_metadata": {"container": "c", "hostname": "h", "backup_name": "b", "x": NaN, "y": [Infinity, -Infinity], "big": Infinity, "int": 123456789012345678901234567890, "s": "NaN"}`
	if _, _, got := admin.do("GET", v2+"/backups/"+created.BackupID, ""); !strings.Contains(got, want) {
		t.Errorf("GET backup:\n%s\nwant %s", got, want)
	}
	for lit, repr := range map[string]string{"NaN": "nan", "-Infinity": "-inf", "1e400": "inf"} {
		code, _, got := admin.do("POST", v2+"/jobs", `{"client_id": "n", "job_actions": [], "description": `+lit+`}`)
		if want := `{"title": "Bad request format", "description": "` + repr + ` is not of type 'string'"}`; code != 400 || got != want {
			t.Errorf("description %s: %d %s, want 400 %s", lit, code, got, want)
		}
	}
	for _, bad := range []string{"nan", "Infinityx", "+Infinity", `"a" NaN`} {
		if code, _, got := admin.do("POST", v2+"/jobs", `{"client_id": "n", "job_actions": [], "description": `+bad+`}`); code != 753 {
			t.Errorf("description %s: %d %s, want 753", bad, code, got)
		}
	}
}

// TestNegotiationAsFalcon: RequireJSON's client_accepts_json and the 406
// as falcon 3.1 serializes it, and falcon's 400 for an unknown method
// (answers checked against freezer-api 13 by the wire probe
// negotiation.py).
func TestNegotiationAsFalcon(t *testing.T) {
	_, admin, _ := newClient(t)
	const jobs = "/v2/f1e2d3c4b5a6978812345678abcdef01/jobs"
	get := func(method, accept string) (int, string, string) {
		req, _ := http.NewRequest(method, admin.base+jobs, nil)
		req.Header.Set("X-Auth-Token", admin.token)
		req.Header.Set("Accept", accept)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(data)
	}
	const xml = `<?xml version="1.0" encoding="UTF-8"?><error><title>Freezer-api only supports responses encoded as JSON.</title><link><text>Documentation related to this error</text><href>http://docs.examples.com/api/json</href><rel>help</rel></link></error>`
	for _, c := range []struct {
		accept   string
		code     int
		ct, body string
	}{
		{"application/json", 200, "application/json", `{"jobs": []}`},
		{"*/json", 200, "application/json", `{"jobs": []}`},
		{"text/plain;q=1, */*;q=0.1", 200, "application/json", `{"jobs": []}`},
		{"application/json;q=0", 406, "application/json", ""},
		{"APPLICATION/JSON", 406, "application/json", ""},
		{"application/json,", 406, "application/json", `{"title": "Freezer-api only supports responses encoded as JSON.", "link": {"text": "Documentation related to this error", "href": "http://docs.examples.com/api/json", "rel": "help"}}`},
		{"text/*", 406, "text/xml", xml},
		{"application/xml", 406, "application/xml", xml},
		{"application/vnd.api+json", 406, "application/json", `{"title": "Freezer-api only supports responses encoded as JSON.", "link": {"text": "Documentation related to this error", "href": "http://docs.examples.com/api/json", "rel": "help"}}`},
	} {
		if code, ct, body := get("GET", c.accept); code != c.code || ct != c.ct || body != c.body {
			t.Errorf("Accept %q: %d %s %q, want %d %s %q", c.accept, code, ct, body, c.code, c.ct, c.body)
		}
	}
	if code, _, body := get("BREW", ""); code != 400 || body != `{"title": "Bad request", "description": "Invalid HTTP method"}` {
		t.Errorf("BREW: %d %s", code, body)
	}
	if code, _, body := get("WEBSOCKET", "text/html"); code != 400 || body != `{"title": "400 Bad Request"}` {
		t.Errorf("WEBSOCKET: %d %s", code, body)
	}
	for _, path := range []string{"/v1", "/v2"} {
		if code, h, _ := admin.do("HEAD", path, ""); code != 405 || h.Get("Allow") != "GET, OPTIONS" {
			t.Errorf("HEAD %s: %d Allow %q, want 405 GET, OPTIONS (the json-home resource has no on_head)", path, code, h.Get("Allow"))
		}
	}
}

// TestRequestIDEchoed: freezer-api's ContextMiddleware builds the request
// context with the caller's X-Openstack-Request-ID (oslo.context keeps a
// given request_id) and answers it back, "req-" prefixed unless it has it
// (freezer_api/api/common/middleware.py, BaseContextMiddleware).
func TestRequestIDEchoed(t *testing.T) {
	_, admin, _ := newClient(t)
	for sent, want := range map[string]string{
		"req-6d4c1b4e-0f4e-4a57-9b9a-3d3c1f0e2a11": "req-6d4c1b4e-0f4e-4a57-9b9a-3d3c1f0e2a11",
		"my-trace-1": "req-my-trace-1",
	} {
		req, _ := http.NewRequest("GET", admin.base+"/v1/jobs", nil)
		req.Header.Set("X-Auth-Token", admin.token)
		req.Header.Set("X-Openstack-Request-Id", sent)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("X-Openstack-Request-Id"); got != want {
			t.Errorf("sent %q: answered %q, want %q", sent, got, want)
		}
	}
	if _, h, _ := admin.do("GET", "/v1/jobs", ""); !strings.HasPrefix(h.Get("X-Openstack-Request-Id"), "req-") {
		t.Errorf("no request id sent: answered %q", h.Get("X-Openstack-Request-Id"))
	}
}
