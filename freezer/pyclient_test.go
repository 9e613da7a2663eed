package freezer_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/fake/sim"
)

// TestConformanceReferenceClient runs the real python-freezerclient job
// calls (Keystone v3 password login, catalog lookup, create, get, list,
// update, start, stop, abort, delete, and two refusals) against the fake.
func TestConformanceReferenceClient(t *testing.T) {
	needPython(t, "freezerclient.v2.client", "python3-freezerclient")
	u := sim.DefaultUsers()[0]
	t.Run("v2-password", func(t *testing.T) {
		t.Parallel()
		runReferenceClient(t, "v2", func(*fake.Server) []string { return []string{"password", u.Name, u.Password, u.Name} })
	})
	// v1 events are a 400 on freezer-api 13's SQL backend, and so on the
	// fake: the token login runs on v2 (the command-line comparison covers
	// v1).
	t.Run("v2-token", func(t *testing.T) {
		t.Parallel()
		runReferenceClient(t, "v2", func(srv *fake.Server) []string {
			tok, _ := srv.Freezer().IssueToken(u.Name)
			return []string{"token", tok, u.Project}
		})
	})
}

func runReferenceClient(t *testing.T, version string, auth func(*fake.Server) []string) {
	srv := fake.NewServer(t, fake.Options{})
	script, err := filepath.Abs("testdata/pyclient.py")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	u := sim.DefaultUsers()[0]
	args := append([]string{script, srv.URL() + "/v3", version}, auth(srv)...)
	cmd := exec.CommandContext(ctx, debianPython, args...)
	cmd.WaitDelay = 10 * time.Second // a bound on a killed child's pipes, not a sleep
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python-freezerclient: %v\n%s\n%s", err, out, stderr.String())
	}
	steps := map[string]json.RawMessage{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var s struct {
			Step  string          `json:"step"`
			Value json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatalf("bad line %q: %v", sc.Text(), err)
		}
		steps[s.Step] = s.Value
	}
	str := func(k string) string {
		var v string
		_ = json.Unmarshal(steps[k], &v)
		return v
	}
	if str("endpoint") != srv.URL() {
		t.Errorf("catalog endpoint %s, want %s", steps["endpoint"], srv.URL())
	}
	if str("project_id") != u.Project {
		t.Errorf("project %s", steps["project_id"])
	}
	id := str("create")
	if len(id) != 32 {
		t.Fatalf("create returned %s (stderr %s)", steps["create"], stderr.String())
	}
	var got struct {
		JobID       string `json:"job_id"`
		ProjectID   string `json:"project_id"`
		ClientID    string `json:"client_id"`
		JobSchedule struct {
			Event       string `json:"event"`
			TimeStarted int64  `json:"time_started"`
		} `json:"job_schedule"`
		JobActions []struct {
			FreezerAction map[string]any `json:"freezer_action"`
			ActionID      string         `json:"action_id"`
			ProjectID     string         `json:"project_id"`
		} `json:"job_actions"`
	}
	wantProject := u.Project
	if version == "v1" {
		wantProject = "" // null on v1
	}
	if err := json.Unmarshal(steps["get"], &got); err != nil || got.JobID != id || got.ProjectID != wantProject ||
		got.ClientID != "pyclient-host" || got.JobSchedule.TimeStarted != -1 || len(got.JobActions) != 1 ||
		got.JobActions[0].ActionID == "" || got.JobActions[0].FreezerAction["no_incremental"] != true {
		t.Errorf("get: %s", steps["get"])
	}
	for _, k := range []string{"list", "list_all"} {
		if !strings.Contains(string(steps[k]), id) {
			t.Errorf("%s: %s lacks %s", k, steps[k], id)
		}
	}
	if string(steps["update"]) != "0" {
		t.Errorf("update version %s", steps["update"])
	}
	for k, want := range map[string]string{"start": "success", "start_again": "start already requested", "stop": "success", "abort": "success"} {
		var r struct{ Result string }
		if err := json.Unmarshal(steps[k], &r); err != nil || r.Result != want {
			t.Errorf("%s: %s, want %q", k, steps[k], want)
		}
	}
	if err := json.Unmarshal(steps["get_started"], &got); err != nil || got.JobSchedule.Event != "start" {
		t.Errorf("after start: %s", steps["get_started"])
	}
	if s := str("update_missing"); !strings.Contains(s, "Error 404: Tuple not registered with ID 0123456789abcdef0123456789abcdef") {
		t.Errorf("update of a missing job: %q", s)
	}
	if s := str("create_bad"); !strings.Contains(s, "Error 400: 'soon' does not match") {
		t.Errorf("bad create: %q", s)
	}
	if string(steps["get_deleted"]) != "null" {
		t.Errorf("get after delete: %s", steps["get_deleted"])
	}
	if _, ok := srv.Freezer().Job(id); ok {
		t.Error("the fake still holds the deleted job")
	}
}
