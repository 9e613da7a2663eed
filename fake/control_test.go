package fake_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/fake/sim"
)

const token = "test-token"

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.body, &m), "body %s", r.body)
	return m
}

func call(t testing.TB, method, url, auth, body string) reply {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	if strings.HasPrefix(auth, "Basic ") {
		u, p, _ := strings.Cut(strings.TrimPrefix(auth, "Basic "), ":")
		req.SetBasicAuth(u, p)
	} else if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return reply{resp.StatusCode, resp.Header, b}
}

func control(t *testing.T, srv *fake.Server, method, route, body string) reply {
	t.Helper()
	return call(t, method, srv.URL()+fake.ControlPrefix+route, srv.ControlToken(), body)
}

const adminAuth = "Basic admin@example.com:secret"

// cloneWeb1 clones the admin's seeded server and returns the clone's job.
func cloneWeb1(t testing.TB, srv *fake.Server) string {
	t.Helper()
	list := call(t, "GET", srv.CloudSigmaURL()+"servers/", adminAuth, "")
	require.Equal(t, 200, list.status)
	uuid := list.json(t)["objects"].([]any)[0].(map[string]any)["uuid"].(string)
	c := call(t, "POST", srv.CloudSigmaURL()+"servers/"+uuid+"/action/?do=clone", adminAuth, "{}")
	require.Equal(t, 202, c.status, "%s", c.body)
	jobs := c.json(t)["jobs"].([]any)
	require.Len(t, jobs, 1)
	return jobs[0].(map[string]any)["uuid"].(string)
}

func jobState(t *testing.T, srv *fake.Server, id string) (string, float64) {
	t.Helper()
	r := call(t, "GET", srv.CloudSigmaURL()+"jobs/"+id+"/", adminAuth, "")
	require.Equal(t, 200, r.status, "%s", r.body)
	m := r.json(t)
	return m["state"].(string), m["data"].(map[string]any)["progress"].(float64)
}

func TestControlIsOffUnlessAskedForAndNeedsItsToken(t *testing.T) {
	off := fake.NewServer(t, fake.Options{})
	assert.Empty(t, off.ControlToken())
	assert.Equal(t, 404, call(t, "GET", off.URL()+"/_fake/clock", "x", "").status)
	assert.Equal(t, 200, call(t, "GET", off.URL()+"/_fake/health", "", "").status, "health needs no control API")

	on := fake.NewServer(t, fake.Options{Control: true, ControlToken: token})
	r := call(t, "GET", on.URL()+"/_fake/clock", "", "")
	assert.Equal(t, 401, r.status)
	assert.Contains(t, r.header.Get("WWW-Authenticate"), "Bearer")
	assert.Equal(t, 401, call(t, "GET", on.URL()+"/_fake/clock", "wrong", "").status)
	assert.Equal(t, 200, call(t, "GET", on.URL()+"/_fake/clock", token, "").status)

	random := fake.NewServer(t, fake.Options{Control: true})
	assert.Len(t, random.ControlToken(), 32)
}

func TestHealthAndVersion(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{TrueNASVersion: "25.04"})
	h := call(t, "GET", srv.URL()+"/_fake/health", "", "")
	require.Equal(t, 200, h.status)
	assert.Equal(t, "ok", h.json(t)["status"])
	v := call(t, "GET", srv.URL()+"/_fake/version", "", "").json(t)
	services := v["services"].(map[string]any)
	for _, d := range []string{"cloudsigma", "truenas", "freezer", "keystone", "ftrack"} {
		assert.Contains(t, services, d)
	}
	assert.Equal(t, "25.04", services["truenas"].(map[string]any)["emulating"])
	assert.Equal(t, 405, call(t, "POST", srv.URL()+"/_fake/health", "", "").status)

	_, err := fake.New(fake.Options{TrueNASVersion: "9.3"})
	assert.ErrorContains(t, err, "25.10")
	newest := fake.NewServer(t, fake.Options{TrueNASVersion: "newest"})
	v = call(t, "GET", newest.URL()+"/_fake/version", "", "").json(t)
	assert.Equal(t, fake.TrueNASVersions()[len(fake.TrueNASVersions())-1],
		v["services"].(map[string]any)["truenas"].(map[string]any)["emulating"])
}

