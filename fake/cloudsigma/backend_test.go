package cloudsigma_test

import (
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/fake/cloudsigma"
)

type call struct {
	status int
	header http.Header
	body   []byte
}

func do(t *testing.T, srv *fake.Server, method, path, user, pass, body string) call {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL()+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	req.Header.Set("Content-Type", "application/json")
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return call{resp.StatusCode, resp.Header, b}
}

func admin(t *testing.T, srv *fake.Server, method, path, body string) call {
	return do(t, srv, method, path, "admin@example.com", "secret", body)
}

// errorList checks that body is a CloudSigma error list and returns it.
func errorList(t *testing.T, c call) []map[string]any {
	t.Helper()
	var errs []map[string]any
	if err := json.Unmarshal(c.body, &errs); err != nil || len(errs) == 0 {
		t.Fatalf("status %d: not an error list: %s", c.status, c.body)
	}
	for _, e := range errs {
		for _, k := range []string{"error_point", "error_type", "error_message"} {
			if _, ok := e[k]; !ok {
				t.Errorf("error without %s: %s", k, c.body)
			}
		}
	}
	if ct := c.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("content type %q", ct)
	}
	return errs
}

func TestAuth(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{})
	for _, c := range []call{
		do(t, srv, "GET", "/api/2.0/drives/", "", "", ""),
		do(t, srv, "GET", "/api/2.0/drives/", "admin@example.com", "nope", ""),
		do(t, srv, "GET", "/api/2.0/drives/", "admin", "secret", ""), // CloudSigma logs in by email
	} {
		if c.status != 401 || c.header.Get("WWW-Authenticate") == "" {
			t.Errorf("status %d", c.status)
		}
		if errorList(t, c)[0]["error_type"] != "permission" {
			t.Errorf("body %s", c.body)
		}
	}
	if c := admin(t, srv, "GET", "/api/2.0/drives/", ""); c.status != 200 {
		t.Errorf("admin: %d %s", c.status, c.body)
	}
}

func TestListMetaAndPaging(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{})
	if _, err := srv.CloudSigma().AddServerWithDisks("admin@example.com", "wide", 30, 1<<30); err != nil {
		t.Fatal(err)
	}
	type list struct {
		Meta    map[string]int   `json:"meta"`
		Objects []map[string]any `json:"objects"`
	}
	get := func(path string) list {
		c := admin(t, srv, "GET", path, "")
		if c.status != 200 {
			t.Fatalf("%s: %d %s", path, c.status, c.body)
		}
		var l list
		if err := json.Unmarshal(c.body, &l); err != nil {
			t.Fatal(err)
		}
		return l
	}
	l := get("/api/2.0/drives/")
	if !reflect.DeepEqual(l.Meta, map[string]int{"limit": 20, "offset": 0, "total_count": 35}) || len(l.Objects) != 20 {
		t.Errorf("default page %v, %d objects", l.Meta, len(l.Objects))
	}
	keys := []string{}
	for k := range l.Objects[0] {
		keys = append(keys, k)
	}
	if len(keys) != 4 {
		t.Errorf("trimmed drive has %v", keys)
	}
	l = get("/api/2.0/drives/detail/?limit=0")
	if l.Meta["limit"] != 0 || len(l.Objects) != 35 || l.Objects[0]["jobs"] == nil {
		t.Errorf("limit=0: %v, %d objects", l.Meta, len(l.Objects))
	}
	l = get("/api/2.0/drives/?limit=10&offset=30")
	if l.Meta["offset"] != 30 || len(l.Objects) != 5 {
		t.Errorf("last page %v, %d", l.Meta, len(l.Objects))
	}
	l = get("/api/2.0/drives/?fields=uuid,status&limit=0")
	if len(l.Objects[0]) != 2 {
		t.Errorf("fields=: %v", l.Objects[0])
	}
	l = get("/api/2.0/drives/?name=web-data,scratch&limit=0")
	if l.Meta["total_count"] != 2 {
		t.Errorf("OR filter: %v", l.Meta)
	}
	l = get("/api/2.0/drives/?name__contains=WIDE-disk-1&name__contains=disk&limit=0")
	if l.Meta["total_count"] != 11 { // wide-disk-1 and wide-disk-10..19
		t.Errorf("contains filter: %v", l.Meta)
	}
	c := admin(t, srv, "GET", "/api/2.0/drives/?limit=abc", "")
	if c.status != 400 || errorList(t, c)[0]["error_point"] != "limit" {
		t.Errorf("bad limit: %d %s", c.status, c.body)
	}
	c = admin(t, srv, "GET", "/api/2.0/drives/?size=5", "")
	if c.status != 400 || errorList(t, c)[0]["error_type"] != "validation" {
		t.Errorf("unfilterable field: %d %s", c.status, c.body)
	}
	if l := get("/api/2.0/drives/?no_such_param=1"); l.Meta["total_count"] != 35 {
		t.Errorf("unknown parameter was not ignored: %v", l.Meta)
	}
}

