package ftrack_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/longrun/longrun/fake/sim"
	"github.com/longrun/longrun/ftrack"
	"github.com/longrun/longrun/jobs"
)

func TestPartSize(t *testing.T) {
	const mib, gib = 1 << 20, 1 << 30
	for _, c := range []struct{ size, part int64 }{
		{0, 8 * mib}, {16 * mib, 8 * mib}, {128 * mib, 8 * mib}, {128*mib + 1, 16 * mib}, {gib, 16 * mib},
		{gib + 1, 32 * mib}, {8 * gib, 32 * mib}, {8*gib + 1, 64 * mib}, {64*gib + 1, 128 * mib}, {ftrack.MaxUploadSize, 128 * mib},
	} {
		if got, err := ftrack.PartSize(c.size); err != nil || got != c.part {
			t.Errorf("PartSize(%d) = %d, %v; want %d", c.size, got, err, c.part)
		}
	}
	if _, err := ftrack.PartSize(ftrack.MaxUploadSize + 1); err == nil {
		t.Error("no error past 1,280 GB")
	}
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*31 + i>>9)
	}
	return b
}

func download(t *testing.T, s *ftrack.Session, id string) []byte {
	t.Helper()
	rc, _, err := s.Download(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Above 16 MiB Attach uploads in 8 MiB parts, in parallel from a file and
// one after the other from a plain reader; both read back byte-identical.
// At 16 MiB it is one PUT.
func TestAttachMultipart(t *testing.T) {
	ct := &countingTransport{}
	srv, s := newSession(t, ftrack.WithHTTPClient(&http.Client{Transport: ct}), ftrack.WithUploadParallelism(3))
	ctx := context.Background()
	job, err := s.CreateJob(ctx, ftrack.CreateJobRequest{Description: "Rendering"})
	if err != nil {
		t.Fatal(err)
	}
	data := pattern(40<<20 + 12345)
	path := filepath.Join(t.TempDir(), "frames.tar")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	calls := srv.Ftrack().Calls()
	a, err := s.Attach(ctx, job.ID, "frames.tar", f, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if n := srv.Ftrack().Calls() - calls; n != 2 {
		t.Errorf("%d batches, want 2 (create + metadata, complete + register)", n)
	}
	if got := download(t, s, a.ComponentID); !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes, not the %d sent", len(got), len(data))
	}
	if puts, most := ct.report(); puts != 6 || most > 3 {
		t.Errorf("%d part PUTs (want 6 of 8 MiB), %d at once (at most 3)", puts, most)
	}
	// a plain reader: parts one after the other
	b, err := s.Attach(ctx, job.ID, "frames2.tar", io.MultiReader(bytes.NewReader(data)), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if got := download(t, s, b.ComponentID); !bytes.Equal(got, data) {
		t.Fatal("plain reader: read back differs")
	}
	size, sum, _ := srv.Ftrack().File(b.ComponentID)
	want := md5.Sum(data)
	if size != int64(len(data)) || sum == "" || sum != b64(want[:]) {
		t.Errorf("stored %d %s", size, sum)
	}
	list, err := s.Attachments(ctx, job.ID)
	if err != nil || len(list) != 2 || list[0].Size != int64(len(data)) {
		t.Fatalf("attachments %+v %v", list, err)
	}
}

// countingTransport counts PUTs and the most in flight at once.
type countingTransport struct {
	mu             sync.Mutex
	puts, now, max int
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodPut {
		return http.DefaultTransport.RoundTrip(r)
	}
	c.mu.Lock()
	c.puts++
	c.now++
	c.max = max(c.max, c.now)
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.now--
		c.mu.Unlock()
	}()
	return http.DefaultTransport.RoundTrip(r)
}

func (c *countingTransport) report() (int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, m := c.puts, c.max
	c.puts, c.max = 0, 0
	return p, m
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// A part that fails ends the upload: the other parts stop, nothing is
// retried, and the FileComponent is deleted (with what the storage held of
// it); the job has no attachment.
func TestAttachMultipartFailureCleansUp(t *testing.T) {
	srv, s := newSession(t)
	ctx := context.Background()
	job, err := s.CreateJob(ctx, ftrack.CreateJobRequest{})
	if err != nil {
		t.Fatal(err)
	}
	data := pattern(24 << 20)
	srv.Faults().Add(sim.Fault{Method: "PUT", PathPrefix: "/ftrack-fake/upload/", Times: 1, Status: 500,
		Body: "<Error><Code>InternalError</Code></Error>"})
	_, err = s.Attach(ctx, job.ID, "x.bin", bytes.NewReader(data), int64(len(data)))
	var ue *ftrack.UploadError
	if !errors.As(err, &ue) || ue.StatusCode != 500 || strings.Contains(err.Error(), adminKey) {
		t.Fatalf("failed part: %v", err)
	}
	comps, _, err := ftrack.Query[map[string]any](ctx, s, "select id from FileComponent where id is "+ftrack.Quote(ue.ComponentID))
	if err != nil || len(comps) != 0 {
		t.Fatalf("component after the failed upload: %v %v", comps, err)
	}
	if list, err := s.Attachments(ctx, job.ID); err != nil || len(list) != 0 {
		t.Fatalf("attachments %v %v", list, err)
	}
	// A short reader fails the same way.
	_, err = s.Attach(ctx, job.ID, "y.bin", io.LimitReader(bytes.NewReader(data), 20<<20), int64(len(data)))
	if err == nil {
		t.Fatal("a short reader attached")
	}
	if list, _ := s.Attachments(ctx, job.ID); len(list) != 0 {
		t.Fatalf("attachments after a short reader %v", list)
	}
}

// Remove deletes the data and the component; a second Remove is not found.
func TestRemove(t *testing.T) {
	srv, s := newSession(t)
	ctx := context.Background()
	job, _ := s.CreateJob(ctx, ftrack.CreateJobRequest{})
	a, err := s.Attach(ctx, job.ID, "r.txt", strings.NewReader("remove me"), 9)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(ctx, a.ComponentID); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := srv.Ftrack().File(a.ComponentID); ok {
		t.Error("the data stayed")
	}
	if list, _ := s.Attachments(ctx, job.ID); len(list) != 0 {
		t.Errorf("attachments %v", list)
	}
	if err := s.Remove(ctx, a.ComponentID); !errors.Is(err, jobs.ErrNotFound) {
		t.Errorf("second remove: %v", err)
	}
	bad, _ := ftrack.NewSession(srv.URL(), adminUser, "wrong-key")
	if err := bad.Remove(ctx, a.ComponentID); !errors.Is(err, jobs.ErrUnauthorized) || strings.Contains(err.Error(), "wrong-key") {
		t.Errorf("remove with a wrong key: %v", err)
	}
}

// A job re-encodes as it came: null, [] and naive datetimes stay.
func TestLosslessReencode(t *testing.T) {
	doc := `{"__entity_type__":"Job","created_at":{"__type__":"datetime","value":"2022-10-10T10:12:09"},"data":null,"finished_at":null,"id":"j","job_components":[],"status":"running","user_id":"u"}`
	var j ftrack.Job
	if err := json.Unmarshal([]byte(doc), &j); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(j)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != doc {
		t.Fatalf("re-encoded\n got %s\nwant %s", out, doc)
	}
	// A changed time is sent in UTC with a Z.
	j.CreatedAt = ftrack.NewDateTime(j.CreatedAt.Add(1e9))
	out, _ = json.Marshal(j)
	if !strings.Contains(string(out), `"created_at":{"__type__":"datetime","value":"2022-10-10T10:12:10Z"}`) {
		t.Fatalf("changed time %s", out)
	}
}

// The server sends an entity repeated in one answer as a bare reference;
// Decode fills it in from its first occurrence, and leaves a reference to
// an enclosing entity bare.
func TestDecodeResolvesReferences(t *testing.T) {
	_, s := newSession(t)
	ctx := context.Background()
	for range 2 {
		if _, err := s.CreateJob(ctx, ftrack.CreateJobRequest{}); err != nil {
			t.Fatal(err)
		}
	}
	list, _, err := ftrack.Query[ftrack.Job](ctx, s, "select id, user.username, user.email from Job")
	if err != nil || len(list) != 2 {
		t.Fatalf("%v %v", list, err)
	}
	for _, j := range list {
		if j.User == nil || j.User.Username != adminUser {
			t.Errorf("job %s user %+v", j.ID, j.User)
		}
	}
	res := []byte(`[{"action":"create","data":` + recCreateFileComponentData + `}]`)
	out, err := ftrack.DecodeResults(res, 1)
	if err != nil {
		t.Fatal(err)
	}
	var c ftrack.FileComponent
	if err := out[0].Decode(&c); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = out[0].Decode(&m)
	back := m["component_locations"].([]any)[0].(map[string]any)["component"].(map[string]any)
	if c.Name != "data" || len(back) != 2 {
		t.Errorf("component %+v, back reference %v", c, back)
	}
	// Two entities that refer to each other: no cycle, each decodes.
	cyc := []byte(`[{"action":"query","data":[{"__entity_type__":"Job","id":"1","status":"done","user":{"__entity_type__":"User","id":"2"}},` +
		`{"__entity_type__":"User","id":"2","username":"u","thumbnail":{"__entity_type__":"Job","id":"1"}}],"metadata":{"next":{"offset":null}}}]`)
	out, err = ftrack.DecodeResults(cyc, 1)
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	if err := out[0].Decode(&rows); err != nil || len(rows) != 2 {
		t.Fatalf("mutual references: %v %v", rows, err)
	}
}

const recCreateFileComponentData = `{"name": "data", "component_locations": [{"resource_identifier": "ebc0ace8-fe6f-497b-bf87-54f6f318014a", "__entity_type__": "ComponentLocation", "component": {"__entity_type__": "FileComponent", "id": "ebc0ace8-fe6f-497b-bf87-54f6f318014a"}, "id": "beedc0e5-95f1-4902-a43e-6df5cc0ccf48", "component_id": "ebc0ace8-fe6f-497b-bf87-54f6f318014a"}], "file_type": ".json", "__entity_type__": "FileComponent", "system_type": "file", "id": "ebc0ace8-fe6f-497b-bf87-54f6f318014a", "size": 13}`

// cancelAfter is a reader that cancels a context once n bytes were read.
type cancelAfter struct {
	r      io.Reader
	n      int64
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	if c.n -= int64(k); c.n <= 0 {
		c.cancel()
	}
	return k, err
}

// A context that ends in the middle of a multipart upload ends it: the
// error is the context's, and the FileComponent is cleaned up even so.
func TestAttachCancelledCleansUp(t *testing.T) {
	_, s := newSession(t)
	job, err := s.CreateJob(context.Background(), ftrack.CreateJobRequest{})
	if err != nil {
		t.Fatal(err)
	}
	data := pattern(24 << 20)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err = s.Attach(ctx, job.ID, "c.bin", &cancelAfter{r: bytes.NewBuffer(data), n: 10 << 20, cancel: cancel}, int64(len(data)))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled upload: %v", err)
	}
	comps, _, err := ftrack.Query[map[string]any](context.Background(), s, `select id from FileComponent where name is "c"`)
	if err != nil || len(comps) != 0 {
		t.Fatalf("components after the cancelled upload: %v %v", comps, err)
	}
}
