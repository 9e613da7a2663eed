package upload

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/longrun/longrun/jobs"
)

const secret = "SeCrEtToKeN0123456789"

// stubConn is a scripted middleware connection.
type stubConn struct {
	mu     sync.Mutex
	calls  []string
	handle func(method string, params []any) (any, error)
	states map[string]jobs.State
	// stateFn, when set, decides each job's state.
	stateFn func(id string) jobs.State
}

func (s *stubConn) Call(_ context.Context, method string, params []any, result any) error {
	s.mu.Lock()
	s.calls = append(s.calls, method)
	h := s.handle
	s.mu.Unlock()
	v, err := h(method, params)
	if err != nil {
		return err
	}
	if result == nil {
		return nil
	}
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, result)
}

func (s *stubConn) Fetch(_ context.Context, ids ...string) ([]*jobs.Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*jobs.Job
	for _, id := range ids {
		st, ok := s.states[id]
		if !ok {
			st = jobs.StateSucceeded
		}
		if s.stateFn != nil {
			st = s.stateFn(id)
		}
		out = append(out, &jobs.Job{ID: id, Dialect: "truenas", State: st, RawState: strings.ToUpper(string(st))})
	}
	return out, nil
}

func (s *stubConn) called(method string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.calls {
		if c == method {
			return true
		}
	}
	return false
}

func newStub(handle func(method string, params []any) (any, error)) *stubConn {
	return &stubConn{handle: handle, states: map[string]jobs.State{}}
}

func downloadStub(id int64) *stubConn {
	return newStub(func(method string, params []any) (any, error) {
		switch method {
		case "core.download":
			return []any{id, "/_download/" + strconv.FormatInt(id, 10) + "?auth_token=" + secret}, nil
		case "auth.generate_token":
			return secret + "2", nil
		}
		return nil, fmt.Errorf("unexpected call %s", method)
	})
}

