package fake

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestAPanickingHandlerAnswers500AndTheServerLivesOn(t *testing.T) {
	var logs syncBuffer
	srv := NewServer(t, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	mux := srv.set.Load().mux
	mux.HandleFunc("/boom", func(http.ResponseWriter, *http.Request) { panic("kaboom") })
	mux.HandleFunc("/boom-late", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("partial"))
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		panic("late kaboom")
	})

	resp, err := http.Get(srv.URL() + "/boom")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, 500, resp.StatusCode)
	assert.Contains(t, string(body), "kaboom")
	assert.Contains(t, logs.String(), "handler panicked")
	assert.Contains(t, logs.String(), "control_internal_test.go", "the stack is in the log")

	// A panic after the reply started cuts the connection.
	resp, err = http.Get(srv.URL() + "/boom-late")
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	assert.Error(t, err)

	// The process and the server live on.
	for range 3 {
		resp, err = http.Get(srv.URL() + "/_fake/health")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 200, resp.StatusCode)
	}
	log := srv.Requests()
	require.Len(t, log, 2)
	assert.Equal(t, 500, log[0].Status)
}

func TestBodyLimitOnAPIRoutesOnly(t *testing.T) {
	srv := NewServer(t, Options{MaxBodyBytes: 1024})
	var got error
	srv.set.Load().mux.HandleFunc("/v1/limit", func(w http.ResponseWriter, r *http.Request) {
		_, got = io.ReadAll(r.Body)
	})
	var streamed int
	srv.set.Load().mux.HandleFunc("/_upload/limit", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		streamed = len(b)
	})
	resp, err := http.Post(srv.URL()+"/v1/limit", "application/json", strings.NewReader(strings.Repeat("x", 2048)))
	require.NoError(t, err)
	resp.Body.Close()
	var mbe *http.MaxBytesError
	assert.ErrorAs(t, got, &mbe)
	resp, err = http.Post(srv.URL()+"/_upload/limit", "application/octet-stream", strings.NewReader(strings.Repeat("x", 4096)))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 4096, streamed, "streaming routes have no body limit")
}

func TestDialectOfAndStreaming(t *testing.T) {
	for path, want := range map[string]string{
		"/api/2.0/jobs/": DialectCloudSigma, "/api/current": DialectTrueNAS, "/websocket": DialectTrueNAS, "/api/v25.10.0": DialectTrueNAS,
		"/_upload": DialectTrueNAS, "/_download/12": DialectTrueNAS, "/v1/jobs": DialectFreezer,
		"/v2/p/jobs": DialectFreezer, "/v3/auth/tokens": DialectKeystone, "/api": DialectFtrack,
		"/ftrack-fake/upload/x": DialectFtrack, "/component/get": DialectFtrack, "/": "", "/_fake/clock": "",
	} {
		assert.Equal(t, want, DialectOf(path), path)
	}
	req := func(path string, upgrade bool) *http.Request {
		r, _ := http.NewRequest("GET", "http://fake"+path, nil)
		if upgrade {
			r.Header.Set("Upgrade", "websocket")
		}
		return r
	}
	for _, p := range []string{"/api/current", "/websocket", "/_download/3", "/ftrack-fake/upload/x", "/api/2.0/websocket"} {
		assert.False(t, bounded(req(p, false)), p)
	}
	for _, p := range []string{"/api/2.0/jobs/", "/api", "/v3/auth/tokens", "/v1/jobs"} {
		assert.True(t, bounded(req(p, false)), p)
	}
	assert.False(t, bounded(req("/api/2.0/jobs/", true)), "an upgrade is never bounded")
}

func TestRequestLogIsABoundedRing(t *testing.T) {
	l := newRequestLog(3)
	for i := range 5 {
		l.add(RequestRecord{Path: string(rune('a' + i))})
	}
	got := l.list("", 0)
	require.Len(t, got, 3)
	assert.Equal(t, []string{"c", "d", "e"}, []string{got[0].Path, got[1].Path, got[2].Path})
	assert.Equal(t, uint64(5), got[2].Seq)
	assert.Len(t, l.list("", 4), 1)
	off := newRequestLog(0)
	off.add(RequestRecord{})
	assert.Empty(t, off.list("", 0))
}
