package upload_test

import (
	"context"
	"encoding/json"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// peerScript replays the middleware's own integration tests
// (tests/api2/test_upload.py and test_download.py) with python3-requests
// against the fake: the reference HTTP client, not ours.
const peerScript = `
import io, json, sys
import requests

base, job_path = sys.argv[1], sys.argv[2]

r = requests.post(base + "/_upload", auth=("admin", "secret"), files={
    "data": (None, io.StringIO(json.dumps({"method": "test.test_input_pipe", "params": [{"key": "value"}]}))),
    "file": (None, io.StringIO("FILE")),
})
r.raise_for_status()
upload_job = r.json()["job_id"]

r = requests.get(base + job_path)
r.raise_for_status()
assert r.headers["Content-Disposition"] == 'attachment; filename="file.bin"', r.headers
assert r.headers["Content-Type"] == "application/octet-stream", r.headers
assert r.text == '{"key": "value"}', r.text

r2 = requests.get(base + job_path)
assert r2.status_code == 401, r2.status_code

print(json.dumps({"upload_job": upload_job}))
`

func TestPythonRequestsPeer(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed (apt-get install python3 python3-requests)")
	}
	if err := exec.Command(py, "-c", "import requests").Run(); err != nil {
		t.Skip("python3-requests is not installed (apt-get install python3-requests)")
	}
	e := setup(t)
	ctx := context.Background()
	var ticket []any
	if err := e.conn.Call(ctx, "core.download", []any{"test.test_download_pipe", []any{map[string]any{"key": "value"}}, "file.bin"}, &ticket); err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(ctx, py, "-c", peerScript, e.srv.URL(), ticket[1].(string)).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	var got struct {
		UploadJob int64 `json:"upload_job"`
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &got); err != nil || got.UploadJob == 0 {
		t.Fatalf("python said %s", out)
	}
	var result string
	if err := e.conn.JobWait(ctx, strconv.FormatInt(got.UploadJob, 10), &result); err != nil {
		t.Fatal(err)
	}
	if result != `{"key": "value"}FILE` {
		t.Fatalf("job result %q", result)
	}
}
