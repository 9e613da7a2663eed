package cloudsigma_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/longrun/longrun/cloudsigma"
	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/rest"
)

// The documented CloudSigma responses (cloudsigma-docs, dumps/), written
// out here as test data.

// dumps/response_jobs_drive_clone
const docJobDriveClone = `{
    "children": [],
    "created": "2014-06-05T09:45:08.003595+00:00",
    "data": {
        "progress": 100
    },
    "last_modified": "2014-06-05T09:45:12.941760+00:00",
    "operation": "drive_clone",
    "resource_uri": "/api/2.0/jobs/6c809fa7-f797-4d0f-bbfb-b1b9ba737dda/",
    "resources": [
        "/api/2.0/drives/842e4c44-75a2-4d81-b812-9bc63d3be11e/",
        "/api/2.0/drives/963e3f37-572a-4e40-b70f-06f093ea7eb5/"
    ],
    "state": "success",
    "uuid": "6c809fa7-f797-4d0f-bbfb-b1b9ba737dda"
}`

// dumps/response_jobs_server_clone
const docJobServerClone = `{
    "children": [
        {
            "children": [],
            "created": "2014-06-05T09:50:06.771415+00:00",
            "data": {
                "progress": 100
            },
            "last_modified": "2014-06-05T09:50:12.817209+00:00",
            "operation": "drive_clone",
            "resource_uri": "/api/2.0/jobs/5cf1a9e0-c019-4022-9ca5-08af64fa5105/",
            "resources": [
                "/api/2.0/drives/4f41610b-b73b-49f0-a7c8-2e5cd110eb31/",
                "/api/2.0/drives/eaa0b214-7f8c-446d-9d6b-1c106fcd9aba/"
            ],
            "state": "success",
            "uuid": "5cf1a9e0-c019-4022-9ca5-08af64fa5105"
        }
    ],
    "created": "2014-06-05T09:50:06.436976+00:00",
    "data": {
        "progress": 100
    },
    "last_modified": "2014-06-05T09:50:12.726357+00:00",
    "operation": "server_clone",
    "resource_uri": "/api/2.0/jobs/4e1944be-a078-4ead-9d19-5f8823a84d42/",
    "resources": [
        "/api/2.0/servers/3ee19ba9-fd1a-435b-9dbf-559d188fba90/",
        "/api/2.0/servers/810850e5-593b-4c21-af9e-a7cadac5b79c/"
    ],
    "state": "success",
    "uuid": "4e1944be-a078-4ead-9d19-5f8823a84d42"
}`

// dumps/response_jobs_list (the meta and four of its twenty objects,
// including one with a child).
const docJobList = `{
    "meta": {
        "limit": 20,
        "offset": 0,
        "total_count": 500
    },
    "objects": [
        {
            "children": [],
            "created": "2014-06-05T00:27:12.890638+00:00",
            "data": {
                "progress": 100
            },
            "last_modified": "2014-06-05T00:27:17.537618+00:00",
            "operation": "drive_clone",
            "resource_uri": "/api/2.0/jobs/654b3d26-0b4a-41ff-b166-741adc9fcc61/",
            "resources": [],
            "state": "success",
            "uuid": "654b3d26-0b4a-41ff-b166-741adc9fcc61"
        },
        {
            "children": [],
            "created": "2014-06-04T13:48:30.146021+00:00",
            "data": {
                "progress": 100
            },
            "last_modified": "2014-06-04T13:48:30.182588+00:00",
            "operation": "server_clone",
            "resource_uri": "/api/2.0/jobs/2bb2929e-75e0-47ea-a7ef-88ae5c205bca/",
            "resources": [],
            "state": "success",
            "uuid": "2bb2929e-75e0-47ea-a7ef-88ae5c205bca"
        },
        {
            "children": [],
            "created": "2014-06-05T05:20:06.808650+00:00",
            "data": {
                "progress": 100
            },
            "last_modified": "2014-06-05T05:20:07.714198+00:00",
            "operation": "drive_clone",
            "resource_uri": "/api/2.0/jobs/f6f9423d-e239-48bf-b3e1-7eef57f41df5/",
            "resources": [
                "/api/2.0/drives/b9a2e66c-81d1-4de3-aac0-b6f2bde806f1/"
            ],
            "state": "success",
            "uuid": "f6f9423d-e239-48bf-b3e1-7eef57f41df5"
        },
        {
            "children": [
                {
                    "children": [],
                    "created": "2014-06-04T09:22:19.895663+00:00",
                    "data": {
                        "progress": 100
                    },
                    "last_modified": "2014-06-04T09:22:21.182049+00:00",
                    "operation": "drive_clone",
                    "resource_uri": "/api/2.0/jobs/b3c8791a-7163-47fd-871d-ce7e74cdea22/",
                    "resources": [],
                    "state": "success",
                    "uuid": "b3c8791a-7163-47fd-871d-ce7e74cdea22"
                }
            ],
            "created": "2014-06-04T09:22:19.229671+00:00",
            "data": {
                "progress": 100
            },
            "last_modified": "2014-06-04T09:22:21.090352+00:00",
            "operation": "server_clone",
            "resource_uri": "/api/2.0/jobs/2f9fb6cb-d879-4bfb-afaa-0e7e9e8c8171/",
            "resources": [],
            "state": "success",
            "uuid": "2f9fb6cb-d879-4bfb-afaa-0e7e9e8c8171"
        }
    ]
}`

