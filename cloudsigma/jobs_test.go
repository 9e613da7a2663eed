package cloudsigma_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/longrun/longrun/cloudsigma"
	"github.com/longrun/longrun/drives"
	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/rest"
	"github.com/longrun/longrun/testutil/cstest"
)

// startClones clones the seeded "scratch" drive n times and returns the
// job uuids.
func startClones(t *testing.T, ctx context.Context, c *cloudsigma.Client, n int) []string {
	t.Helper()
	ds := drives.New(c)
	var src *drives.Drive
	for d, err := range ds.All(ctx, &drives.ListOptions{Detail: true}) {
		if err != nil {
			t.Fatal(err)
		}
		if d.Name == "scratch" {
			src = d
		}
	}
	if src == nil {
		t.Fatal("no seeded scratch drive")
	}
	var ids []string
	for i := range n {
		d, err := ds.Clone(ctx, src.UUID, &drives.CloneRequest{Name: fmt.Sprintf("copy-%d", i)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, d.Jobs[0].UUID)
	}
	return ids
}

func TestCloudSigmaFetchBatches(t *testing.T) {
	ctx := context.Background()
	srv := fake.NewServer(t, fake.Options{})
	c, cnt := cstest.Client(t, srv, cloudsigma.WithBatch(3))
	svc := c.Jobs
	ids := startClones(t, ctx, c, 5)
	srv.CloudSigma().SetStrictJobFilters(false) // a server that takes uuid=

	cnt.N.Store(0)
	got, err := svc.Fetch(ctx, append(ids, ids[0], "00000000-0000-4000-8000-000000000000")...)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 {
		t.Fatalf("got %d jobs", len(got))
	}
	// 6 distinct ids in batches of 3: two list calls, and a GET that
	// confirms the unknown id is a 404.
	if n := cnt.N.Load(); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
	cnt.N.Store(0)
	if got, err := svc.Fetch(ctx, ids[:3]...); err != nil || len(got) != 3 || cnt.N.Load() != 1 {
		t.Errorf("known ids: %v, %d jobs, %d requests", err, len(got), cnt.N.Load())
	}
	for _, j := range got {
		if j.Operation != "drive_clone" || j.State != jobs.StateRunning || !j.Progress.Known {
			t.Errorf("job %+v", j)
		}
	}

	// A server that refuses the uuid filter: Fetch falls back to the
	// state filter CloudSigma's jobs schema documents.
	srv.CloudSigma().SetStrictJobFilters(true)
	cnt.N.Store(0)
	got, err = svc.Fetch(ctx, ids[:2]...)
	if err != nil || len(got) != 2 {
		t.Fatalf("strict: %v, %d jobs", err, len(got))
	}
	if n := cnt.N.Load(); n != 2 {
		t.Errorf("strict: %d requests, want 1 refused list + 1 state=started list", n)
	}
	cnt.N.Store(0)
	if got, err = svc.Fetch(ctx, ids[:2]...); err != nil || len(got) != 2 || cnt.N.Load() != 1 {
		t.Errorf("strict, running jobs: %v, %d jobs, %d requests", err, len(got), cnt.N.Load())
	}
	// A job that finished is no longer in the state=started list: it costs
	// one more GET, once.
	srv.Clock().Advance(time.Hour)
	cnt.N.Store(0)
	if got, err = svc.Fetch(ctx, ids[:2]...); err != nil || len(got) != 2 || cnt.N.Load() != 3 || !got[0].Done() {
		t.Errorf("strict, finished jobs: %v, %d jobs, %d requests", err, len(got), cnt.N.Load())
	}
}

func TestCloudSigmaListPagingAndFilters(t *testing.T) {
	ctx := context.Background()
	srv := fake.NewServer(t, fake.Options{})
	c, _ := cstest.Client(t, srv)
	svc := c.Jobs
	srv.CloudSigma().SetStrictJobFilters(false) // a server that takes uuid=
	ids := startClones(t, ctx, c, 5)
	srv.Clock().Advance(time.Hour) // all five finish
	more := startClones(t, ctx, c, 2)

	page, err := svc.List(ctx, &cloudsigma.JobListOptions{ListOptions: cloudsigma.ListOptions{Limit: 3, Offset: 2}})
	if err != nil {
		t.Fatal(err)
	}
	if page.Limit != 3 || page.Offset != 2 || page.Total != 7 || len(page.Items) != 3 || !page.More {
		t.Fatalf("page %+v", page)
	}
	var all []string
	for j, err := range svc.All(ctx, &cloudsigma.JobListOptions{ListOptions: cloudsigma.ListOptions{Limit: 2}}) {
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, j.UUID)
	}
	if len(all) != 7 {
		t.Errorf("All yielded %d jobs", len(all))
	}
	started, err := svc.List(ctx, &cloudsigma.JobListOptions{ListOptions: cloudsigma.ListOptions{Detail: true}, State: []string{"started"}})
	if err != nil || len(started.Items) != 2 {
		t.Fatalf("state filter: %v %+v", err, started)
	}
	for _, o := range started.Items {
		if o.UUID != more[0] && o.UUID != more[1] {
			t.Errorf("unexpected started job %s", o.UUID)
		}
	}
	or, err := svc.List(ctx, &cloudsigma.JobListOptions{State: []string{"success", "started"}, UUID: []string{ids[0], more[0]}})
	if err != nil || or.Total != 2 {
		t.Fatalf("OR filters: %v %+v", err, or)
	}
	fields, err := svc.List(ctx, &cloudsigma.JobListOptions{ListOptions: cloudsigma.ListOptions{
		NoLimit: true, Fields: []string{"uuid", "state"}, OrderBy: "-last_modified"}})
	if err != nil {
		t.Fatal(err)
	}
	if fields.Limit != 0 || len(fields.Items) != 7 || fields.Items[0].Operation != "" || fields.Items[0].State == "" {
		t.Errorf("fields=: %+v %+v", fields, fields.Items[0])
	}
	if !fields.Items[0].LastModified.IsZero() {
		t.Error("fields= did not trim last_modified")
	}
	_, err = svc.List(ctx, &cloudsigma.JobListOptions{ListOptions: cloudsigma.ListOptions{OrderBy: "operation"}})
	var ae *rest.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 400 || ae.Type != "validation" {
		t.Errorf("bad order_by: %v", err)
	}
	// By default the fake keeps to the documented schema: state only.
	srv.CloudSigma().SetStrictJobFilters(true)
	_, err = svc.List(ctx, &cloudsigma.JobListOptions{UUID: ids[:1]})
	if errs := cloudsigma.ErrorsOf(err); len(errs) != 1 || errs[0].Point == nil || *errs[0].Point != "uuid" {
		t.Errorf("uuid filter on a strict server: %v", err)
	}
}