func TestControlClockAdvanceRunSpeedPause(t *testing.T) {
	clk := sim.NewClock(sim.Epoch)
	srv := fake.NewServer(t, fake.Options{Control: true, ControlToken: token, Clock: clk})
	job := cloneWeb1(t, srv)

	r := control(t, srv, "POST", "clock", `{"action":"advance","by":"30s"}`)
	require.Equal(t, 200, r.status, "%s", r.body)
	assert.Equal(t, sim.Epoch.Add(30*time.Second), clk.Now())
	state, progress := jobState(t, srv, job)
	assert.Equal(t, "started", state)
	assert.Less(t, progress, 100.0)

	g := control(t, srv, "GET", "clock", "").json(t)
	assert.Equal(t, 4.0, g["running_jobs"].(map[string]any)["cloudsigma"], "a server clone and its three disks")

	r = control(t, srv, "POST", "clock", `{"action":"run","step":"10s"}`)
	require.Equal(t, 200, r.status, "%s", r.body)
	m := r.json(t)
	assert.Equal(t, true, m["done"])
	state, progress = jobState(t, srv, job)
	assert.Equal(t, "success", state)
	assert.Equal(t, 100.0, progress)

	// run is bounded by its limit.
	cloneWeb1(t, srv)
	m = control(t, srv, "POST", "clock", `{"action":"run","limit":"5s"}`).json(t)
	assert.Equal(t, false, m["done"])
	assert.Equal(t, "5s", m["advanced"])

	m = control(t, srv, "POST", "clock", `{"action":"speed","speed":1e6}`).json(t)
	assert.Equal(t, 1e6, m["clock"].(map[string]any)["speed"])
	control(t, srv, "POST", "clock", `{"action":"pause"}`)
	assert.Zero(t, clk.Speed())
	stopped := clk.Now()
	assert.Equal(t, stopped, clk.Now())
	m = control(t, srv, "POST", "clock", `{"action":"resume"}`).json(t)
	assert.Equal(t, true, m["resumed"])
	clk.SetSpeed(0)

	for _, bad := range []string{`{"action":"advance"}`, `{"action":"fly"}`, `{"action":"speed","speed":-1}`,
		`{"action":"advance","by":"soon"}`, `{"action":"run","limit":"-1s"}`, `not json`, `{"action":"pause"} {}`,
		`{"action":"pause","extra":1}`} {
		r := control(t, srv, "POST", "clock", bad)
		assert.Equal(t, 400, r.status, bad)
		assert.NotEmpty(t, r.json(t)["error"], bad)
	}
}

func TestControlFaultsBurstAndClearPerDialect(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{Control: true, ControlToken: token})
	r := control(t, srv, "POST", "faults", `{"dialect":"cloudsigma","method":"get","path":"/api/2.0/jobs/","times":2,
		"status":503,"body":"{\"detail\":\"busy\"}","headers":{"Retry-After":"1"}}`)
	require.Equal(t, 201, r.status, "%s", r.body)
	for range 2 {
		got := call(t, "GET", srv.CloudSigmaURL()+"jobs/", adminAuth, "")
		assert.Equal(t, 503, got.status)
		assert.Equal(t, "1", got.header.Get("Retry-After"))
		assert.JSONEq(t, `{"detail":"busy"}`, string(got.body))
	}
	assert.Equal(t, 200, call(t, "GET", srv.CloudSigmaURL()+"jobs/", adminAuth, "").status, "the burst is over")

	// Forever faults of two dialects; clear one.
	control(t, srv, "POST", "faults", `{"dialect":"cloudsigma","status":500}`)
	control(t, srv, "POST", "faults", `{"dialect":"freezer","status":502}`)
	control(t, srv, "POST", "faults", `{"name":"truenas.drop-websocket","times":1}`)
	l := control(t, srv, "GET", "faults", "").json(t)
	assert.Len(t, l["faults"], 2)
	assert.Equal(t, 1.0, l["named"].(map[string]any)["truenas.drop-websocket"])
	assert.Equal(t, 500, call(t, "GET", srv.CloudSigmaURL()+"drives/", adminAuth, "").status)
	control(t, srv, "DELETE", "faults?dialect=cloudsigma", "")
	assert.Equal(t, 200, call(t, "GET", srv.CloudSigmaURL()+"drives/", adminAuth, "").status)
	assert.Equal(t, 502, call(t, "GET", srv.URL()+"/v1/jobs", "", "").status)
	assert.Equal(t, 200, control(t, srv, "GET", "clock", "").status, "faults never reach the control API")
	control(t, srv, "DELETE", "faults", "")
	l = control(t, srv, "GET", "faults", "").json(t)
	assert.Empty(t, l["faults"])
	assert.Empty(t, l["named"])

	for _, bad := range []string{`{"dialect":"cloudsigma"}`, `{"dialect":"aws","status":500}`, `{"status":99}`,
		`{"path":"api","status":500}`, `{"path":"/_fake/","status":500}`, `{"name":"nope"}`, `{"times":-1,"status":500}`,
		`{"status":500,"headers":{"X\r\nY":"1"}}`} {
		assert.Equal(t, 400, control(t, srv, "POST", "faults", bad).status, bad)
	}
}

