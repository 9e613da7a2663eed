package upload

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/longrun/longrun/jobs"
)

// autoClock jumps forward on every After, like the fake's auto clock.
type autoClock struct{ now atomic.Int64 }

func (c *autoClock) Now() time.Time { return time.Unix(0, c.now.Load()) }
func (c *autoClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	ch <- time.Unix(0, c.now.Add(int64(d)))
	return ch
}

func serveDownload(t *testing.T, body func(w http.ResponseWriter, r *http.Request)) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/_download/") || r.URL.Query().Get("auth_token") == "" {
			w.WriteHeader(404)
			return
		}
		if r.Header.Get("Authorization") != "" {
			t.Errorf("download sent an Authorization header")
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", `attachment; filename="freenas.db"`)
		body(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestDownloadStreamsAndWaits(t *testing.T) {
	payload := bytes.Repeat([]byte("SQLite format 3\x00"), 100000)
	var token string
	srv := serveDownload(t, func(w http.ResponseWriter, r *http.Request) {
		token = r.URL.Query().Get("auth_token")
		for i := 0; i < len(payload); i += 100000 {
			w.Write(payload[i:min(i+100000, len(payload))])
			w.(http.Flusher).Flush()
		}
	})
	conn := downloadStub(86)
	var progress []Progress
	c := newTestClient(t, srv, conn, WithAPIKey("k"))
	var out bytes.Buffer
	res, err := c.Download(context.Background(), "config.save", []any{map[string]any{}}, "freenas.db", &out,
		OnProgress(func(p Progress) { progress = append(progress, p) }))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), payload) || res.Bytes != int64(len(payload)) {
		t.Fatalf("got %d bytes, want %d", out.Len(), len(payload))
	}
	if token != secret || res.JobID != "86" || res.Filename != "freenas.db" || res.Job == nil || res.Job.State != jobs.StateSucceeded {
		t.Fatalf("result %+v (token ok: %v)", res, token == secret)
	}
	if len(progress) == 0 || progress[len(progress)-1].Done != int64(len(payload)) || progress[0].Total != -1 {
		t.Fatalf("progress %v", progress[len(progress)-1])
	}
}

func TestDownloadRefusals(t *testing.T) {
	for status, want := range map[int]error{401: ErrTokenRejected, 404: ErrJobNotFound, 410: ErrDownloadGone, 500: ErrServer} {
		srv := serveDownload(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(status) })
		c := newTestClient(t, srv, downloadStub(5), WithAPIKey("k"))
		_, err := c.Download(context.Background(), "config.save", nil, "f", io.Discard)
		if !errors.Is(err, want) {
			t.Fatalf("%d: got %v, want %v", status, err, want)
		}
		var te *TransferError
		if !errors.As(err, &te) || te.JobID != "5" || te.StatusCode != status {
			t.Fatalf("%d: %#v", status, err)
		}
		if strings.Contains(err.Error(), secret) {
			t.Fatalf("token in error %q", err)
		}
	}
}

func TestDownloadCutConnectionIsAnError(t *testing.T) {
	srv := serveDownload(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write(bytes.Repeat([]byte("x"), 1<<20))
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // cut without the chunked terminator
	})
	c := newTestClient(t, srv, downloadStub(7), WithAPIKey("k"))
	dir := t.TempDir()
	path := filepath.Join(dir, "out.db")
	_, err := c.DownloadFile(context.Background(), "config.save", nil, "f", path)
	if !errors.Is(err, ErrIncomplete) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("got %v", err)
	}
	if strings.Contains(err.Error(), secret) {
		t.Fatalf("token in error %q", err)
	}
	if _, serr := os.Stat(path); !os.IsNotExist(serr) {
		t.Fatalf("a short file was left at %s", path)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

func TestDownloadShortContentLength(t *testing.T) {
	srv := serveDownload(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		w.Write([]byte("only this"))
	})
	c := newTestClient(t, srv, downloadStub(7), WithAPIKey("k"))
	_, err := c.Download(context.Background(), "config.save", nil, "f", io.Discard)
	if !errors.Is(err, ErrIncomplete) {
		t.Fatalf("got %v", err)
	}
}

func TestDownloadJobFailedAfterCleanEnd(t *testing.T) {
	srv := serveDownload(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("half")) })
	conn := downloadStub(11)
	conn.states["11"] = jobs.StateFailed
	c := newTestClient(t, srv, conn, WithAPIKey("k"))
	res, err := c.Download(context.Background(), "filesystem.get", []any{"/x"}, "x", io.Discard)
	if !errors.Is(err, ErrIncomplete) || !errors.Is(err, jobs.ErrJobFailed) {
		t.Fatalf("got %v", err)
	}
	if res == nil || res.Job == nil || res.Job.State != jobs.StateFailed {
		t.Fatalf("result %+v", res)
	}
}

func TestBufferedDownloadWaitsAndRenewsToken(t *testing.T) {
	var token string
	srv := serveDownload(t, func(w http.ResponseWriter, r *http.Request) {
		token = r.URL.Query().Get("auth_token")
		w.Write([]byte("buffered"))
	})
	conn := downloadStub(12)
	clk := &autoClock{}
	c := newTestClient(t, srv, conn, WithAPIKey("k"), WithClock(clk))
	// The job runs for ten minutes of (fake) time: longer than the token lives.
	conn.stateFn = func(string) jobs.State {
		if clk.Now().Before(time.Unix(600, 0)) {
			return jobs.StateRunning
		}
		return jobs.StateSucceeded
	}
	s, err := c.OpenDownload(context.Background(), "config.save", nil, "f", Buffered())
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(s)
	s.Close()
	if err != nil || string(data) != "buffered" {
		t.Fatalf("got %q, %v", data, err)
	}
	if token != secret+"2" || !conn.called("auth.generate_token") {
		t.Fatalf("token was not renewed (used the original: %v)", token == secret)
	}
}

func TestOpenDownloadReadAfterClose(t *testing.T) {
	srv := serveDownload(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("data")) })
	c := newTestClient(t, srv, downloadStub(3), WithAPIKey("k"))
	s, err := c.OpenDownload(context.Background(), "config.save", nil, "f")
	if err != nil {
		t.Fatal(err)
	}
	if s.JobID() != "3" || s.Filename() != "freenas.db" || s.Size() != 4 {
		t.Fatalf("stream %s %q %d", s.JobID(), s.Filename(), s.Size())
	}
	s.Close()
	if _, err := s.Read(make([]byte, 10)); err == nil || err == io.EOF {
		t.Fatalf("read after close: %v", err)
	}
}

func TestNewDerivesHTTPBase(t *testing.T) {
	for in, want := range map[string]string{
		"ws://nas.local/api/current":        "http://nas.local",
		"wss://nas.local:8443/api/v25.10.0": "https://nas.local:8443",
		"https://nas.local/":                "https://nas.local",
		"http://10.0.0.2/proxy/api/current": "http://10.0.0.2/proxy",
	} {
		c, err := New(in, newStub(nil))
		if err != nil {
			t.Fatal(err)
		}
		if got := c.BaseURL().String(); got != want {
			t.Errorf("%s: got %s, want %s", in, got, want)
		}
	}
	if _, err := New("ftp://x", newStub(nil)); err == nil {
		t.Error("ftp accepted")
	}
	if _, err := New("http://x", nil); err == nil {
		t.Error("nil conn accepted")
	}
}