// errors.rst, Example.
const docErrorValidation = `[
    {
        "error_message": "This field is required",
        "error_point": "resource",
        "error_type": "validation"
    }
]`

// A 404 body as CloudSigma sends it (quoted in pycloudsigma users' code).
const docErrorNotExist = `[{"error_point": null, "error_type": "notexist", "error_message": "Object with uuid b49dc74a-f7a5-42f5-9842-290e7475d67a does not exist"}]`

// sameJSON fails unless a and b hold the same JSON value.
func sameJSON(t *testing.T, a, b []byte) {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("first: %v", err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("second: %v", err)
	}
	if !reflect.DeepEqual(x, y) {
		t.Errorf("JSON differs:\n%s\nvs\n%s", a, b)
	}
}

func TestWireDocumentedJobs(t *testing.T) {
	for name, doc := range map[string]string{"drive_clone": docJobDriveClone, "server_clone": docJobServerClone} {
		t.Run(name, func(t *testing.T) {
			j, err := cloudsigma.DecodeJob([]byte(doc), 0)
			if err != nil {
				t.Fatal(err)
			}
			if j.Operation != name || j.State != "success" || j.Data == nil || *j.Data.Progress != 100 {
				t.Errorf("decoded %+v", j)
			}
			if j.Created.IsZero() || j.Created.Time.Nanosecond()%1000 != 0 || j.LastModified.Before(j.Created.Time) {
				t.Errorf("timestamps %v %v", j.Created, j.LastModified)
			}
			out, err := json.Marshal(j)
			if err != nil {
				t.Fatal(err)
			}
			sameJSON(t, []byte(doc), out)
			norm, err := j.ToJob(), error(nil)
			if err != nil {
				t.Fatal(err)
			}
			if norm.State != jobs.StateSucceeded || norm.RawState != "success" || !norm.TreeDone() || norm.Dialect != "cloudsigma" {
				t.Errorf("normalized %+v", norm)
			}
			if len(norm.Resources) != 2 || norm.Updated.IsZero() {
				t.Errorf("normalized %+v", norm)
			}
			sameJSON(t, []byte(doc), norm.Raw)
		})
	}
	j, _ := cloudsigma.DecodeJob([]byte(docJobServerClone), 0)
	norm, _ := j.ToJob(), error(nil)
	if len(norm.Children) != 1 || norm.Children[0].ID != "5cf1a9e0-c019-4022-9ca5-08af64fa5105" || norm.Children[0].Operation != "drive_clone" {
		t.Errorf("children %+v", norm.Children)
	}
}

func TestWireDocumentedJobList(t *testing.T) {
	l, err := cloudsigma.DecodeJobList([]byte(docJobList), 0)
	if err != nil {
		t.Fatal(err)
	}
	if l.Meta.Limit != 20 || l.Meta.TotalCount != 500 || len(l.Objects) != 4 {
		t.Fatalf("list %+v", l.Meta)
	}
	if len(l.Objects[3].Children) != 1 {
		t.Errorf("children %d", len(l.Objects[3].Children))
	}
	out, err := json.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, []byte(docJobList), out)
}

