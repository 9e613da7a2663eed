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
	"strings"
	"testing"
	"time"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/ftrack"
	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/rest"
)

const (
	adminUser = "admin"
	adminKey  = "1-longrunfakeapikey"
)

func newSession(t *testing.T, opts ...ftrack.Option) (*fake.Server, *ftrack.Session) {
	t.Helper()
	srv := fake.NewServer(t, fake.Options{})
	opts = append([]ftrack.Option{ftrack.WithClock(srv.Clock())}, opts...)
	s, err := ftrack.NewSession(srv.URL(), adminUser, adminKey, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return srv, s
}

func TestJobLifecycle(t *testing.T) {
	srv, s := newSession(t)
	ctx := context.Background()
	job, err := s.CreateJob(ctx, ftrack.CreateJobRequest{Description: "Exporting 0%"})
	if err != nil {
		t.Fatal(err)
	}
	if job.Status != ftrack.StatusRunning || job.Type != "api_job" || job.UserID != "5b4a69a3-8e78-4c45-a8ba-8b13f0895e23" {
		t.Fatalf("created job %+v", job)
	}
	if job.CreatedAt.IsZero() || !job.FinishedAt.IsZero() {
		t.Fatalf("created_at %v finished_at %v", job.CreatedAt, job.FinishedAt)
	}
	if got := job.Description(); got != "Exporting 0%" {
		t.Fatalf("description %q", got)
	}
	info, err := s.ServerInformation(ctx)
	if err != nil || info.Version == "" || info.SchemaHash == "" {
		t.Fatalf("server information %+v, %v", info, err)
	}
	if _, err := s.SetDescription(ctx, job.ID, "Exporting 50%"); err != nil {
		t.Fatal(err)
	}
	srv.Clock().Advance(time.Minute)
	done, err := s.SetStatus(ctx, job.ID, ftrack.StatusDone, "Exported")
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != ftrack.StatusDone || !done.FinishedAt.Equal(srv.Clock().Now().Truncate(time.Second)) {
		t.Fatalf("done job %+v (now %v)", done, srv.Clock().Now())
	}
	got, err := s.GetJob(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Description() != "Exported" || got.Status != ftrack.StatusDone || got.FinishedAt.IsZero() {
		t.Fatalf("job %+v", got)
	}
	stored := srv.Ftrack().Job(job.ID)
	if stored["status"] != "done" {
		t.Fatalf("fake stored %v", stored)
	}
	if err := s.DeleteJob(ctx, job.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetJob(ctx, job.ID)
	var nf *ftrack.NotFoundError
	if !errors.Is(err, jobs.ErrNotFound) || !errors.Is(err, jobs.ErrNotFound) || !errors.As(err, &nf) || nf.ID != job.ID {
		t.Fatalf("after delete: %v", err)
	}
	if err := s.DeleteJob(ctx, job.ID); !errors.Is(err, jobs.ErrNotFound) || errors.Is(err, ftrack.ErrValidation) {
		t.Fatalf("second delete: %v", err)
	}
}

func TestJobsQueryPaging(t *testing.T) {
	srv, s := newSession(t)
	ctx := context.Background()
	var ids []string
	for i := range 7 {
		st := ftrack.StatusRunning
		if i%2 == 1 {
			st = ftrack.StatusDone
		}
		j, err := s.CreateJob(ctx, ftrack.CreateJobRequest{Status: st, Description: "job"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, j.ID)
		srv.Clock().Advance(time.Second)
	}
	calls := srv.Ftrack().Calls()
	var seen []string
	for j, err := range s.All(ctx, &ftrack.ListOptions{Status: []ftrack.Status{ftrack.StatusRunning}, PageSize: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		if j.Status != ftrack.StatusRunning {
			t.Fatalf("status %s", j.Status)
		}
		seen = append(seen, j.ID)
	}
	want := []string{ids[0], ids[2], ids[4], ids[6]}
	if strings.Join(seen, ",") != strings.Join(want, ",") {
		t.Fatalf("got %v want %v", seen, want)
	}
	if n := srv.Ftrack().Calls() - calls; n != 2 {
		t.Fatalf("%d requests for 4 jobs in pages of 2, want 2", n)
	}
	// newest first, created after the second job, for this user by name
	var desc []string
	opts := &ftrack.ListOptions{Username: adminUser, Descending: true, CreatedAfter: srv.Clock().Now().Add(-6 * time.Second).Add(-500 * time.Millisecond)}
	for j, err := range s.All(ctx, opts) {
		if err != nil {
			t.Fatal(err)
		}
		desc = append(desc, j.ID)
	}
	// jobs 1..6 were created after the bound, job 0 before it
	wantDesc := []string{ids[6], ids[5], ids[4], ids[3], ids[2], ids[1]}
	if strings.Join(desc, ",") != strings.Join(wantDesc, ",") {
		t.Fatalf("descending, created after: got %v want %v", desc, wantDesc)
	}
	// breaking out of the loop stops the paging: one request, no more
	calls = srv.Ftrack().Calls()
	n := 0
	for _, err := range s.All(ctx, &ftrack.ListOptions{PageSize: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		break
	}
	if got := srv.Ftrack().Calls() - calls; n != 1 || got != 1 {
		t.Fatalf("break after %d jobs made %d requests, want 1", n, got)
	}
	page, err := s.List(ctx, &ftrack.ListOptions{IDs: ids[:3], PageSize: 10})
	if err != nil || len(page.Items) != 3 || page.More || page.Total != -1 || page.Limit != 10 {
		t.Fatalf("by ids: %+v, %v", page, err)
	}
	page, err = s.List(ctx, &ftrack.ListOptions{IDs: ids[:3], PageSize: 2, Offset: 1})
	if err != nil || len(page.Items) != 2 || page.More || page.Offset != 1 || page.NextOffset() != 3 {
		t.Fatalf("second page by ids: %+v, %v", page, err)
	}
	page, err = s.List(ctx, &ftrack.ListOptions{IDs: ids[:3], PageSize: 2})
	if err != nil || len(page.Items) != 2 || !page.More {
		t.Fatalf("first page by ids: %+v, %v", page, err)
	}
}

func TestAttachAndDownload(t *testing.T) {
	srv, s := newSession(t)
	ctx := context.Background()
	job, err := s.CreateJob(ctx, ftrack.CreateJobRequest{Description: "Building"})
	if err != nil {
		t.Fatal(err)
	}
	content := strings.Repeat("line of log\n", 1000)
	// a plain reader: no checksum
	a, err := s.Attach(ctx, job.ID, "build.log", io.LimitReader(strings.NewReader(content), int64(len(content))), int64(len(content)))
	if err != nil {
		t.Fatal(err)
	}
	// a seeker: checksummed
	b, err := s.Attach(ctx, job.ID, "report.json", bytes.NewReader([]byte(`{"ok":true}`)), 11)
	if err != nil {
		t.Fatal(err)
	}
	size, sum, ok := srv.Ftrack().File(a.ComponentID)
	want := md5.Sum([]byte(content))
	if !ok || size != int64(len(content)) || sum != base64.StdEncoding.EncodeToString(want[:]) {
		t.Fatalf("stored %d %s %v", size, sum, ok)
	}
	list, err := s.Attachments(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].FileName() != "build.log" || list[0].Size != int64(len(content)) || list[1].ComponentID != b.ComponentID || list[1].FileType != ".json" {
		t.Fatalf("attachments %+v", list)
	}
	rc, n, err := s.Download(ctx, a.ComponentID)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if string(got) != content || n != int64(len(content)) {
		t.Fatalf("downloaded %d bytes (length %d)", len(got), n)
	}
	u := s.DownloadURL(a.ComponentID)
	if !strings.Contains(u, "apiKey="+adminKey) || !strings.Contains(u, "/component/get?") {
		t.Fatalf("download URL %s", s.RedactedDownloadURL(a.ComponentID))
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != content || !strings.Contains(resp.Header.Get("Content-Disposition"), "build.log") {
		t.Fatalf("GET download URL: %d %q", resp.StatusCode, resp.Header.Get("Content-Disposition"))
	}
	// a missing component: typed error, no api key in it
	_, _, err = s.Download(ctx, "no-such-component")
	var ae *ftrack.ServerError
	if !errors.As(err, &ae) || !errors.Is(err, rest.ErrNotFound) || strings.Contains(err.Error(), adminKey) {
		t.Fatalf("missing download: %v", err)
	}
	// a short reader is refused, the fake keeps nothing
	_, err = s.Attach(ctx, job.ID, "short.bin", strings.NewReader("abc"), 10)
	if err == nil {
		t.Fatal("short attach succeeded")
	}
	var ue *ftrack.UploadError
	if !errors.As(err, &ue) {
		// a seekable reader fails already at checksum time
		if !strings.Contains(err.Error(), "checksum") {
			t.Fatalf("short attach: %v", err)
		}
	}
	_, err = s.Attach(ctx, job.ID, "short.bin", io.LimitReader(strings.NewReader("abc"), 3), 10)
	if !errors.As(err, &ue) {
		t.Fatalf("short streamed attach: %v", err)
	}
}

func TestErrorsAreTypedAndRedacted(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{})
	ctx := context.Background()
	for _, strict := range []bool{false, true} {
		s, err := ftrack.NewSession(srv.URL(), adminUser, "wrong-key-1234", ftrack.WithStrictAPI(strict))
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.CreateJob(ctx, ftrack.CreateJobRequest{})
		var se *ftrack.ServerError
		if !errors.As(err, &se) || se.Exception != "InvalidCredentialsError" || !errors.Is(err, jobs.ErrUnauthorized) {
			t.Fatalf("strict=%v: %v", strict, err)
		}
		if strict != errors.Is(err, rest.ErrUnauthorized) {
			t.Fatalf("strict=%v: HTTP status error %v", strict, err)
		}
		if strings.Contains(err.Error(), "wrong-key-1234") {
			t.Fatalf("api key in error: %v", err)
		}
	}
	s, _ := ftrack.NewSession(srv.URL(), adminUser, adminKey, ftrack.WithStrictAPI(true))
	_, err := s.Call(ctx, ftrack.UpdateOperation{EntityType: "Job", EntityKey: []string{"x"}, EntityData: map[string]any{"status": "bogus"}})
	if err == nil {
		t.Fatal("update of a missing job succeeded")
	}
	j, err := s.CreateJob(ctx, ftrack.CreateJobRequest{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Call(ctx, ftrack.UpdateOperation{EntityType: "Job", EntityKey: []string{j.ID}, EntityData: map[string]any{"status": "bogus"}})
	if !errors.Is(err, ftrack.ErrValidation) {
		t.Fatalf("bad status: %v", err)
	}
	_, err = s.Call(ctx, ftrack.QueryOperation{Expression: "select id from Job where status matches \"x\""})
	var se *ftrack.ServerError
	if !errors.As(err, &se) || se.Exception != "ParseError" {
		t.Fatalf("bad query: %v", err)
	}
	// a failed batch changes nothing
	before := srv.Ftrack().JobCount()
	_, err = s.Call(ctx,
		ftrack.CreateOperation{EntityType: "Job", EntityKey: []string{ftrack.NewID()}, EntityData: map[string]any{"user_id": "5b4a69a3-8e78-4c45-a8ba-8b13f0895e23"}},
		ftrack.QueryOperation{Expression: "select nope from Job"})
	if err == nil || srv.Ftrack().JobCount() != before {
		t.Fatalf("failed batch: %v, %d jobs (was %d)", err, srv.Ftrack().JobCount(), before)
	}
}

func TestWaitOnJobReportedElsewhere(t *testing.T) {
	srv, s := newSession(t)
	ctx := context.Background()
	job, err := s.CreateJob(ctx, ftrack.CreateJobRequest{Description: "Rendering 10%"})
	if err != nil {
		t.Fatal(err)
	}
	step := 0
	var seen []float64
	// another process moves the job each time the waiter polls
	final, err := jobs.Wait(ctx, s, job.ID, jobs.WithClock(srv.Clock()), jobs.WithOnProgress(func(j *jobs.Job) {
		seen = append(seen, j.Progress.Percent)
		step++
		switch step {
		case 1:
			_ = srv.Ftrack().SetJob(job.ID, "running", "Rendering 60%")
		case 2:
			_ = srv.Ftrack().SetJob(job.ID, "done", "Rendered")
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	if final.State != jobs.StateSucceeded || final.Dialect != "ftrack" || final.Progress.Percent != 100 {
		t.Fatalf("final %+v", final)
	}
	if len(seen) < 2 || seen[0] != 10 || seen[1] != 60 {
		t.Fatalf("progress seen %v", seen)
	}
	failing, _ := s.CreateJob(ctx, ftrack.CreateJobRequest{})
	_ = srv.Ftrack().SetJob(failing.ID, "failed", "disk full")
	_, err = jobs.Wait(ctx, s, failing.ID, jobs.WithClock(srv.Clock()))
	var fe *jobs.FailedError
	if !errors.As(err, &fe) || !errors.Is(err, jobs.ErrJobFailed) || fe.Node.Message != "disk full" {
		t.Fatalf("failed job: %v", err)
	}
	// Fetch batches many ids into one query
	calls := srv.Ftrack().Calls()
	got, err := s.Fetch(ctx, job.ID, failing.ID, "missing")
	if err != nil || len(got) != 2 || srv.Ftrack().Calls()-calls != 1 {
		t.Fatalf("fetch: %d jobs, %d calls, %v", len(got), srv.Ftrack().Calls()-calls, err)
	}
	var raw map[string]any
	if err := json.Unmarshal(got[0].Raw, &raw); err != nil || raw["__entity_type__"] != "Job" {
		t.Fatalf("raw %s", got[0].Raw)
	}
}
