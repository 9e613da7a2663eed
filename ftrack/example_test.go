package ftrack_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/ftrack"
	"github.com/longrun/longrun/jobs"
)

// A job gives a long task's user feedback in the web interface: running
// with a description that tells the progress, then done.
func ExampleSession_CreateJob() {
	srv := fake.NewServer(nil, fake.Options{})
	defer srv.Close()
	ctx := context.Background()
	s, _ := ftrack.NewSession(srv.URL(), "admin", "1-longrunfakeapikey")

	job, err := s.CreateJob(ctx, ftrack.CreateJobRequest{Description: "Exporting 0%"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(job.Status, job.Type, job.Description())
	_, _ = s.SetDescription(ctx, job.ID, "Exporting 50%")
	done, _ := s.SetStatus(ctx, job.ID, ftrack.StatusDone, "Exported 12 shots")
	fmt.Println(done.Status, done.Description(), !done.FinishedAt.IsZero())
	// Output:
	// running api_job Exporting 0%
	// done Exported 12 shots true
}

// Attach streams a file to the server location and links it to the job;
// the user downloads it from the Jobs menu.
func ExampleSession_Attach() {
	srv := fake.NewServer(nil, fake.Options{})
	defer srv.Close()
	ctx := context.Background()
	s, _ := ftrack.NewSession(srv.URL(), "admin", "1-longrunfakeapikey")
	job, _ := s.CreateJob(ctx, ftrack.CreateJobRequest{Description: "Building"})

	log := "step 1 ok\nstep 2 ok\n"
	a, err := s.Attach(ctx, job.ID, "build.log", strings.NewReader(log), int64(len(log)))
	if err != nil {
		fmt.Println(err)
		return
	}
	list, _ := s.Attachments(ctx, job.ID)
	for _, at := range list {
		fmt.Println(at.FileName(), at.Size)
	}
	// Show the link without the api key; s.DownloadURL has it in clear.
	fmt.Println(strings.Replace(s.RedactedDownloadURL(a.ComponentID), a.ComponentID, "<id>", 1)[len(srv.URL()):])
	rc, _, _ := s.Download(ctx, a.ComponentID)
	b, _ := io.ReadAll(rc)
	rc.Close()
	fmt.Printf("%q\n", b)
	// Output:
	// build.log 20
	// /component/get?apiKey=REDACTED&id=<id>&username=admin
	// "step 1 ok\nstep 2 ok\n"
}

// All pages through a query with metadata.next.offset.
func ExampleSession_All() {
	srv := fake.NewServer(nil, fake.Options{})
	defer srv.Close()
	ctx := context.Background()
	s, _ := ftrack.NewSession(srv.URL(), "admin", "1-longrunfakeapikey")
	for i, st := range []ftrack.Status{ftrack.StatusRunning, ftrack.StatusDone, ftrack.StatusRunning} {
		_, _ = s.CreateJob(ctx, ftrack.CreateJobRequest{Status: st, Description: fmt.Sprintf("task %d", i)})
		srv.Clock().Advance(1e9)
	}
	opts := &ftrack.ListOptions{Status: []ftrack.Status{ftrack.StatusRunning}, Descending: true, PageSize: 1}
	for job, err := range s.All(ctx, opts) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(job.Description(), job.Status)
	}
	// Output:
	// task 2 running
	// task 0 running
}

// A Session is a jobs.Source: Wait (jobs.Wait on the session) follows a
// job that another process reports, here the fake standing in for it.
func ExampleSession_Wait() {
	srv := fake.NewServer(nil, fake.Options{})
	defer srv.Close()
	ctx := context.Background()
	s, _ := ftrack.NewSession(srv.URL(), "admin", "1-longrunfakeapikey", ftrack.WithClock(srv.Clock()))
	job, _ := s.CreateJob(ctx, ftrack.CreateJobRequest{Description: "Rendering 30%"})

	final, err := s.Wait(ctx, job.ID, jobs.WithOnProgress(func(j *jobs.Job) {
		fmt.Printf("%s %.0f%% %s\n", j.State, j.Progress.Percent, j.Progress.Description)
		if j.State == jobs.StateRunning {
			_ = srv.Ftrack().SetJob(job.ID, "done", "Rendered")
		}
	}))
	fmt.Println(final.State, err)
	// Output:
	// running 30% Rendering 30%
	// succeeded 100% Rendered
	// succeeded <nil>
}

// Call sends several operations in one request; results come back in order.
func ExampleSession_Call() {
	srv := fake.NewServer(nil, fake.Options{})
	defer srv.Close()
	ctx := context.Background()
	s, _ := ftrack.NewSession(srv.URL(), "admin", "1-longrunfakeapikey", ftrack.WithLazyInit(false))
	res, err := s.Call(ctx,
		ftrack.QueryServerInformationOperation{},
		ftrack.QueryOperation{Expression: `select name from Location where id is "` + ftrack.ServerLocationID + `"`},
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	var info ftrack.ServerInformation
	_ = res[0].Decode(&info)
	var locs []ftrack.Location
	_ = res[1].Decode(&locs)
	fmt.Println(info.IsTimezoneSupportEnabled, locs[0].Name, res[1].Metadata.Next.Offset == nil)
	// Output:
	// true ftrack.server true
}

// ListOptions builds a query expression.
func ExampleListOptions_Expression() {
	o := &ftrack.ListOptions{Status: []ftrack.Status{ftrack.StatusFailed}, Username: "jane", Descending: true}
	fmt.Println(o.Expression())
	// Output:
	// select id, status, type, data, user_id, created_at, finished_at from Job where status in ("failed") and user.username is "jane" order by created_at descending, id
}

// List returns one page with its paging facts.
func ExampleSession_List() {
	srv := fake.NewServer(nil, fake.Options{})
	defer srv.Close()
	ctx := context.Background()
	s, _ := ftrack.NewSession(srv.URL(), "admin", "1-longrunfakeapikey")
	for i := range 3 {
		_, _ = s.CreateJob(ctx, ftrack.CreateJobRequest{Description: fmt.Sprintf("task %d", i)})
		srv.Clock().Advance(1e9)
	}
	page, err := s.List(ctx, &ftrack.ListOptions{PageSize: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, j := range page.Items {
		fmt.Println(j.Description())
	}
	fmt.Println(page.More, page.NextOffset())
	// Output:
	// task 0
	// task 1
	// true 2
}

// A file above 16 MiB goes up in parts, as ftrack's JavaScript client sends
// it: from a file, several parts at once; Remove deletes it again.
func ExampleSession_Remove() {
	srv := fake.NewServer(nil, fake.Options{})
	defer srv.Close()
	ctx := context.Background()
	s, _ := ftrack.NewSession(srv.URL(), "admin", "1-longrunfakeapikey")
	job, _ := s.CreateJob(ctx, ftrack.CreateJobRequest{Description: "Rendering"})

	frames := bytes.Repeat([]byte("frame "), 4<<20) // 24 MiB: 3 parts of 8 MiB
	a, err := s.Attach(ctx, job.ID, "frames.raw", bytes.NewReader(frames), int64(len(frames)))
	if err != nil {
		fmt.Println(err)
		return
	}
	list, _ := s.Attachments(ctx, job.ID)
	fmt.Println(len(list), list[0].FileName(), list[0].Size>>20, "MiB")
	if err := s.Remove(ctx, a.ComponentID); err != nil {
		fmt.Println(err)
		return
	}
	list, _ = s.Attachments(ctx, job.ID)
	fmt.Println(len(list))
	err = s.Remove(ctx, a.ComponentID)
	fmt.Println(errors.Is(err, jobs.ErrNotFound))
	// Output:
	// 1 frames.raw 24 MiB
	// 0
	// true
}
