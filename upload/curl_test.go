package upload_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/upload"
)

// TestCurlCompare times curl and this package against the same
// in-process fake, for the numbers in the closing note. It only
// reports (t.Log); it asserts nothing about speed. Run it with
//
//	LONGRUN_CURL=1 go test -run TestCurlCompare -v ./upload
//
// (LONGRUN_CURL_MIB sets the size, 256 by default).
func TestCurlCompare(t *testing.T) {
	if os.Getenv("LONGRUN_CURL") != "1" {
		t.Skip("set LONGRUN_CURL=1 to time curl against the fake")
	}
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed")
	}
	mib := int64(256)
	if v := os.Getenv("LONGRUN_CURL_MIB"); v != "" {
		fmt.Sscan(v, &mib)
	}
	size := mib << 20
	e := setup(t)
	e.files.AddSink("/mnt/sink")
	e.files.AddGeneratedFile("/mnt/gen", size)
	ctx := context.Background()
	rate := func(d time.Duration) string { return fmt.Sprintf("%.0f MB/s", float64(size)/d.Seconds()/1e6) }

	// Download: curl -o against a core.download URL.
	var ticket []any
	if err := e.conn.Call(ctx, "core.download", []any{"filesystem.get", []any{"/mnt/gen"}, "gen"}, &ticket); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	out, err := exec.Command(curl, "-sS", "-f", "-o", "/dev/null", "-w", "%{size_download}",
		e.srv.URL()+ticket[1].(string)).CombinedOutput()
	curlDown := time.Since(start)
	if err != nil || strings.TrimSpace(string(out)) != fmt.Sprint(size) {
		t.Fatalf("curl download: %v %s", err, out)
	}
	start = time.Now()
	if _, err := e.c.Download(ctx, "filesystem.get", []any{"/mnt/gen"}, "gen", io.Discard); err != nil {
		t.Fatal(err)
	}
	goDown := time.Since(start)

	// Upload: curl -F from a file on disk.
	path := filepath.Join(t.TempDir(), "blob")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, &patternReader{size: size}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	start = time.Now()
	out, err = exec.Command(curl, "-sS", "-f", "-H", "Authorization: Bearer "+apiKey,
		"-F", `data={"method": "filesystem.put", "params": ["/mnt/sink"]}`, "-F", "file=@"+path,
		e.srv.URL()+"/_upload").CombinedOutput()
	if err != nil {
		t.Fatalf("curl upload: %v %s", err, out)
	}
	var reply struct {
		JobID int64 `json:"job_id"`
	}
	if err := json.Unmarshal(out, &reply); err != nil {
		t.Fatalf("curl upload reply %q", out)
	}
	if _, err := jobs.Wait(ctx, e.conn, fmt.Sprint(reply.JobID), jobs.WithClock(e.srv.Clock())); err != nil {
		t.Fatal(err)
	}
	curlUp := time.Since(start)
	file, err := upload.FromPath(path)
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	if _, err := e.c.Upload(ctx, "filesystem.put", []any{"/mnt/sink"}, file); err != nil {
		t.Fatal(err)
	}
	goUp := time.Since(start)
	t.Logf("%d MiB download: curl -o %v (%s), upload.Download %v (%s)", mib, curlDown, rate(curlDown), goDown, rate(goDown))
	t.Logf("%d MiB upload:   curl -F %v (%s), upload.Upload %v (%s)", mib, curlUp, rate(curlUp), goUp, rate(goUp))
}
