package fake_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/longrun/longrun/fake"
)

// TestFtrackReferencePythonClient drives the fake with ftrack's own Python
// API (ftrack_api): Session start (query_server_information, query_schemas,
// locations), queries with the client's own default projections, create and
// commit of a Job, an attachment through create_component in the
// ftrack.server location (get_upload_metadata, PUT, ComponentLocation),
// JobComponent, the download URL, delete. It needs python3 with requests,
// arrow, pyparsing, platformdirs and websocket (Debian: python3-requests
// python3-arrow python3-pyparsing python3-platformdirs python3-websocket)
// and the ftrack_api package on $LONGRUN_FTRACK_PY_PATH (from the
// ftrack-python-api sources; its clique dependency, which Debian does not
// ship and this story does not use, may be a module whose parse raises
// ValueError); it skips with the reason otherwise.
func TestFtrackReferencePythonClient(t *testing.T) {
	pp := os.Getenv("LONGRUN_FTRACK_PY_PATH")
	if pp == "" {
		t.Skip("LONGRUN_FTRACK_PY_PATH is not set (a directory holding the ftrack_api package)")
	}
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed")
	}
	if out, err := exec.Command(py, "-c", "import sys; sys.path.insert(0, sys.argv[1]); import ftrack_api", pp).CombinedOutput(); err != nil {
		t.Skipf("ftrack_api does not import: %v\n%s", err, out)
	}
	srv := fake.NewServer(t, fake.Options{})
	file := filepath.Join(t.TempDir(), "report.log")
	if err := os.WriteFile(file, []byte(strings.Repeat("python was here\n", 500)), 0o644); err != nil {
		t.Fatal(err)
	}
	script, _ := filepath.Abs("testdata/ftrack_py_client.py")
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, script, srv.URL(), "admin", "1-longrunfakeapikey", file)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+pp, "FTRACK_EVENT_PLUGIN_PATH=", "HOME="+t.TempDir())
	out := runReference(t, cmd)
	t.Logf("reference client saw: %s", out)
	var got struct {
		Created struct{ Status, Type string }
		Final   struct {
			Status string
			Data   map[string]string
		}
		Attachments     int
		DownloadStatus  int  `json:"download_status"`
		DownloadBytes   int  `json:"download_bytes"`
		DownloadMatches bool `json:"download_matches"`
		Deleted         bool
		RemovedStatus   int      `json:"removed_download_status"`
		SchemaCacheHit  bool     `json:"schema_cache_hit"`
		SecondActions   []string `json:"second_session_actions"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got.Created.Type != "api_job" || got.Final.Status != "done" || got.Final.Data["description"] != "python 60%" {
		t.Errorf("job %+v %+v", got.Created, got.Final)
	}
	if got.Attachments != 1 || got.DownloadStatus != 200 || !got.DownloadMatches || got.DownloadBytes != 8000 {
		t.Errorf("attachment: %d, download %d %d bytes, matches %v", got.Attachments, got.DownloadStatus, got.DownloadBytes, got.DownloadMatches)
	}
	if !got.Deleted {
		t.Error("job not deleted")
	}
	if got.RemovedStatus != 404 {
		t.Errorf("download after remove_component: %d", got.RemovedStatus)
	}
	// ftrack_api recomputes the hash of its cached schemas and finds it
	// equal to the server's schema_hash.
	if !got.SchemaCacheHit {
		t.Errorf("schema cache missed: the second session asked %v", got.SecondActions)
	}
}