func TestControlJobsForceOutcomes(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{Control: true, ControlToken: token, Clock: sim.NewClock(sim.Epoch)})
	job := cloneWeb1(t, srv)
	r := control(t, srv, "POST", "jobs", fmt.Sprintf(`{"dialect":"cloudsigma","id":%q,"outcome":"finish"}`, job))
	require.Equal(t, 200, r.status, "%s", r.body)
	state, progress := jobState(t, srv, job)
	assert.Equal(t, "success", state)
	assert.Equal(t, 100.0, progress)

	job = cloneWeb1(t, srv)
	require.Equal(t, 200, control(t, srv, "POST", "jobs", fmt.Sprintf(`{"dialect":"cloudsigma","id":%q,"outcome":"fail"}`, job)).status)
	state, _ = jobState(t, srv, job)
	assert.Equal(t, "error", state)

	r = control(t, srv, "POST", "jobs", fmt.Sprintf(`{"dialect":"cloudsigma","id":%q,"outcome":"abort"}`, job))
	assert.Equal(t, 501, r.status)
	assert.Contains(t, r.json(t)["error"], "cannot be aborted")
	assert.Equal(t, 404, control(t, srv, "POST", "jobs", `{"dialect":"cloudsigma","id":"nope","outcome":"fail"}`).status)
	assert.Equal(t, 404, control(t, srv, "POST", "jobs", `{"dialect":"truenas","id":"77","outcome":"abort"}`).status)
	assert.Equal(t, 404, control(t, srv, "POST", "jobs", `{"dialect":"ftrack","id":"x","outcome":"finish"}`).status)
	assert.Equal(t, 404, control(t, srv, "POST", "jobs", `{"dialect":"freezer","id":"x","outcome":"finish"}`).status)
	assert.Equal(t, 400, control(t, srv, "POST", "jobs", `{"dialect":"keystone","id":"x","outcome":"finish"}`).status)
	assert.Equal(t, 400, control(t, srv, "POST", "jobs", `{"dialect":"cloudsigma","id":"x","outcome":"win"}`).status)
}