func TestWireUnknownFieldsKept(t *testing.T) {
	doc := `{"uuid":"a","operation":"drive_clone","state":"started","future":{"x":[1,2]},
	"data":{"progress":42.5,"eta_seconds":30,"description":"copying"},"children":null,
	"resources":[],"created":"2014-06-05T09:45:08+00:00","last_modified":null,"resource_uri":"/api/2.0/jobs/a/"}`
	j, err := cloudsigma.DecodeJob([]byte(doc), 0)
	if err != nil {
		t.Fatal(err)
	}
	if string(j.Extra["future"]) != `{"x":[1,2]}` || string(j.Data.Extra["eta_seconds"]) != "30" {
		t.Errorf("extra %s %s", j.Extra, j.Data.Extra)
	}
	out, _ := json.Marshal(j)
	sameJSON(t, []byte(doc), out)
	n, _ := j.ToJob(), error(nil)
	if n.State != jobs.StateRunning || n.Progress.Percent != 42.5 || !n.Progress.Known || n.Progress.Description != "copying" || n.Done() {
		t.Errorf("normalized %+v", n)
	}
}

func TestWireErrors(t *testing.T) {
	for _, doc := range []string{docErrorValidation, docErrorNotExist} {
		errs, err := cloudsigma.DecodeErrors([]byte(doc))
		if err != nil || len(errs) != 1 {
			t.Fatalf("%v %v", errs, err)
		}
		out, _ := json.Marshal(errs)
		sameJSON(t, []byte(doc), out)
	}
	e := &rest.APIError{StatusCode: 400}
	cloudsigma.DecodeAPIError(e, []byte(docErrorValidation))
	if e.Type != "validation" || e.Message != "resource: This field is required" {
		t.Errorf("APIError %+v", e)
	}
	if d := cloudsigma.ErrorsOf(e); len(d) != 1 || *d[0].Point != "resource" {
		t.Errorf("details %+v", d)
	}
	e = &rest.APIError{StatusCode: 404}
	cloudsigma.DecodeAPIError(e, []byte(docErrorNotExist))
	if e.Type != cloudsigma.TypeNotExist || !strings.Contains(e.Message, "does not exist") || cloudsigma.ErrorsOf(e)[0].Point != nil {
		t.Errorf("APIError %+v", e)
	}
	// Bodies that are not error lists leave the error as it was.
	for _, bad := range []string{"", "<html>502</html>", "[]", "[1,2]", `{"detail":"x"}`, strings.Repeat("[", 5000)} {
		e := &rest.APIError{StatusCode: 502}
		cloudsigma.DecodeAPIError(e, []byte(bad))
		if e.Type != "" || e.Details != nil {
			t.Errorf("%q decoded into %+v", bad, e)
		}
	}
}

func TestCloudSigmaState(t *testing.T) {
	for raw, want := range map[string]jobs.State{
		"started": jobs.StateRunning, "success": jobs.StateSucceeded, "failed": jobs.StateFailed,
		"error": jobs.StateFailed, "cancelled": jobs.StateAborted, "paused": jobs.StateUnknown, "": jobs.StateUnknown,
	} {
		if got := cloudsigma.JobState(raw); got != want {
			t.Errorf("%q: %v, want %v", raw, got, want)
		}
	}
	j, _ := cloudsigma.DecodeJob([]byte(`{"uuid":"x","state":"migrating","data":{"progress":100}}`), 0)
	n, _ := j.ToJob(), error(nil)
	// Progress 100 means finished on CloudSigma, whatever the state word.
	if n.State != jobs.StateSucceeded || n.RawState != "migrating" || !n.Done() {
		t.Errorf("%+v", n)
	}
	// Below 100 an unknown word stays unknown and is not done.
	j, _ = cloudsigma.DecodeJob([]byte(`{"uuid":"x","state":"migrating","data":{"progress":40}}`), 0)
	n, _ = j.ToJob(), error(nil)
	if n.State != jobs.StateUnknown || n.RawState != "migrating" || n.Done() {
		t.Errorf("%+v", n)
	}
	// A failure word at 100 is still a failure.
	j, _ = cloudsigma.DecodeJob([]byte(`{"uuid":"x","state":"failed","data":{"progress":100}}`), 0)
	n, _ = j.ToJob(), error(nil)
	if n.State != jobs.StateFailed || !n.Done() {
		t.Errorf("%+v", n)
	}
}

