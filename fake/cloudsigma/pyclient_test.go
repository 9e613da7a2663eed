package cloudsigma_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/fake/cloudsigma"
	"github.com/longrun/longrun/fake/sim"
)

// TestPycloudsigmaReferenceClient drives the fake with CloudSigma's own
// Python client, pycloudsigma, as a user would (testdata/
// pycloudsigma_client.py): lists, schemas, drive create (sizes as
// strings), edit and resize, server create with drives and a nic, edit,
// start, runtime, VNC and console, refusals with their request ids, stop,
// clone waited for on pycloudsigma's Websocket (authenticate_asynchronous
// and the async websocket), shutdown, recursive deletes, and the steps of
// pycloudsigma's own websocket acceptance test (a server and a drive named
// "", the drive deleted while attached to the stopped server). The fake
// runs on a scaled clock (600x) since pycloudsigma waits on wall time.
//
// It needs python3 with requests, websocket-client, configobj, iso8601,
// simplejson and future (Debian: python3-requests python3-websocket
// python3-configobj python3-iso8601 python3-simplejson python3-future
// python3-serial) and the pycloudsigma sources' src directory on
// $LONGRUN_PYCLOUDSIGMA_PATH; it skips with the reason otherwise.
func TestPycloudsigmaReferenceClient(t *testing.T) {
	pp := os.Getenv("LONGRUN_PYCLOUDSIGMA_PATH")
	if pp == "" {
		t.Skip("LONGRUN_PYCLOUDSIGMA_PATH is not set (pycloudsigma's src directory)")
	}
	var py string
	for _, cand := range []string{"python3", "/usr/bin/python3"} {
		p, err := exec.LookPath(cand)
		if err != nil {
			continue
		}
		cmd := exec.Command(p, "-c", "import cloudsigma.generic")
		cmd.Env = append(os.Environ(), "PYTHONPATH="+pp, "CLOUDSIGMA_CONFIG=/dev/null")
		if cmd.Run() == nil {
			py = p
			break
		}
	}
	if py == "" {
		t.Skip("no python3 here imports pycloudsigma (needs requests, websocket-client, configobj, iso8601, simplejson, future)")
	}
	srv := fake.NewServer(t, fake.Options{Clock: sim.NewScaledClock(600)})
	conf := filepath.Join(t.TempDir(), "cloudsigma.conf")
	ws := "ws" + strings.TrimPrefix(srv.URL(), "http") + cloudsigma.WebsocketPath
	if err := os.WriteFile(conf, []byte("api_endpoint = "+srv.CloudSigmaURL()+"\nws_endpoint = "+ws+
		"\nusername = admin@example.com\npassword = secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	script, _ := filepath.Abs("testdata/pycloudsigma_client.py")
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, script)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+pp, "CLOUDSIGMA_CONFIG="+conf)
	out, err := cmd.Output()
	var got struct {
		Results []struct {
			Op, Error, Trace string
			OK               bool
		}
		Facts map[string]any
	}
	if jerr := json.Unmarshal(out, &got); jerr != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("reference client: %v %v\n%s\n%s", err, jerr, out, stderr)
	}
	for _, r := range got.Results {
		if !r.OK {
			t.Errorf("%s: %s\n%s", r.Op, r.Error, r.Trace)
		}
	}
	t.Logf("%d operations, facts %v", len(got.Results), got.Facts)
	want := map[string]any{
		"resize_status": "resizing", "resize_action_status": "resizing", "attached_drive_status": "mounted",
		"runtime_interface": "public", "start_running": 403.0, "delete_mounted": 403.0, "clone_progress": 100.0,
		"deleted_drive": 404.0, "anon_drive_name": "", "deleted_server": 404.0, "detached": 0.0,
		"session_no_csrf": 401.0, "session_after_logout": 401.0, "session_bad_login": 401.0,
		"libdrive_owner_through_drives": nil, "attach_preinstalled": 403.0, "lib_clone_owner": true, "lib_delete": 403.0,
		"snapshot_status": "creating", "drive_snapshots": 2.0, "snapshots_for_drive": 2.0, "deleted_snapshot": 404.0,
		"snapshot_of_deleted_drive": 404.0, "tag2_drives": 1.0, "tag2_after_resource_put": 3.0,
	}
	for k, v := range want {
		if got.Facts[k] != v {
			t.Errorf("%s: %v, want %v", k, got.Facts[k], v)
		}
	}
	if ns, _ := got.Facts["no_snapshots"].([]any); ns == nil || len(ns) != 0 {
		t.Errorf("a new drive's snapshots: %v", got.Facts["no_snapshots"])
	}
	if c, _ := got.Facts["snapshot_clone"].([]any); len(c) != 3 || c[0] != "py_snap" || c[1] != 1024000000.0 || c[2] != "cloning_dst" {
		t.Errorf("snapshot clone: %v", got.Facts["snapshot_clone"])
	}
	for k, v := range map[string]string{"tag_resources": "[drives servers servers]", "tag_on_drive": "[true]",
		"server2_untagged": "[]", "tag1_servers": "[true]", "tag2_left": "[]"} {
		if s := fmt.Sprint(got.Facts[k]); s != v {
			t.Errorf("%s: %s, want %s", k, s, v)
		}
	}
	if left, _ := got.Facts["left"].([]any); len(left) != 0 {
		t.Errorf("drives left behind: %v", left)
	}
}
