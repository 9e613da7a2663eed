package truenas_test

import (
	"context"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/fake/sim"
	"github.com/longrun/longrun/fake/truenas"
	"github.com/longrun/longrun/rpc"
)

// filesEnv is a fake on a manual clock with an rpc connection.
func filesEnv(t *testing.T) (*fake.Server, *sim.Clock, *rpc.Conn) {
	t.Helper()
	clk := sim.NewClock(sim.Epoch)
	srv := fake.NewServer(t, fake.Options{Clock: clk})
	conn, err := rpc.Dial(context.Background(), srv.WebsocketURL(), rpc.WithAPIKey("admin", "1-longrunfakeapikey"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return srv, clk, conn
}

func coreDownload(t *testing.T, conn *rpc.Conn, method string, args []any, name string, buffered bool) (int, string) {
	t.Helper()
	var res []any
	if err := conn.Call(context.Background(), "core.download", []any{method, args, name, buffered}, &res); err != nil {
		t.Fatal(err)
	}
	return int(res[0].(float64)), res[1].(string)
}

func get(t *testing.T, url string) (int, http.Header, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(body)
}

func TestDownloadHeaders(t *testing.T) {
	srv, _, conn := filesEnv(t)
	_, path := coreDownload(t, conn, "test.test_download_pipe", []any{map[string]any{"key": "value"}}, "file.bin", false)
	status, h, body := get(t, srv.URL()+path)
	if status != 200 || body != `{"key": "value"}` {
		t.Fatalf("%d %q", status, body)
	}
	if h.Get("Content-Type") != "application/octet-stream" || h.Get("Content-Disposition") != `attachment; filename="file.bin"` {
		t.Fatalf("headers %v", h)
	}
	if h.Get("Content-Length") != "" {
		t.Fatalf("the middleware streams chunked, got Content-Length %s", h.Get("Content-Length"))
	}
}

// The real middleware serves a buffered download as far as its temporary
// file is written: a GET before the job ended gets a short file (its own
// test expects "" for a slow job fetched at once).
func TestBufferedEarlyGetIsShort(t *testing.T) {
	srv, _, conn := filesEnv(t)
	_, path := coreDownload(t, conn, "test.test_download_slow_pipe", []any{map[string]any{"key": "value"}}, "file.bin", true)
	status, _, body := get(t, srv.URL()+path)
	if status != 200 || body != "" {
		t.Fatalf("%d %q", status, body)
	}
}

// A buffered download outlives its token: after 300 s the token is
// refused, a fresh one from auth.generate_token with the job's attributes
// works, and after 3600 s the download is gone.
func TestBufferedTokenExpiryAndRenewal(t *testing.T) {
	srv, clk, conn := filesEnv(t)
	id, path := coreDownload(t, conn, "test.test_download_slow_pipe", []any{"x"}, "file.bin", true)
	clk.Advance(truenas.DownloadTokenTTL + time.Second)
	job, ok := srv.TrueNAS().JobByID(id)
	if !ok {
		t.Fatal("no job")
	}
	if _, err := job.Wait(context.Background()); err != nil { // the job has written its file
		t.Fatal(err)
	}
	if status, _, _ := get(t, srv.URL()+path); status != http.StatusUnauthorized {
		t.Fatalf("expired token: %d", status)
	}
	var tok string
	if err := conn.Call(context.Background(), "auth.generate_token", []any{300, map[string]any{"job": id, "filename": "file.bin"}, true, true}, &tok); err != nil {
		t.Fatal(err)
	}
	fresh := strings.SplitN(path, "?", 2)[0] + "?auth_token=" + tok
	status, _, body := get(t, srv.URL()+fresh)
	if status != 200 || body != `"x"` {
		t.Fatalf("renewed: %d %q", status, body)
	}

	id2, path2 := coreDownload(t, conn, "test.test_download_pipe", []any{"y"}, "f", true)
	clk.Advance(truenas.BufferedDownloadKeep + time.Second)
	if err := conn.Call(context.Background(), "auth.generate_token", []any{300, map[string]any{"job": id2, "filename": "f"}, true, true}, &tok); err != nil {
		t.Fatal(err)
	}
	if status, _, _ := get(t, srv.URL()+strings.SplitN(path2, "?", 2)[0]+"?auth_token="+tok); status != http.StatusGone {
		t.Fatalf("after 3600 s: %d", status)
	}
}

// A download token carries attributes, so /_upload refuses it (403) and
// does not use it up.
func TestDownloadTokenRefusedForUpload(t *testing.T) {
	srv, _, conn := filesEnv(t)
	_, path := coreDownload(t, conn, "test.test_download_pipe", []any{"z"}, "f", false)
	tok := strings.SplitN(path, "auth_token=", 2)[1]
	body := "--XX\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n{\"method\": \"test.test_input_pipe\", \"params\": [1]}\r\n" +
		"--XX\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nA\r\n--XX--\r\n"
	req, _ := http.NewRequest(http.MethodPost, srv.URL()+"/_upload?auth_token="+tok, strings.NewReader(body))
	req.Header.Set("Content-Type", "multipart/form-data; boundary=XX")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || string(msg) != "Invalid token" {
		t.Fatalf("%d %q", resp.StatusCode, msg)
	}
	if status, _, got := get(t, srv.URL()+path); status != 200 || got != `"z"` {
		t.Fatalf("the download token was used up: %d %q", status, got)
	}
}

// An upload authenticated by a single-use token from auth.generate_token
// works once.
func TestUploadTokenSingleUse(t *testing.T) {
	srv, _, conn := filesEnv(t)
	var tok string
	if err := conn.Call(context.Background(), "auth.generate_token", []any{300, map[string]any{}, true, true}, &tok); err != nil {
		t.Fatal(err)
	}
	post := func() int {
		body := "--XX\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n{\"method\": \"test.test_input_pipe\", \"params\": [1]}\r\n" +
			"--XX\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nA\r\n--XX--\r\n"
		req, _ := http.NewRequest(http.MethodPost, srv.URL()+"/_upload", strings.NewReader(body))
		req.Header.Set("Content-Type", "multipart/form-data; boundary=XX")
		req.Header.Set("Authorization", "Token "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := post(); got != 200 {
		t.Fatalf("first: %d", got)
	}
	if got := post(); got != http.StatusForbidden {
		t.Fatalf("second: %d", got)
	}
}

// Closing the fake with a download job still waiting for its GET must not
// hang.
func TestCloseWithPendingDownload(t *testing.T) {
	srv, _, conn := filesEnv(t)
	coreDownload(t, conn, "config.save", []any{}, "a.db", false)
	if srv.TrueNASFiles().PendingDownloads() != 1 {
		t.Fatal("no pending download")
	}
	conn.Close()
	done := make(chan struct{})
	go func() { srv.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second): // a hang guard, not a timing assertion
		t.Fatal("Close hangs")
	}
}

// Closing the fake while a download waits for a job that has not written
// anything yet must not hang.
func TestCloseDuringBlockedDownload(t *testing.T) {
	srv, _, conn := filesEnv(t)
	_, path := coreDownload(t, conn, "test.test_download_slow_pipe", []any{"x"}, "f", false)
	got := make(chan error, 1)
	go func() {
		resp, err := http.Get(srv.URL() + path)
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		got <- err
	}()
	// Wait until the GET has taken the download (the clock never moves,
	// so the job never writes).
	for srv.TrueNASFiles().PendingDownloads() != 0 {
		runtime.Gosched()
	}
	conn.Close()
	done := make(chan struct{})
	go func() { srv.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second): // a hang guard, not a timing assertion
		t.Fatal("Close hangs")
	}
	<-got
}