func TestControlRequestLog(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{Control: true, ControlToken: token})
	call(t, "GET", srv.CloudSigmaURL()+"drives/", adminAuth, "")
	call(t, "GET", srv.CloudSigmaURL()+"drives/", "Basic admin@example.com:wrong", "")
	call(t, "GET", srv.URL()+"/nowhere", "", "")
	var got struct {
		Requests []fake.RequestRecord `json:"requests"`
	}
	require.NoError(t, json.Unmarshal(control(t, srv, "GET", "requests", "").body, &got))
	require.Len(t, got.Requests, 3, "control requests are not logged")
	assert.Equal(t, "cloudsigma", got.Requests[0].Dialect)
	assert.Equal(t, "GET", got.Requests[0].Method)
	assert.Equal(t, "/api/2.0/drives/", got.Requests[0].Path)
	assert.Equal(t, 200, got.Requests[0].Status)
	assert.Equal(t, 401, got.Requests[1].Status)
	assert.Equal(t, "", got.Requests[2].Dialect)
	assert.Equal(t, 404, got.Requests[2].Status)
	assert.False(t, got.Requests[0].At.IsZero())

	require.NoError(t, json.Unmarshal(control(t, srv, "GET", fmt.Sprintf("requests?after=%d", got.Requests[1].Seq), "").body, &got))
	assert.Len(t, got.Requests, 1)
	require.NoError(t, json.Unmarshal(control(t, srv, "GET", "requests?dialect=freezer", "").body, &got))
	assert.Empty(t, got.Requests)
	control(t, srv, "DELETE", "requests", "")
	assert.Empty(t, srv.Requests())
	assert.Equal(t, 400, control(t, srv, "GET", "requests?after=x", "").status)
}

func TestControlResetAndSeed(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{Control: true, ControlToken: token, Clock: sim.NewClock(sim.Epoch)})
	job := cloneWeb1(t, srv)
	control(t, srv, "POST", "faults", `{"dialect":"freezer","status":500}`)
	require.Equal(t, 200, control(t, srv, "POST", "reset", "").status)
	assert.Empty(t, srv.Requests(), "a reset clears the request log")
	assert.Equal(t, 404, call(t, "GET", srv.CloudSigmaURL()+"jobs/"+job+"/", adminAuth, "").status)
	assert.Empty(t, control(t, srv, "GET", "faults", "").json(t)["faults"])

	seed := `{"users":[{"name":"ci","email":"ci@example.com","password":"pw","api_key":"3-ci","project":"0123456789abcdef0123456789abcdef"}],
		"cloudsigma":{"servers":[{"owner":"ci@example.com","name":"db-1","disks":2,"disk_size":1073741824}]}}`
	r := control(t, srv, "POST", "seed", seed)
	require.Equal(t, 200, r.status, "%s", r.body)
	list := call(t, "GET", srv.CloudSigmaURL()+"servers/?limit=0", "Basic ci@example.com:pw", "")
	require.Equal(t, 200, list.status)
	var names []string
	for _, o := range list.json(t)["objects"].([]any) {
		names = append(names, o.(map[string]any)["name"].(string))
	}
	assert.ElementsMatch(t, []string{"web-1", "db-1"}, names, "a seeded user gets the default servers and the document's")
	assert.Equal(t, 200, call(t, "GET", srv.CloudSigmaURL()+"servers/", adminAuth, "").status, "default users stay")

	// The seed survives a reset.
	require.Equal(t, 200, control(t, srv, "POST", "reset", "").status)
	assert.Equal(t, 200, call(t, "GET", srv.CloudSigmaURL()+"servers/", "Basic ci@example.com:pw", "").status)
	assert.Contains(t, string(control(t, srv, "GET", "seed", "").body), `"db-1"`)

	for _, bad := range []string{`{"users":[{"email":"x"}]}`, `{"users":[{"name":"a"},{"name":"a"}]}`, `{"bogus":1}`,
		`{"cloudsigma":{"servers":[{"owner":"nobody@example.com","name":"x"}]}}`, `[]`} {
		assert.Equal(t, 400, control(t, srv, "POST", "seed", bad).status, bad)
	}
	r = control(t, srv, "POST", "seed", `{"freezer":{"jobs":[{"user":"nobody","client_id":"n1"}]}}`)
	assert.Equal(t, 400, r.status, "%s", r.body)
	assert.Equal(t, 200, call(t, "GET", srv.CloudSigmaURL()+"servers/", "Basic ci@example.com:pw", "").status,
		"a refused seed leaves the fake as it was")

	_, err := fake.New(fake.Options{Seed: []byte(`{"users":[{}]}`)})
	assert.ErrorIs(t, err, fake.ErrBadSeed)
}