func newTestClient(t *testing.T, srv *httptest.Server, conn Conn, opts ...Option) *Client {
	t.Helper()
	c, err := New(srv.URL, conn, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// readUpload parses an /_upload request the way the middleware does.
func readUpload(r *http.Request) (data map[string]any, files [][]byte, err error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return nil, nil, fmt.Errorf("content type %q", r.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	for i := 0; ; i++ {
		p, err := mr.NextPart()
		if err == io.EOF {
			return data, files, nil
		}
		if err != nil {
			return nil, nil, err
		}
		b, err := io.ReadAll(p)
		if err != nil {
			return nil, nil, err
		}
		if i == 0 {
			if p.FormName() != "data" {
				return nil, nil, fmt.Errorf("first part %q", p.FormName())
			}
			if err := json.Unmarshal(b, &data); err != nil {
				return nil, nil, err
			}
			continue
		}
		if p.FormName() != "file" {
			return nil, nil, fmt.Errorf("part %d named %q", i, p.FormName())
		}
		files = append(files, b)
	}
}

func TestSendStreamsMultipartWithLength(t *testing.T) {
	var got struct {
		data   map[string]any
		files  [][]byte
		length int64
		auth   string
		chunk  []string
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/_upload" || r.Method != http.MethodPost {
			http.Error(w, "wrong route", 404)
			return
		}
		got.length, got.auth, got.chunk = r.ContentLength, r.Header.Get("Authorization"), r.TransferEncoding
		var err error
		got.data, got.files, err = readUpload(r)
		if err != nil {
			http.Error(w, err.Error(), 405)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"job_id": 42}`)
	}))
	defer srv.Close()
	var last Progress
	c := newTestClient(t, srv, newStub(nil), WithAPIKey("1-key"), WithProgress(func(p Progress) { last = p }))
	big := bytes.Repeat([]byte("0123456789abcdef"), 40000)
	res, err := c.Send(context.Background(), "filesystem.put", []any{"/mnt/tank/x", map[string]any{"append": false}},
		FromBytes("x.bin", big), FromReader("y", strings.NewReader("second")))
	if err != nil {
		t.Fatal(err)
	}
	if res.JobID != "42" || res.Bytes != int64(len(big)+6) {
		t.Fatalf("result %+v", res)
	}
	if got.data["method"] != "filesystem.put" || len(got.files) != 2 || !bytes.Equal(got.files[0], big) || string(got.files[1]) != "second" {
		t.Fatalf("server saw data %v and %d files", got.data, len(got.files))
	}
	if got.length <= int64(len(big)) || len(got.chunk) != 0 {
		t.Fatalf("want a Content-Length body, got length %d, transfer encoding %v", got.length, got.chunk)
	}
	if got.auth != "Bearer 1-key" {
		t.Fatalf("authorization %q", got.auth)
	}
	if last.Done != res.Bytes || last.Total != res.Bytes || last.Name != "y" {
		t.Fatalf("last progress %+v", last)
	}
}

func TestSendUnknownSizeIsChunked(t *testing.T) {
	var length int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		length = r.ContentLength
		_, files, err := readUpload(r)
		if err != nil || len(files) != 1 || string(files[0]) != "abc" {
			http.Error(w, fmt.Sprint(err), 405)
			return
		}
		io.WriteString(w, `{"job_id": 3, "extra": true}`)
	}))
	defer srv.Close()
	c := newTestClient(t, srv, newStub(nil), WithBasicAuth("admin", "pw"))
	res, err := c.Send(context.Background(), "config.upload", nil, File{Name: "c.db", Reader: io.MultiReader(strings.NewReader("abc"))})
	if err != nil {
		t.Fatal(err)
	}
	if res.JobID != "3" || length != -1 {
		t.Fatalf("job %s, length %d", res.JobID, length)
	}
}

func TestSendDefaultAuthMintsToken(t *testing.T) {
	var auth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, `{"job_id": 1}`)
	}))
	defer srv.Close()
	var gotParams []any
	conn := newStub(func(method string, params []any) (any, error) {
		if method != "auth.generate_token" {
			return nil, fmt.Errorf("unexpected %s", method)
		}
		gotParams = params
		return secret, nil
	})
	c := newTestClient(t, srv, conn)
	if _, err := c.Send(context.Background(), "config.upload", nil, FromBytes("a", []byte("x"))); err != nil {
		t.Fatal(err)
	}
	if auth != "Token "+secret {
		t.Fatalf("authorization %q", auth)
	}
	if len(gotParams) != 4 || gotParams[0] != 300 || gotParams[3] != true {
		t.Fatalf("auth.generate_token params %v", gotParams)
	}
}

func TestUploadRefusals(t *testing.T) {
	cases := []struct {
		status int
		body   string
		want   error
	}{
		{405, "No part found on payload", ErrBadPartOrder},
		{405, `"data" part must be the first on payload`, ErrBadPartOrder},
		{405, `"file" not found as second part on payload`, ErrBadPartOrder},
		{405, "Unknown payload part 'other'", ErrBadPartOrder},
		{405, "Too many uploaded files", ErrTooManyFiles},
		{400, "Expecting value: line 1 column 1 (char 0)", ErrBadRequest},
		{422, "[ENOMETHOD] Method 'nope' not found in 'config'", ErrUnknownMethod},
		{401, "Bad username or password", ErrUnauthorized},
		{403, "Invalid token", ErrForbidden},
		{412, "[EFAULT] something", ErrCallFailed},
		{500, "boom", ErrServer},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%d %s", tc.status, tc.body), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body+" auth_token="+secret)
			}))
			defer srv.Close()
			c := newTestClient(t, srv, newStub(nil), WithAPIKey(secret))
			_, err := c.Send(context.Background(), "config.upload", nil, FromBytes("a", bytes.Repeat([]byte("z"), 64<<10)))
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			var te *TransferError
			if !errors.As(err, &te) || te.StatusCode != tc.status {
				t.Fatalf("not a TransferError with status %d: %#v", tc.status, err)
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("secret in error: %v", err)
			}
		})
	}
}

func TestSendTooManyFilesClientSide(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("the request should not be sent")
	}))
	defer srv.Close()
	c := newTestClient(t, srv, newStub(nil), WithAPIKey("k"))
	files := make([]File, MaxFiles+1)
	for i := range files {
		files[i] = FromBytes("f", []byte("x"))
	}
	if _, err := c.Send(context.Background(), "m.x", nil, files...); !errors.Is(err, ErrTooManyFiles) {
		t.Fatalf("got %v", err)
	}
	if _, err := c.Send(context.Background(), "m.x", nil); !errors.Is(err, ErrBadPartOrder) {
		t.Fatalf("no files: got %v", err)
	}
}

func TestSendBadReply(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, `{"job": 1}`)
	}))
	defer srv.Close()
	c := newTestClient(t, srv, newStub(nil), WithAPIKey("k"))
	if _, err := c.Send(context.Background(), "m.x", nil, FromBytes("f", []byte("x"))); !errors.Is(err, ErrProtocol) {
		t.Fatalf("got %v", err)
	}
}

// failingReader yields n bytes, then fails.
type failingReader struct {
	n   int
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, f.err
	}
	k := min(len(p), f.n)
	for i := range p[:k] {
		p[i] = 'q'
	}
	f.n -= k
	return k, nil
}

func TestSourceFailureAbortsTheJob(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Consume until the client cuts the body, as the middleware does.
		io.Copy(io.Discard, r.Body)
		<-release
	}))
	defer srv.Close()
	defer close(release)
	readErr := errors.New("disk on fire")
	var aborted []any
	conn := newStub(func(method string, params []any) (any, error) {
		switch method {
		case "core.get_jobs":
			return []map[string]any{
				{"id": 9, "arguments": []any{"/other"}},
				{"id": 8, "arguments": []any{"/mnt/x", map[string]any{}}},
			}, nil
		case "core.job_abort":
			aborted = params
			return nil, nil
		}
		return nil, fmt.Errorf("unexpected %s", method)
	})
	conn.states["8"] = jobs.StateAborted
	c := newTestClient(t, srv, conn, WithAPIKey("k"))
	res, err := c.Send(context.Background(), "filesystem.put", []any{"/mnt/x", map[string]any{}},
		File{Name: "x", Reader: &failingReader{n: 3 << 20, err: readErr}})
	if !errors.Is(err, ErrSource) || !errors.Is(err, readErr) {
		t.Fatalf("got %v", err)
	}
	var te *TransferError
	if !errors.As(err, &te) || te.JobID != "8" {
		t.Fatalf("want job 8 in %#v", err)
	}
	if len(aborted) != 1 || fmt.Sprint(aborted[0]) != "8" {
		t.Fatalf("core.job_abort params %v", aborted)
	}
	if res == nil || res.Job == nil || res.Job.State != jobs.StateAborted {
		t.Fatalf("result %+v", res)
	}
}

func TestSourceShorterThanSize(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
	}))
	defer srv.Close()
	conn := newStub(func(method string, params []any) (any, error) { return []any{}, nil })
	c := newTestClient(t, srv, conn, WithAPIKey("k"), WithClock(&autoClock{}))
	_, err := c.Send(context.Background(), "config.upload", nil, File{Name: "x", Reader: strings.NewReader("short"), Size: 100})
	if !errors.Is(err, ErrSource) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("got %v", err)
	}
}
