package truenas_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/fake/sim"
	"github.com/longrun/longrun/fake/truenas"
)

// spoolFiles counts the temporary files in dir.
func spoolFiles(t *testing.T, dir string) int {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// pattern is n bytes of a pattern that starts at seed.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i%239)
	}
	return b
}

// put runs filesystem.put(path, opts) through POST /_upload and waits for
// its job, which must succeed.
func put(t *testing.T, srv *fake.Server, path string, opts map[string]any, content []byte) {
	t.Helper()
	data, _ := json.Marshal(map[string]any{"method": "filesystem.put", "params": []any{path, opts}})
	var body bytes.Buffer
	fmt.Fprintf(&body, "--XX\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n%s\r\n", data)
	body.WriteString("--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\r\n")
	body.Write(content)
	body.WriteString("\r\n--XX--\r\n")
	req, _ := http.NewRequest(http.MethodPost, srv.URL()+"/_upload", &body)
	req.Header.Set("Content-Type", "multipart/form-data; boundary=XX")
	req.Header.Set("Authorization", "Bearer 1-longrunfakeapikey")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var res struct {
		JobID int `json:"job_id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil || resp.StatusCode != 200 {
		t.Fatalf("upload: %d %v", resp.StatusCode, err)
	}
	job, ok := srv.TrueNAS().JobByID(res.JobID)
	if !ok {
		t.Fatal("no upload job")
	}
	if _, err := job.Wait(context.Background()); err != nil {
		t.Fatalf("filesystem.put: %v", err)
	}
}

// File contents past the spool's memory live in temporary files, one per
// file: replacing a file removes the old one's, an append makes one file
// of both, a small file stays in memory, a buffered download has its own
// until it is fetched or expires, a file removed while a download streams
// it stays until the download is done, and closing the fake removes them
// all.
func TestFilesSpoolToTemporaryFilesAndRemoveThem(t *testing.T) {
	srv, clk, conn := filesEnv(t)
	files := srv.TrueNASFiles()
	dir := t.TempDir()
	files.SetSpool(1024, dir)
	const a = "/mnt/tank/a.bin"

	first := pattern(64<<10, 1)
	put(t, srv, a, map[string]any{}, first)
	if got, _ := files.ReadFile(a); !bytes.Equal(got, first) || spoolFiles(t, dir) != 1 {
		t.Fatalf("after the first put: %d bytes, %d temporary files", len(got), spoolFiles(t, dir))
	}
	second := pattern(32<<10, 7)
	put(t, srv, a, map[string]any{}, second)
	if got, _ := files.ReadFile(a); !bytes.Equal(got, second) || spoolFiles(t, dir) != 1 {
		t.Fatalf("after overwriting: %d bytes, %d temporary files", len(got), spoolFiles(t, dir))
	}
	tail := pattern(16<<10, 9)
	put(t, srv, a, map[string]any{"append": true}, tail)
	want := append(append([]byte(nil), second...), tail...)
	if got, _ := files.ReadFile(a); !bytes.Equal(got, want) || spoolFiles(t, dir) != 1 {
		t.Fatalf("after appending: %d bytes, %d temporary files", len(got), spoolFiles(t, dir))
	}
	if n, _ := files.FileSize(a); n != int64(len(want)) {
		t.Fatalf("FileSize %d, want %d", n, len(want))
	}
	put(t, srv, "/mnt/tank/small", map[string]any{}, []byte("small"))
	if got, _ := files.ReadFile("/mnt/tank/small"); string(got) != "small" || spoolFiles(t, dir) != 1 {
		t.Fatalf("small file: %q, %d temporary files", got, spoolFiles(t, dir))
	}

	// A buffered download spools the job's output until the GET.
	id, path := coreDownload(t, conn, "filesystem.get", []any{a}, "a.bin", true)
	job, _ := srv.TrueNAS().JobByID(id)
	if _, err := job.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := spoolFiles(t, dir); n != 2 {
		t.Fatalf("%d temporary files with a buffered download waiting, want 2", n)
	}
	if status, _, body := get(t, srv.URL()+path); status != 200 || body != string(want) {
		t.Fatalf("buffered download: %d, %d bytes", status, len(body))
	}
	if n := spoolFiles(t, dir); n != 1 {
		t.Fatalf("%d temporary files after the buffered download, want 1", n)
	}

	// One that is never fetched goes when its BufferedDownloadKeep ends.
	id, _ = coreDownload(t, conn, "filesystem.get", []any{a}, "a.bin", true)
	job, _ = srv.TrueNAS().JobByID(id)
	if _, err := job.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := spoolFiles(t, dir); n != 2 {
		t.Fatalf("%d temporary files with a buffered download waiting, want 2", n)
	}
	clk.Advance(truenas.BufferedDownloadKeep + time.Second)
	if n := spoolFiles(t, dir); n != 1 {
		t.Fatalf("%d temporary files after the buffered download expired, want 1", n)
	}

	// A file removed while an (unbuffered) download sends it is sent
	// whole, then its storage goes.
	_, path = coreDownload(t, conn, "filesystem.get", []any{a}, "a.bin", false)
	if !files.RemoveFile(a) || files.RemoveFile(a) {
		t.Fatal("RemoveFile")
	}
	if _, ok := files.FileSize(a); ok {
		t.Fatal("the removed file is still listed")
	}
	if n := spoolFiles(t, dir); n != 1 {
		t.Fatalf("%d temporary files while the removed file is sent, want 1", n)
	}
	if status, _, body := get(t, srv.URL()+path); status != 200 || body != string(want) {
		t.Fatalf("download of a removed file: %d, %d bytes", status, len(body))
	}
	if n := spoolFiles(t, dir); n != 0 {
		t.Fatalf("%d temporary files after the removed file was sent, want 0", n)
	}

	put(t, srv, a, map[string]any{}, first)
	if err := files.WriteFile("/mnt/tank/b.bin", pattern(4096, 3)); err != nil {
		t.Fatal(err)
	}
	if n := spoolFiles(t, dir); n != 2 {
		t.Fatalf("%d temporary files, want 2", n)
	}
	conn.Close()
	srv.Close()
	if n := spoolFiles(t, dir); n != 0 {
		t.Fatalf("%d temporary files after the fake closed, want 0", n)
	}
	if _, ok := files.ReadFile(a); ok {
		t.Fatal("a closed fake still has files")
	}
}

// A filesystem.put whose job is aborted mid-upload keeps nothing: the
// file is not replaced and the partial content's storage is removed.
func TestFilesAbortedPutLeavesNoTemporaryFile(t *testing.T) {
	srv, _, conn := filesEnv(t)
	files := srv.TrueNASFiles()
	dir := t.TempDir()
	files.SetSpool(1024, dir)
	// Feed the upload by hand so the job can be aborted while it reads.
	pr, pw := io.Pipe()
	data := `{"method": "filesystem.put", "params": ["/mnt/tank/c.bin", {}]}`
	go func() {
		fmt.Fprintf(pw, "--XX\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n%s\r\n", data)
		fmt.Fprint(pw, "--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\r\n")
		_, _ = pw.Write(pattern(8<<10, 5))
		// The rest of the body never comes until the test ends it.
	}()
	req, _ := http.NewRequest(http.MethodPost, srv.URL()+"/_upload", pr)
	req.Header.Set("Content-Type", "multipart/form-data; boundary=XX")
	req.Header.Set("Authorization", "Bearer 1-longrunfakeapikey")
	done := make(chan struct{})
	go func() {
		defer close(done)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	// Wait until the job has spooled what was sent (it spills past 1 KiB).
	for spoolFiles(t, dir) == 0 {
		runtime.Gosched()
	}
	var jobs []struct {
		ID int `json:"id"`
	}
	if err := conn.Call(context.Background(), "core.get_jobs", []any{[]any{[]any{"method", "=", "filesystem.put"}}}, &jobs); err != nil || len(jobs) != 1 {
		t.Fatalf("core.get_jobs: %v %v", jobs, err)
	}
	if err := conn.Call(context.Background(), "core.job_abort", []any{jobs[0].ID}, nil); err != nil {
		t.Fatal(err)
	}
	job, _ := srv.TrueNAS().JobByID(jobs[0].ID)
	<-job.Done()
	if st := job.State(); st != truenas.StateAborted {
		t.Fatalf("state %v", st)
	}
	if n := spoolFiles(t, dir); n != 0 {
		t.Fatalf("%d temporary files after the aborted put, want 0", n)
	}
	if _, ok := files.FileSize("/mnt/tank/c.bin"); ok {
		t.Fatal("the aborted put created the file")
	}
	pw.CloseWithError(io.ErrUnexpectedEOF)
	<-done
}

// Closing the Backend alone (without its Files) removes the files too.
func TestFilesRemovedWhenBackendCloses(t *testing.T) {
	b := truenas.New(sim.NewEnv(sim.NewClock(sim.Epoch), nil, nil))
	files := truenas.NewFiles(b)
	dir := t.TempDir()
	files.SetSpool(16, dir)
	if err := files.WriteFile("/mnt/tank/x", []byte(strings.Repeat("x", 100))); err != nil {
		t.Fatal(err)
	}
	if n := spoolFiles(t, dir); n != 1 {
		t.Fatalf("%d temporary files, want 1", n)
	}
	b.Close()
	// The Backend closes its Files on its own goroutine.
	for spoolFiles(t, dir) != 0 {
		runtime.Gosched()
	}
	if _, ok := files.ReadFile("/mnt/tank/x"); ok {
		t.Fatal("files kept after Backend.Close")
	}
}