func TestCloudSigmaNotFoundIsTyped(t *testing.T) {
	ctx := context.Background()
	srv := fake.NewServer(t, fake.Options{})
	c, _ := cstest.Client(t, srv)
	svc := c.Jobs
	id := "472835d5-2bbb-4d87-9d08-7364bc373692"
	_, err := svc.Get(ctx, id)
	var ae *rest.APIError
	if !errors.As(err, &ae) || !errors.Is(err, rest.ErrNotFound) {
		t.Fatalf("got %v", err)
	}
	if ae.Type != "notexist" || !strings.Contains(ae.Message, id) || ae.Temporary() {
		t.Errorf("APIError %+v", ae)
	}
	errs := cloudsigma.ErrorsOf(err)
	if len(errs) != 1 || errs[0].Point != nil || errs[0].Type != cloudsigma.TypeNotExist {
		t.Errorf("details %+v", errs)
	}
	_, err = jobs.Wait(ctx, svc, id, jobs.WithClock(srv.Clock()))
	var nf *jobs.NotFoundError
	if !errors.As(err, &nf) || nf.ID != id {
		t.Errorf("Wait: %v", err)
	}
}

func TestCloudSigmaJobsAreReadOnly(t *testing.T) {
	ctx := context.Background()
	srv := fake.NewServer(t, fake.Options{})
	c, _ := cstest.Client(t, srv)
	ids := startClones(t, ctx, c, 1)
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		_, err := c.Do(ctx, m, "jobs/"+ids[0]+"/", nil, map[string]string{}, nil)
		var ae *rest.APIError
		if !errors.As(err, &ae) || ae.StatusCode != 405 || ae.Type == "" {
			t.Errorf("%s: %v", m, err)
		}
	}
}