func TestNewReportsListenFailure(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{})
	addr := strings.TrimPrefix(srv.URL(), "http://")
	_, err := fake.New(fake.Options{Addr: addr})
	assert.ErrorContains(t, err, "listen")

	var ft fakeTB
	assert.Nil(t, fake.NewServer(&ft, fake.Options{Addr: addr}))
	assert.Contains(t, ft.fatal, "listen")
}

type fakeTB struct{ fatal string }

func (*fakeTB) Helper()                             {}
func (*fakeTB) Cleanup(func())                      {}
func (f *fakeTB) Fatalf(format string, args ...any) { f.fatal = fmt.Sprintf(format, args...) }

func TestControlSeedTrueNASJobsRunForceAndReset(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{Control: true, ControlToken: token, Clock: sim.NewClock(sim.Epoch),
		Seed: []byte(`{"truenas":{"jobs":[{"method":"pool.scrub.scrub","params":["tank"]},
			{"user":"guest","method":"pool.scrub.scrub","params":["backup"]}]}}`)})
	running := func() float64 {
		return control(t, srv, "GET", "jobs", "").json(t)["running_jobs"].(map[string]any)["truenas"].(float64)
	}
	assert.Equal(t, 2.0, running())
	r := control(t, srv, "POST", "jobs", `{"dialect":"truenas","id":"2","outcome":"fail"}`)
	require.Equal(t, 200, r.status, "%s", r.body)
	j, ok := srv.TrueNAS().JobByID(2)
	require.True(t, ok)
	assert.Equal(t, "FAILED", j.State())
	assert.Equal(t, 1.0, running())

	m := control(t, srv, "POST", "clock", `{"action":"run"}`).json(t)
	assert.Equal(t, true, m["done"])
	j, _ = srv.TrueNAS().JobByID(1)
	assert.Equal(t, "SUCCESS", j.State())

	require.Equal(t, 200, control(t, srv, "POST", "reset", "").status)
	assert.Equal(t, 2.0, running(), "a reset starts the seeded jobs again")
	require.Equal(t, 200, control(t, srv, "POST", "jobs", `{"dialect":"truenas","id":"1","outcome":"abort"}`).status)
	require.Equal(t, 200, control(t, srv, "POST", "jobs", `{"dialect":"truenas","id":"2","outcome":"finish"}`).status)
	j, _ = srv.TrueNAS().JobByID(2)
	assert.Equal(t, "SUCCESS", j.State())
	<-func() <-chan struct{} { j, _ := srv.TrueNAS().JobByID(1); return j.Done() }()
	assert.Equal(t, 0.0, running())

	// Two scrubs of one pool: the second waits for the first's lock.
	require.Equal(t, 200, control(t, srv, "POST", "seed", `{"truenas":{"jobs":[
		{"method":"pool.scrub.scrub","params":["tank"]},{"method":"pool.scrub.scrub","params":["tank"]}]}}`).status)
	r = control(t, srv, "POST", "jobs", `{"dialect":"truenas","id":"2","outcome":"finish"}`)
	assert.Equal(t, 409, r.status, "%s", r.body)
	assert.Contains(t, r.json(t)["error"], "WAITING")
	require.Equal(t, 200, control(t, srv, "POST", "jobs", `{"dialect":"truenas","id":"1","outcome":"finish"}`).status)
	m = control(t, srv, "POST", "clock", `{"action":"run"}`).json(t)
	assert.Equal(t, true, m["done"], "the waiting scrub ran once the first one was finished")
	j, _ = srv.TrueNAS().JobByID(2)
	assert.Equal(t, "SUCCESS", j.State())

	for _, bad := range []string{`{"truenas":{"jobs":[{"method":"nope"}]}}`, `{"truenas":{"jobs":[{"method":"filesystem.put"}]}}`,
		`{"truenas":{"jobs":[{"user":"nobody","method":"pool.scrub.scrub","params":["x"]}]}}`, `{"truenas":{"bogus":1}}`} {
		assert.Equal(t, 400, control(t, srv, "POST", "seed", bad).status, bad)
	}
}