// deepDoc builds a job document whose children nest n levels.
func deepDoc(n int) []byte {
	var b strings.Builder
	for i := range n {
		b.WriteString(`{"uuid":"j`)
		b.WriteString(strings.Repeat("x", i%3))
		b.WriteString(`","state":"started","data":{"progress":1},"children":[`)
	}
	b.WriteString(`{"uuid":"leaf","state":"started"}`)
	for range n {
		b.WriteString(`]}`)
	}
	return []byte(b.String())
}

func TestDecodeTooDeep(t *testing.T) {
	for _, n := range []int{100, 9_999, 100_000} {
		_, err := cloudsigma.DecodeJob(deepDoc(n), 0)
		if !errors.Is(err, jobs.ErrTooDeep) {
			t.Errorf("depth %d: %v", n, err)
		}
	}
	if _, err := cloudsigma.DecodeJob(deepDoc(50), 0); err != nil {
		t.Errorf("depth 50 is fine: %v", err)
	}
	if _, err := cloudsigma.DecodeJob(deepDoc(50), 10); !errors.Is(err, jobs.ErrTooDeep) {
		t.Errorf("depth 50 with limit 10: %v", err)
	}
	// A tree built in Go with a pointer cycle converts without a stall
	// (cut into a partial reference), and the walk reports the cycle.
	a := &cloudsigma.Job{UUID: "a"}
	a.Children = []*cloudsigma.Job{a}
	var te *jobs.TreeError
	if err := jobs.Check(a.ToJob(), jobs.WalkOptions{}); !errors.As(err, &te) || !errors.Is(err, jobs.ErrCycle) {
		t.Errorf("pointer cycle: %v", err)
	}
}

func TestDecodeMalformed(t *testing.T) {
	for _, bad := range []string{"", "null", "[", `{"uuid":5}`, `{"children":{}}`, `{"data":[]}`} {
		if _, err := cloudsigma.DecodeJob([]byte(bad), 0); !errors.Is(err, cloudsigma.ErrMalformed) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestFilterEscaping(t *testing.T) {
	for in, want := range map[string]string{"a": "a", "a,b": `a\,b`, `x\`: `x\\`, `x\,y`: `x\\\,y`} {
		if got := cloudsigma.EscapeFilter(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

func FuzzDecodeJob(f *testing.F) {
	for _, s := range []string{docJobDriveClone, docJobServerClone, docJobList, `{"uuid":"a","children":[{"uuid":"a"}]}`, "null", "[]", string(deepDoc(40))} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		j, err := cloudsigma.DecodeJob(data, 16)
		if err != nil {
			if !errors.Is(err, cloudsigma.ErrMalformed) && !errors.Is(err, jobs.ErrTooDeep) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if !json.Valid(data) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		n := j.ToJob()
		_ = jobs.Check(n, jobs.WalkOptions{MaxDepth: 16})
		_ = n.Aggregate()
		out, err := json.Marshal(j)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		j2, err := cloudsigma.DecodeJob(out, 16)
		if err != nil {
			t.Fatalf("re-decode of %s: %v", out, err)
		}
		if j2.UUID != j.UUID || j2.State != j.State || len(j2.Children) != len(j.Children) {
			t.Fatalf("round trip changed the job: %s", out)
		}
		// Lossless: what was re-encoded encodes again to the same bytes.
		out2, err := json.Marshal(j2)
		if err != nil || string(out2) != string(out) {
			t.Fatalf("second round trip differs:\n%s\n%s", out, out2)
		}
	})
}

func FuzzDecodeErrors(f *testing.F) {
	for _, s := range []string{docErrorValidation, docErrorNotExist, `{"error_type":"backend","error_message":"x"}`, "[null]", "<html>"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e := &rest.APIError{StatusCode: 400}
		cloudsigma.DecodeAPIError(e, data)
		errs, err := cloudsigma.DecodeErrors(data)
		if err != nil {
			if !errors.Is(err, cloudsigma.ErrMalformed) {
				t.Fatalf("untyped error %v", err)
			}
			if e.Details != nil {
				t.Fatal("details set for a body that did not decode")
			}
			return
		}
		if len(errs) == 0 || e.Type != errs[0].Type {
			t.Fatalf("decoder disagrees: %+v vs %+v", e, errs)
		}
		if _, err := json.Marshal(errs); err != nil {
			t.Fatal(err)
		}
	})
}
