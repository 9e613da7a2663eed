package fake_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/longrun/longrun/fake"
)

// TestFtrackReferenceJavaScriptClient drives the fake with ftrack's own
// JavaScript client (@ftrack/api from npm): session start
// (query_server_information + query_schemas), query, create, update with a
// datetime, an error in strict mode, delete. It needs node and the package
// installed under $LONGRUN_FTRACK_JS_DIR (npm install --prefix DIR
// @ftrack/api) and skips with the reason otherwise.
func TestFtrackReferenceJavaScriptClient(t *testing.T) {
	dir := os.Getenv("LONGRUN_FTRACK_JS_DIR")
	if dir == "" {
		t.Skip("LONGRUN_FTRACK_JS_DIR is not set (npm install --prefix DIR @ftrack/api to run the reference client)")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@ftrack", "api")); err != nil {
		t.Skipf("@ftrack/api is not installed under %s: %v", dir, err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	srv := fake.NewServer(t, fake.Options{})
	script, _ := filepath.Abs("testdata/ftrack_js_client.cjs")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script, srv.URL(), "admin", "1-longrunfakeapikey")
	cmd.Env = append(os.Environ(), "FTRACK_JS_DIR="+dir)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("reference client failed: %v\n%s\n%s", err, out, stderr)
	}
	var got struct {
		Created struct {
			Status    string
			Type      string
			CreatedAt string `json:"created_at"`
		}
		Queried struct {
			Status     string
			Data       string
			FinishedAt string `json:"finished_at"`
		}
		Next      map[string]any
		URL       string
		Error     struct{ Name, Message string }
		Remaining int
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	t.Logf("reference client saw: %s", out)
	if got.Queried.Status != "done" || got.Queried.FinishedAt != "2026-01-02T03:04:05.000Z" || got.Queried.Data != `{"description":"from js 10%"}` {
		t.Errorf("queried job %+v", got.Queried)
	}
	if got.Created.Status != "running" || got.Created.Type != "api_job" || got.Created.CreatedAt == "" {
		t.Errorf("created job %+v", got.Created)
	}
	if got.Error.Name != "ServerError" || got.Error.Message == "" {
		t.Errorf("error %+v", got.Error)
	}
	if got.Remaining != 0 {
		t.Errorf("%d jobs left after delete", got.Remaining)
	}
	if got.URL != srv.URL()+"/component/get?id=abc&username=admin&apiKey=KEY" {
		t.Errorf("component URL %s", got.URL)
	}
}