func TestRunUntilDoneJumpsToCloudSigmaCompletions(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{Clock: sim.NewClock(sim.Epoch)})
	job := cloneWeb1(t, srv)
	// Stepping by DefaultRunStep would take 1,200 steps for the 20-minute
	// clone; the backend's NextEvent lets run jump from completion to
	// completion, and a step caps each jump.
	done, moved := srv.RunUntilDone(time.Hour, 0)
	assert.True(t, done)
	assert.Equal(t, 20*time.Minute, moved, "the largest disk (20 GiB) takes 20 fake minutes")
	job2 := cloneWeb1(t, srv)
	done, moved = srv.RunUntilDone(time.Hour, 7*time.Minute)
	assert.True(t, done)
	assert.Equal(t, 20*time.Minute, moved, "the largest disk (20 GiB) takes 20 fake minutes")
	state, _ := jobState(t, srv, job)
	assert.Equal(t, "success", state)
	state, _ = jobState(t, srv, job2)
	assert.Equal(t, "success", state)
}

func TestControlJobsFreezerAndFtrack(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{Control: true, ControlToken: token, Clock: sim.NewClock(sim.Epoch)})
	tok, ok := srv.Freezer().IssueToken("admin")
	require.True(t, ok)
	freezer := func(method, path, body string) reply {
		req, _ := http.NewRequest(method, srv.URL()+path, strings.NewReader(body))
		req.Header.Set("X-Auth-Token", tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return reply{resp.StatusCode, resp.Header, b}
	}
	// v2: freezer-api 13's SQL backend (and so the fake) refuses events
	// on v1 jobs.
	jobsPath := "/v2/" + sim.DefaultUsers()[0].Project + "/jobs"
	c := freezer("POST", jobsPath, `{"client_id": "n1", "job_actions": [{"freezer_action": {"action": "backup"}}]}`)
	require.Equal(t, 201, c.status, "%s", c.body)
	id := c.json(t)["job_id"].(string)
	force := func(dialect, id, outcome string) reply {
		return control(t, srv, "POST", "jobs", fmt.Sprintf(`{"dialect":%q,"id":%q,"outcome":%q}`, dialect, id, outcome))
	}
	assert.Equal(t, 409, force("freezer", id, "finish").status, "a stopped job has no run to end")
	require.Equal(t, 202, freezer("POST", jobsPath+"/"+id+"/event", `{"start": null}`).status)
	control(t, srv, "POST", "clock", `{"action":"advance","by":"1s"}`) // the agent picks it up
	assert.Equal(t, 1.0, control(t, srv, "GET", "jobs", "").json(t)["running_jobs"].(map[string]any)["freezer"])
	r := force("freezer", id, "fail")
	require.Equal(t, 200, r.status, "%s", r.body)
	sched := freezer("GET", jobsPath+"/"+id, "").json(t)["job_schedule"].(map[string]any)
	assert.Equal(t, "fail", sched["result"])
	assert.Equal(t, "completed", sched["status"])
	assert.Equal(t, 0.0, control(t, srv, "GET", "jobs", "").json(t)["running_jobs"].(map[string]any)["freezer"])

	// ftrack: a Job made through the API, finished from the control API.
	req, _ := http.NewRequest("POST", srv.URL()+"/api", strings.NewReader(
		`[{"action":"create","entity_type":"Job","entity_data":{"status":"running","user_id":"5b4a69a3-8e78-4c45-a8ba-8b13f0895e23"}}]`))
	req.Header.Set("ftrack-user", "admin")
	req.Header.Set("ftrack-api-key", "1-longrunfakeapikey")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	var created []struct {
		Data map[string]any `json:"data"`
	}
	body, _ := io.ReadAll(resp.Body)
	require.NoError(t, json.Unmarshal(body, &created), "%s", body)
	resp.Body.Close()
	require.Len(t, created, 1)
	fid := created[0].Data["id"].(string)
	assert.Equal(t, 1.0, control(t, srv, "GET", "jobs", "").json(t)["running_jobs"].(map[string]any)["ftrack"])
	require.Equal(t, 200, force("ftrack", fid, "finish").status)
	assert.Equal(t, "done", srv.Ftrack().Job(fid)["status"])
	require.Equal(t, 200, force("ftrack", fid, "abort").status)
	assert.Equal(t, "failed", srv.Ftrack().Job(fid)["status"])
	assert.Equal(t, 0.0, control(t, srv, "GET", "jobs", "").json(t)["running_jobs"].(map[string]any)["ftrack"])
}

