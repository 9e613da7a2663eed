package fake_test

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
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
	node, dir := ftrackJS(t)
	srv := fake.NewServer(t, fake.Options{})
	script, _ := filepath.Abs("testdata/ftrack_js_client.cjs")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script, srv.URL(), "admin", "1-longrunfakeapikey")
	cmd.Env = append(os.Environ(), "FTRACK_JS_DIR="+dir)
	out := runReference(t, cmd)
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

// TestFtrackReferenceJavaScriptMultipartUpload has ftrack's JavaScript
// client attach a 40 MiB file to a job through its multipart path (5 parts
// of 8 MiB, up to 6 at once, complete_multipart_upload) and read it back
// through its component URL: byte-identical. The client's uploader runs
// on Node with two browser stand-ins (window, XMLHttpRequest over fetch);
// see testdata/ftrack_js_upload.cjs.
func TestFtrackReferenceJavaScriptMultipartUpload(t *testing.T) {
	node, dir := ftrackJS(t)
	data := make([]byte, 40<<20)
	for i := range data {
		data[i] = byte(i*131 + i>>11)
	}
	file := filepath.Join(t.TempDir(), "render.exr")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	srv := fake.NewServer(t, fake.Options{})
	script, _ := filepath.Abs("testdata/ftrack_js_upload.cjs")
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script, srv.URL(), "admin", "1-longrunfakeapikey", file)
	cmd.Env = append(os.Environ(), "FTRACK_JS_DIR="+dir)
	out := runReference(t, cmd)
	t.Logf("reference client saw: %s", out)
	var got struct {
		ComponentID, JobID, UploadID string
		Multipart                    bool
		Puts, MaxInFlight            int
		LocationEntity               string
		Attached                     []struct {
			ID, Name, Type string
			Size           int64
		}
		Status int
		Size   int64
		SHA256 string
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	sum := sha256.Sum256(data)
	if got.Status != 200 || got.Size != int64(len(data)) || got.SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("read back: status %d, %d bytes, sha256 %s", got.Status, got.Size, got.SHA256)
	}
	// 40 MiB in the client's 8 MiB parts: 5 PUTs (the uploader empties
	// the metadata's list of URLs as it sends them).
	if !got.Multipart || got.Puts != 5 || got.MaxInFlight > 6 || got.UploadID == "" || got.LocationEntity != "ComponentLocation" {
		t.Errorf("upload: multipart %v, %d PUTs, %d at once, upload id %q, %s", got.Multipart, got.Puts, got.MaxInFlight, got.UploadID, got.LocationEntity)
	}
	if len(got.Attached) != 1 || got.Attached[0].ID != got.ComponentID || got.Attached[0].Name != "render" || got.Attached[0].Type != ".exr" || got.Attached[0].Size != int64(len(data)) {
		t.Errorf("attachment %+v", got.Attached)
	}
	size, md5sum, ok := srv.Ftrack().File(got.ComponentID)
	want := md5.Sum(data)
	if !ok || size != int64(len(data)) || md5sum != base64.StdEncoding.EncodeToString(want[:]) {
		t.Errorf("the fake stored %d bytes, md5 %s", size, md5sum)
	}
}

// ftrackJS is node and the directory @ftrack/api is installed under
// ($LONGRUN_FTRACK_JS_DIR); it skips the test, with the reason, without
// them.
func ftrackJS(t *testing.T) (node, dir string) {
	dir = os.Getenv("LONGRUN_FTRACK_JS_DIR")
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
	return node, dir
}

// runReference runs a reference client and returns its standard output;
// the test fails with both outputs when the client does.
func runReference(t *testing.T, cmd *exec.Cmd) []byte {
	t.Helper()
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("reference client failed: %v\n%s\n%s", err, out, stderr)
	}
	return out
}