func TestSplitFilter(t *testing.T) {
	for in, want := range map[string][]string{
		"a":                  {"a"},
		"a,b":                {"a", "b"},
		`name\,long\\,name2`: {`name,long\`, "name2"},
		`x\y`:                {`x\y`},
		"":                   {""},
	} {
		if got := cloudsigma.SplitFilter(in); !reflect.DeepEqual(got, want) {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

func TestRoutesAndMethods(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{})
	c := admin(t, srv, "GET", "/api/2.0/drives", "")
	if c.status != 301 || c.header.Get("Location") != "/api/2.0/drives/" {
		t.Errorf("no trailing slash: %d %v", c.status, c.header)
	}
	for _, m := range []string{"POST", "PUT", "DELETE"} {
		c := admin(t, srv, m, "/api/2.0/jobs/", "{}")
		if c.status != 405 || c.header.Get("Allow") != "GET" {
			t.Errorf("%s /jobs/: %d", m, c.status)
		}
		errorList(t, c)
	}
	c = admin(t, srv, "GET", "/api/2.0/drives/00000000-0000-4000-8000-000000000000/", "")
	if c.status != 404 || errorList(t, c)[0]["error_type"] != "notexist" {
		t.Errorf("404: %d %s", c.status, c.body)
	}
	c = admin(t, srv, "POST", "/api/2.0/drives/", `{"objects":[{"name":"a","size":1073741824,"media":"disk"}]}`)
	if c.status != 201 || !strings.HasPrefix(c.header.Get("Location"), "/api/2.0/drives/") {
		t.Errorf("create: %d %v", c.status, c.header)
	}
	// A missing field is "required" (the schema's required: true for name,
	// size and media); a present one that is wrong says what is wrong. A
	// name may be "" (pycloudsigma's test_websocket.py creates one so).
	for body, want := range map[string][2]string{
		`{"name": "a", "media": "disk"}`:                      {"size", "This field is required."},
		`{"name": "a", "size": 0, "media": "disk"}`:           {"size", "Ensure this value is greater than 0."},
		`{"name": "a", "size": 1073741824}`:                   {"media", "This field is required."},
		`{"name": "a", "size": 1073741824, "media": "tape"}`:  {"media", "Select a valid choice. tape is not one of the available choices."},
		`{"size": 1073741824, "media": "disk"}`:               {"name", "This field is required."},
		`{"name": null, "size": 1073741824, "media": "disk"}`: {"name", "This field is required."},
	} {
		c = admin(t, srv, "POST", "/api/2.0/drives/", body)
		if c.status != 400 {
			t.Errorf("%s: %d %s", body, c.status, c.body)
			continue
		}
		if e := errorList(t, c)[0]; e["error_point"] != want[0] || e["error_message"] != want[1] {
			t.Errorf("%s: %v, want %v", body, e, want)
		}
	}
	if c := admin(t, srv, "POST", "/api/2.0/drives/", `{"name": "", "size": 1073741824, "media": "disk"}`); c.status != 201 {
		t.Errorf(`name "": %d %s`, c.status, c.body)
	}
}

func TestCloneLifecycleAndHistory(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{})
	var drives struct {
		Objects []struct {
			UUID, Name, Status string
			Size               int64
		} `json:"objects"`
	}
	_ = json.Unmarshal(admin(t, srv, "GET", "/api/2.0/drives/detail/?name=scratch", "").body, &drives)
	src := drives.Objects[0]
	c := admin(t, srv, "POST", "/api/2.0/drives/"+src.UUID+"/action/?do=clone&avoid="+src.UUID, "")
	if c.status != 202 {
		t.Fatalf("clone: %d %s", c.status, c.body)
	}
	var out struct {
		Objects []struct {
			UUID, Status string
			Jobs         []struct{ UUID string }
		} `json:"objects"`
	}
	_ = json.Unmarshal(c.body, &out)
	d := out.Objects[0]
	jobID := d.Jobs[0].UUID
	b := srv.CloudSigma()
	if st, _ := b.DriveStatus(src.UUID); st != "cloning_src" || d.Status != "cloning_dst" {
		t.Errorf("statuses %s %s", st, d.Status)
	}
	srv.Clock().Advance(time.Minute) // half of a 2 GiB clone
	if j, _ := b.Job(jobID); j.Progress != 50 || j.State != "started" {
		t.Errorf("half way: %+v", j)
	}
	srv.Clock().Advance(time.Minute)
	j, _ := b.Job(jobID)
	if j.Progress != 100 || j.State != "success" {
		t.Errorf("done: %+v", j)
	}
	if st, _ := b.DriveStatus(d.UUID); st != "unmounted" {
		t.Errorf("clone status %s", st)
	}
	var job map[string]any
	_ = json.Unmarshal(admin(t, srv, "GET", "/api/2.0/jobs/"+jobID+"/", "").body, &job)
	for _, k := range []string{"children", "created", "data", "last_modified", "operation", "resource_uri", "resources", "state", "uuid"} {
		if _, ok := job[k]; !ok {
			t.Errorf("job document lacks %s: %v", k, job)
		}
	}
	if lm := job["last_modified"].(string); !strings.HasSuffix(lm, "+00:00") || len(lm) != len("2014-06-05T09:45:12.941760+00:00") {
		t.Errorf("timestamp %q", lm)
	}
	srv.Clock().Advance(cloudsigma.JobHistory + time.Second)
	if c := admin(t, srv, "GET", "/api/2.0/jobs/"+jobID+"/", ""); c.status != 404 {
		t.Errorf("job kept past 3 days: %d", c.status)
	}
	var after map[string]any
	_ = json.Unmarshal(admin(t, srv, "GET", "/api/2.0/drives/"+d.UUID+"/", "").body, &after)
	if jobs := after["jobs"].([]any); len(jobs) != 0 {
		t.Errorf("drive still references an expired job: %v", jobs)
	}
}

func TestCloneSizeRounding(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{})
	var drives struct {
		Objects []struct{ UUID string } `json:"objects"`
	}
	_ = json.Unmarshal(admin(t, srv, "GET", "/api/2.0/drives/?name=tools.iso", "").body, &drives)
	// dumps/request_drive_clone asks for 1207959631 bytes; the answer has 1207975936.
	c := admin(t, srv, "POST", "/api/2.0/drives/"+drives.Objects[0].UUID+"/action/?do=clone",
		`{"affinities": [], "media": "cdrom", "name": "test_drive_y", "size": 1207959631, "storage_type": "dssd"}`)
	var out struct {
		Objects []struct {
			Size         int64
			Name, Status string
		} `json:"objects"`
	}
	if err := json.Unmarshal(c.body, &out); err != nil || c.status != 202 {
		t.Fatalf("%d %s", c.status, c.body)
	}
	if o := out.Objects[0]; o.Size != 1207975936 || o.Name != "test_drive_y" || o.Status != "cloning_dst" {
		t.Errorf("%+v", o)
	}
}

// escapeFilter escapes one filter value as CloudSigma documents it: \ and
// , are preceded by a backslash.
func escapeFilter(v string) string {
	return strings.NewReplacer(`\`, `\\`, ",", `\,`).Replace(v)
}

// Values escaped as CloudSigma documents and joined with commas split back
// into the same values.
func FuzzFilterEscaping(f *testing.F) {
	f.Add("a", "b,c")
	f.Add(`x\`, `\,`)
	f.Add(`\\`, "")
	f.Fuzz(func(t *testing.T, a, b string) {
		got := cloudsigma.SplitFilter(escapeFilter(a) + "," + escapeFilter(b))
		if !reflect.DeepEqual(got, []string{a, b}) {
			t.Fatalf("%q %q came back as %q", a, b, got)
		}
	})
}