func TestCloudSigmaAuth(t *testing.T) {
	ctx := context.Background()
	srv := fake.NewServer(t, fake.Options{})
	c, err := cloudsigma.New(srv.URL(), "admin@example.com", "wrong-password-xyz", cloudsigma.WithRESTOptions(rest.WithRetry(0, 0, 0)))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Jobs.List(ctx, nil)
	var ae *rest.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 401 || !errors.Is(err, rest.ErrUnauthorized) || ae.Type != "permission" {
		t.Fatalf("got %v", err)
	}
	if strings.Contains(err.Error(), "wrong-password-xyz") {
		t.Error("password in error")
	}
	// Another user sees none of admin's jobs.
	ac, _ := cstest.Client(t, srv)
	ids := startClones(t, ctx, ac, 1)
	gc, _ := cloudsigma.New(srv.URL(), "guest@example.com", "guest")
	if _, err := gc.Jobs.Get(ctx, ids[0]); !errors.Is(err, rest.ErrNotFound) {
		t.Errorf("guest got admin's job: %v", err)
	}
}

func TestCloudSigmaHistoryIsThreeDays(t *testing.T) {
	ctx := context.Background()
	srv := fake.NewServer(t, fake.Options{})
	c, _ := cstest.Client(t, srv)
	svc := c.Jobs
	id := startClones(t, ctx, c, 1)[0]
	j, err := jobs.Wait(ctx, svc, id, jobs.WithClock(srv.Clock()))
	if err != nil || !j.TreeDone() {
		t.Fatalf("%v %+v", err, j)
	}
	srv.Clock().Advance(71 * time.Hour)
	if _, err := svc.Get(ctx, id); err != nil {
		t.Fatalf("gone before 3 days: %v", err)
	}
	srv.Clock().Advance(2 * time.Hour)
	if _, err := svc.Get(ctx, id); !errors.Is(err, rest.ErrNotFound) {
		t.Fatalf("kept after 3 days: %v", err)
	}
	got, err := svc.Fetch(ctx, id)
	if err != nil || len(got) != 0 {
		t.Errorf("Fetch of an expired job: %v %v", got, err)
	}
}

func TestCloudSigmaCyclicTree(t *testing.T) {
	ctx := context.Background()
	srv := fake.NewServer(t, fake.Options{})
	c, _ := cstest.Client(t, srv)
	id := "11111111-1111-4111-8111-111111111111"
	doc := fmt.Sprintf(`{"uuid":%[1]q,"operation":"server_clone","state":"started","data":{"progress":50},
		"children":[{"uuid":"22222222-2222-4222-8222-222222222222","state":"started","data":{"progress":50},
		"children":[{"uuid":%[1]q,"state":"started","data":{"progress":50},"children":[]}]}]}`, id)
	srv.CloudSigma().SetJobDocument(id, []byte(doc))
	_, err := jobs.Wait(ctx, c.Jobs, id, jobs.WithClock(srv.Clock()))
	var te *jobs.TreeError
	if !errors.Is(err, jobs.ErrCycle) || !errors.As(err, &te) || len(te.Path) != 3 {
		t.Fatalf("got %v", err)
	}
}