// freezerCall calls the Freezer API as the user named user, with a Keystone
// token the fake issued.
func freezerCall(t *testing.T, srv *fake.Server, user, method, path, body string) reply {
	t.Helper()
	tok, ok := srv.Freezer().IssueToken(user)
	require.True(t, ok, user)
	req, err := http.NewRequest(method, srv.URL()+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("X-Auth-Token", tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, b}
}

// ftrackQuery runs one query through ftrack's POST /api as admin.
func ftrackQuery(t *testing.T, srv *fake.Server, expr string) []any {
	t.Helper()
	body, _ := json.Marshal([]any{map[string]any{"action": "query", "expression": expr}})
	req, err := http.NewRequest("POST", srv.URL()+"/api", strings.NewReader(string(body)))
	require.NoError(t, err)
	req.Header.Set("ftrack-user", "admin")
	req.Header.Set("ftrack-api-key", "1-longrunfakeapikey")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	require.Equal(t, 200, resp.StatusCode, "%s", b)
	var out []struct {
		Data []any `json:"data"`
	}
	require.NoError(t, json.Unmarshal(b, &out), "%s", b)
	require.Len(t, out, 1)
	return out[0].Data
}

func TestControlSeedFreezerAndFtrack(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{Control: true, ControlToken: token, Clock: sim.NewClock(sim.Epoch)})
	const ciProject = "0123456789abcdef0123456789abcdef"
	seed := `{"users":[{"name":"ci","email":"ci@example.com","password":"pw","api_key":"3-ci","project":"` + ciProject + `"}],
	 "freezer":{
	  "clients":[{"user":"ci","client_id":"node-1","hostname":"node-1.example.com","description":"seeded"}],
	  "jobs":[{"user":"ci","job_id":"seededjob1","client_id":"node-1","description":"nightly",
	           "job_schedule":{"schedule_interval":"1 days"},
	           "job_actions":[{"freezer_action":{"action":"backup","path_to_backup":"/srv","backup_name":"srv"}}]},
	          {"client_id":"node-2","description":"admin's","job_actions":[{"freezer_action":{"action":"backup"}}]}],
	  "sessions":[{"user":"ci","description":"weekly","schedule":{}}]},
	 "ftrack":{"jobs":[{"id":"seeded-ftrack-1","user":"admin","status":"running","description":"render"},
	                   {"user":"ci","status":"queued"}]}}`
	r := control(t, srv, "POST", "seed", seed)
	require.Equal(t, 200, r.status, "%s", r.body)

	check := func() {
		t.Helper()
		list := freezerCall(t, srv, "ci", "GET", "/v2/"+ciProject+"/jobs", "")
		require.Equal(t, 200, list.status, "%s", list.body)
		jobs := list.json(t)["jobs"].([]any)
		require.Len(t, jobs, 1, "the ci user sees only its own job")
		j := jobs[0].(map[string]any)
		assert.Equal(t, "seededjob1", j["job_id"])
		assert.Equal(t, "nightly", j["description"])
		assert.Equal(t, ciProject, j["project_id"])
		assert.Equal(t, "1 days", j["job_schedule"].(map[string]any)["schedule_interval"])
		assert.Contains(t, string(list.body), `"path_to_backup": "/srv"`)

		admin := freezerCall(t, srv, "admin", "GET", "/v2/"+sim.DefaultUsers()[0].Project+"/jobs", "")
		require.Equal(t, 200, admin.status, "%s", admin.body)
		ajobs := admin.json(t)["jobs"].([]any)
		require.Len(t, ajobs, 1, "a job without a user belongs to admin")
		assert.Equal(t, "admin's", ajobs[0].(map[string]any)["description"])

		cl := freezerCall(t, srv, "ci", "GET", "/v2/"+ciProject+"/clients/node-1", "")
		require.Equal(t, 200, cl.status, "%s", cl.body)
		assert.Equal(t, "node-1.example.com", cl.json(t)["client"].(map[string]any)["hostname"])
		ss := freezerCall(t, srv, "ci", "GET", "/v2/"+ciProject+"/sessions", "")
		require.Equal(t, 200, ss.status, "%s", ss.body)
		assert.Len(t, ss.json(t)["sessions"].([]any), 1)

		fj := ftrackQuery(t, srv, `select id, status, data, user_id from Job`)
		require.Len(t, fj, 2)
		byID := map[string]map[string]any{}
		for _, e := range fj {
			m := e.(map[string]any)
			byID[m["id"].(string)] = m
		}
		require.Contains(t, byID, "seeded-ftrack-1")
		assert.Equal(t, "running", byID["seeded-ftrack-1"]["status"])
		assert.JSONEq(t, `{"description":"render"}`, byID["seeded-ftrack-1"]["data"].(string))
		assert.Equal(t, sim.DefaultUsers()[0].ID, byID["seeded-ftrack-1"]["user_id"])
		assert.Equal(t, 2.0, control(t, srv, "GET", "jobs", "").json(t)["running_jobs"].(map[string]any)["ftrack"],
			"the running and the queued ftrack job")
	}
	check()

	// Deleting a seeded job and resetting brings it back.
	require.Equal(t, 204, freezerCall(t, srv, "ci", "DELETE", "/v2/"+ciProject+"/jobs/seededjob1", "").status)
	require.Equal(t, 404, freezerCall(t, srv, "ci", "GET", "/v2/"+ciProject+"/jobs/seededjob1", "").status)
	require.Equal(t, 200, control(t, srv, "POST", "reset", "").status)
	check()

	for bad, msg := range map[string]string{
		`{"freezer":{"jobs":[{"client_id":"n1","job_actions":[{"freezer_action":{"action":"backup","mode":7}}]}]}}`:            "freezer job 0",
		`{"freezer":{"jobs":[{"client_id":"n1","job_actions":[]},{"client_id":"n1","job_schedule":{"schedule_interval":5}}]}}`: "freezer job 1",
		`{"freezer":{"clients":[{"hostname":"h"}]}}`:                "'client_id' is a required property",
		`{"freezer":{"jobs":[{"user":"nobody","client_id":"n1"}]}}`: `no user "nobody"`,
		`{"freezer":{"jobs":[[]]}}`:                                 "freezer job 0",
		`{"freezer":{"backups":[]}}`:                                "unknown field",
		`{"ftrack":{"jobs":[{"status":"exploded"}]}}`:               "ftrack job 0",
		`{"ftrack":{"jobs":[{"id":"a"},{"id":"a"}]}}`:               "ftrack job 1",
		`{"ftrack":{"jobs":[{"user":"nobody"}]}}`:                   `no user "nobody"`,
	} {
		r := control(t, srv, "POST", "seed", bad)
		assert.Equal(t, 400, r.status, "%s: %s", bad, r.body)
		assert.Contains(t, r.json(t)["error"], msg, bad)
	}
	check() // a refused seed leaves the last one in force
}

// TestDocsSeedExampleLoads loads the seed document docs/fake.md shows.
func TestDocsSeedExampleLoads(t *testing.T) {
	md, err := os.ReadFile("../docs/fake.md")
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(md), "A seed document adds users")
	require.True(t, ok, "docs/fake.md lost its seed paragraph")
	_, rest, ok = strings.Cut(rest, "```json\n")
	require.True(t, ok)
	doc, _, ok := strings.Cut(rest, "```")
	require.True(t, ok)
	srv := fake.NewServer(t, fake.Options{Control: true, ControlToken: token, Clock: sim.NewClock(sim.Epoch)})
	r := control(t, srv, "POST", "seed", doc)
	require.Equal(t, 200, r.status, "%s", r.body)
	got := freezerCall(t, srv, "ci", "GET", "/v2/0123456789abcdef0123456789abcdef/jobs/nightly1", "")
	assert.Equal(t, 200, got.status, "%s", got.body)
	assert.Len(t, ftrackQuery(t, srv, `select id from Job where status is "running"`), 1)
}