func TestCloudSigmaDeepTree(t *testing.T) {
	ctx := context.Background()
	srv := fake.NewServer(t, fake.Options{})
	c, _ := cstest.Client(t, srv)
	svc := c.Jobs
	for _, depth := range []int{100, 100_000} {
		id := fmt.Sprintf("deep-%d", depth)
		srv.CloudSigma().SetJobDocument(id, deepDoc(depth))
		_, err := jobs.Wait(ctx, svc, id, jobs.WithClock(srv.Clock()))
		var de *rest.DecodeError
		if !errors.Is(err, jobs.ErrTooDeep) || !errors.As(err, &de) || de.StatusCode != 200 {
			t.Errorf("depth %d: %v", depth, err)
		}
	}
}

func TestCloudSigmaUnknownStateKept(t *testing.T) {
	ctx := context.Background()
	srv := fake.NewServer(t, fake.Options{})
	c, _ := cstest.Client(t, srv)
	svc := c.Jobs
	id := startClones(t, ctx, c, 1)[0]
	if err := srv.CloudSigma().FailJob(id, "paused_by_operator", ""); err != nil {
		t.Fatal(err)
	}
	got, err := svc.Fetch(ctx, id)
	if err != nil || len(got) != 1 || got[0].State != jobs.StateUnknown || got[0].RawState != "paused_by_operator" {
		t.Fatalf("%v %+v", err, got)
	}
	_, err = jobs.Wait(ctx, svc, id, jobs.WithClock(srv.Clock()), jobs.WithFailOnUnknownState())
	if !errors.Is(err, jobs.ErrUnknownState) {
		t.Errorf("got %v", err)
	}
}

func TestCloudSigmaDeepTreeMessage(t *testing.T) {
	ctx := context.Background()
	srv := fake.NewServer(t, fake.Options{})
	c, _ := cstest.Client(t, srv)
	srv.CloudSigma().SetJobDocument("deep", deepDoc(100_000))
	_, err := jobs.Wait(ctx, c.Jobs, "deep", jobs.WithClock(srv.Clock()))
	for _, want := range []string{"too deep", "64 job levels", "/api/2.0/jobs/deep/"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not say %q", err, want)
		}
	}
}

// A server that ignores the uuid filter answers with every job: Fetch keeps
// only the asked-for ones and then stops sending the filter.
func TestCloudSigmaFetchFilterIgnored(t *testing.T) {
	var mu sync.Mutex
	var paths []string
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.RequestURI())
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		switch r.URL.Path {
		case "/api/2.0/jobs/":
			fmt.Fprint(w, `{"meta":{"limit":0,"offset":0,"total_count":3},"objects":[
				{"uuid":"a","state":"started","data":{"progress":1},"children":[]},
				{"uuid":"b","state":"started","data":{"progress":2},"children":[]},
				{"uuid":"zz","state":"success","data":{"progress":100},"children":[]}]}`)
		default:
			id := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/api/2.0/jobs/"), "/")
			fmt.Fprintf(w, `{"uuid":%q,"state":"started","data":{"progress":5},"children":[]}`, id)
		}
	}))
	defer hs.Close()
	c, err := cloudsigma.New(hs.URL, "u@example.com", "p")
	if err != nil {
		t.Fatal(err)
	}
	svc := c.Jobs
	got, err := svc.Fetch(context.Background(), "a", "b")
	if err != nil || len(got) != 2 {
		t.Fatalf("%v %v", err, got)
	}
	// Then it lists the running jobs (state=started), the filter the jobs
	// schema documents, and asks for "c", which that list lacks, alone.
	got, err = svc.Fetch(context.Background(), "a", "b", "c")
	if err != nil || len(got) != 3 {
		t.Fatalf("%v %v", err, got)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"/api/2.0/jobs/?limit=0&uuid=a%2Cb", "/api/2.0/jobs/?limit=1000&state=started", "/api/2.0/jobs/c/"}; !reflect.DeepEqual(paths, want) {
		t.Errorf("requests %v, want %v", paths, want)
	}
}
