package freezer_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/longrun/longrun/freezer"
	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/rest"
)

// apiRefJob is api-ref/source/v2/samples/job-get-response.json from
// openstack/freezer-api (its stray trailing comma removed).
const apiRefJob = `{
        "project_id": "752d8bd43d654e7a840bbfda77ce41af",
        "user_id": "0cd44caf6db5486b94a04b33256a5ff4",
        "description": "Test-0001",
        "_version": 83,
        "job_schedule":
        {
            "schedule_interval": "2 minutes",
            "status": "scheduled",
            "time_started": 1493119341,
            "time_created": 1493051865,
            "time_ended": 1493119342,
            "result": "success",
            "current_pid": 10058,
            "event": ""
        },
        "client_id": "752d8bd43d654e7a840bbfda77ce41af_szaher",
        "job_actions":
        [
            {
                "freezer_action":
                {
                    "backup_name": "test0001_backup",
                    "container": "/tmp/test0001_container",
                    "no_incremental": true,
                    "path_to_backup": "/etc/",
                    "storage": "local",
                    "log_file": "/home/saad/job0001.log",
                    "snapshot": false,
                    "action": "backup",
                    "remove_older_than": 365
                },
                "max_retries": 5,
                "max_retries_interval": 6,
                "user_id": "0cd44caf6db5486b94a04b33256a5ff4",
                "action_id": "280d51d041ce4d4da8a386e96263f759",
                "project_id": "752d8bd43d654e7a840bbfda77ce41af"
            }
        ],
        "job_id": "0ae284d514eb47dd84154748b5056749"
}`

// semantic decodes JSON into plain values for comparison.
func semantic(t testing.TB, data []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("%v: %s", err, data)
	}
	return v
}

func TestAPIRefSampleRoundTrip(t *testing.T) {
	var j freezer.Job
	if err := json.Unmarshal([]byte(apiRefJob), &j); err != nil {
		t.Fatal(err)
	}
	if j.JobID != "0ae284d514eb47dd84154748b5056749" || j.JobSchedule.Status != freezer.StatusScheduled ||
		j.JobSchedule.Result != freezer.ResultSuccess || j.JobSchedule.CurrentPID != 10058 ||
		j.JobActions[0].MaxRetriesInterval != 6 || j.JobActions[0].FreezerAction.PathToBackup != "/etc/" {
		t.Errorf("decoded %+v", j)
	}
	if string(j.Extra["_version"]) != "83" || string(j.JobActions[0].FreezerAction.Extra["log_file"]) != `"/home/saad/job0001.log"` {
		t.Errorf("extras %v %v", j.Extra, j.JobActions[0].FreezerAction.Extra)
	}
	out, err := json.Marshal(&j)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(semantic(t, out), semantic(t, []byte(apiRefJob))) {
		t.Errorf("re-encoded differently:\n%s", out)
	}
	// The sample's "event": "" survives: a present zero value is kept.
	if !bytes.Contains(out, []byte(`"event":""`)) {
		t.Errorf("lost the empty event: %s", out)
	}
	n := j.ToJob()
	if n.State != jobs.StateSucceeded || n.RawState != "scheduled/success" || n.Operation != "backup" || n.Updated.Unix() != 1493119342 {
		t.Errorf("normalized %+v", n)
	}
}

func TestDecodeKeepsMistypedFields(t *testing.T) {
	in := `{"job_id":"a","session_tag":"seven","job_schedule":{"time_started":"later","shiny":[1]},"job_actions":[{"freezer_action":{"mode":5},"mandatory":"yes"}],"project_id":null}`
	var j freezer.Job
	if err := json.Unmarshal([]byte(in), &j); err != nil {
		t.Fatal(err)
	}
	if j.SessionTag != 0 || string(j.Extra["session_tag"]) != `"seven"` || string(j.JobSchedule.Extra["time_started"]) != `"later"` {
		t.Errorf("mistyped values not kept raw: %+v", j)
	}
	out, _ := json.Marshal(&j)
	want := semantic(t, []byte(in)).(map[string]any)
	if !reflect.DeepEqual(semantic(t, out), want) {
		t.Errorf("round trip:\n%s", out)
	}
}

// TestDecodeDuplicateKeys: a later duplicate key wins, as in
// encoding/json, and a null one is written back as null.
func TestDecodeDuplicateKeys(t *testing.T) {
	in := `{"job_id":"a","job_id":null,"client_id":"x","client_id":5,"description":5,"description":"d","job_schedule":{"event":"start","event":null}}`
	var j freezer.Job
	if err := json.Unmarshal([]byte(in), &j); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(&j)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"job_id":null,"client_id":5,"description":"d","job_schedule":{"event":null}}`
	if !reflect.DeepEqual(semantic(t, out), semantic(t, []byte(want))) {
		t.Errorf("got %s, want %s", out, want)
	}
}

// TestDecodeKeepsWhatDoesNotFit: a list with an element that is not an
// action is kept whole rather than read as an empty action, and an Extra
// value that is not JSON is an error rather than a silent null.
func TestDecodeKeepsWhatDoesNotFit(t *testing.T) {
	in := `{"job_actions":[{"freezer_action":{"action":"backup"}},null],"action_defaults":[1]}`
	var j freezer.Job
	if err := json.Unmarshal([]byte(in), &j); err != nil {
		t.Fatal(err)
	}
	if j.JobActions != nil || j.ActionDefaults != nil || len(j.Extra) != 2 {
		t.Errorf("decoded %+v", j)
	}
	out, err := json.Marshal(&j)
	if err != nil || !reflect.DeepEqual(semantic(t, out), semantic(t, []byte(in))) {
		t.Errorf("round trip: %s %v", out, err)
	}
	j.Extra["broken"] = json.RawMessage(`{"a":`)
	if _, err := json.Marshal(&j); err == nil || !strings.Contains(err.Error(), "broken") {
		t.Errorf("invalid Extra encoded: %v", err)
	}
	if err := j.UnmarshalJSON([]byte(`{} {}`)); err == nil {
		t.Error("trailing data accepted")
	}
}

func TestNormalizeStates(t *testing.T) {
	cases := []struct {
		s     freezer.JobSchedule
		state jobs.State
	}{
		{freezer.JobSchedule{}, jobs.StateQueued},
		{freezer.JobSchedule{Event: "start"}, jobs.StateQueued},
		{freezer.JobSchedule{Status: "scheduled"}, jobs.StateQueued},
		{freezer.JobSchedule{Status: "running", Result: "success"}, jobs.StateRunning},
		{freezer.JobSchedule{Status: "aborting"}, jobs.StateRunning},
		{freezer.JobSchedule{Status: "completed", Result: "success"}, jobs.StateSucceeded},
		{freezer.JobSchedule{Status: "scheduled", Result: "success"}, jobs.StateSucceeded},
		{freezer.JobSchedule{Status: "completed", Result: "fail"}, jobs.StateFailed},
		{freezer.JobSchedule{Status: "completed", Result: "aborted"}, jobs.StateAborted},
		{freezer.JobSchedule{Status: "stop"}, jobs.StateAborted},
		{freezer.JobSchedule{Status: "removed"}, jobs.StateAborted},
		{freezer.JobSchedule{Status: "completed"}, jobs.StateFailed},
		{freezer.JobSchedule{Status: "completed", Result: "partial"}, jobs.StateUnknown},
		{freezer.JobSchedule{Status: "paused"}, jobs.StateUnknown},
	}
	for _, c := range cases {
		j := &freezer.Job{JobID: "x", JobSchedule: c.s}
		if got := j.ToJob(); got.State != c.state || got.Dialect != "freezer" {
			t.Errorf("%+v -> %s, want %s", c.s, got.State, c.state)
		}
	}
}

func TestValidation(t *testing.T) {
	ok := []string{"continuous", "1 weeks", "10  minutes", "7 seconds\n", "٣ days"}
	for _, s := range ok {
		sc := freezer.JobSchedule{ScheduleInterval: s}
		if err := sc.Validate(); err != nil {
			t.Errorf("%q refused: %v", s, err)
		}
	}
	bad := []string{"10 mins", "minutes", "1 minutes ", "-1 days", " 1 days", "1 Days"}
	for _, s := range bad {
		sc := freezer.JobSchedule{ScheduleInterval: s}
		if err := sc.Validate(); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
	dates := map[string]bool{"2026-01-02T03:04:05": true, "2026-01-02T03:04:05.123Z": true, "2026-01-02T03:04:05+01:00": true,
		"2026-01-02": false, "2026-13-02T03:04:05": false, "2026-01-02 03:04:05": false, "12026-01-02T03:04:05": true}
	for d, want := range dates {
		sc := freezer.JobSchedule{ScheduleDate: d}
		if got := sc.Validate() == nil; got != want {
			t.Errorf("date %q valid=%v, want %v", d, got, want)
		}
	}
	j := &freezer.Job{ClientID: "proj_host-1.example.com", Description: strings.Repeat("é", 32), JobActions: []freezer.JobAction{}}
	if err := j.Validate(); err != nil {
		t.Errorf("64-byte description refused: %v", err)
	}
	j.Description += "x"
	if err := j.Validate(); err == nil || !strings.Contains(err.Error(), "65 bytes") {
		t.Errorf("65 bytes: %v", err)
	}
	if err := (&freezer.Job{}).ValidatePatch(); err != nil {
		t.Errorf("empty patch: %v", err)
	}
	for in, want := range map[string]int64{"continuous": 1, "2 weeks": 1209600, "3  hours": 10800} {
		if got, ok := freezer.ParseInterval(in); !ok || got != want {
			t.Errorf("ParseInterval(%q) = %d %v", in, got, ok)
		}
	}
}

func TestDecodeError(t *testing.T) {
	cases := map[string][2]string{
		`{"title": "Bad request format", "description": "x"}`:                  {"Bad request format", "x"},
		`{"title": "Malformed JSON"}`:                                          {"Malformed JSON", ""},
		`{"error": {"code": 401, "title": "Unauthorized", "message": "auth"}}`: {"Unauthorized", "auth"},
		`<html>`:       {"", ""},
		`{"other": 1}`: {"", ""},
		`[]`:           {"", ""},
		`{"title": 5}`: {"", ""},
	}
	for body, want := range cases {
		e := &rest.APIError{StatusCode: 400}
		freezer.DecodeError(e, []byte(body))
		if e.Type != want[0] || e.Message != want[1] {
			t.Errorf("%s -> %q %q, want %q", body, e.Type, e.Message, want)
		}
	}
}

func FuzzJobDecode(f *testing.F) {
	f.Add([]byte(apiRefJob))
	f.Add([]byte(`{"job_id":"a","job_schedule":{},"job_actions":[]}`))
	f.Add([]byte(`{"job_actions":[{"freezer_action":null,"x":{"y":[1,2]}}],"job_schedule":{"event":5}}`))
	f.Add([]byte(`{"jobs":[{"job_id":"\u00e9"}]}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"job_schedule":"x","action_defaults":[],"session_tag":1e400}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var j freezer.Job
		if err := json.Unmarshal(data, &j); err != nil {
			return
		}
		out, err := json.Marshal(&j)
		if err != nil {
			t.Fatalf("re-encoding %q: %v", data, err)
		}
		var again freezer.Job
		if err := json.Unmarshal(out, &again); err != nil {
			t.Fatalf("re-decoding %q: %v", out, err)
		}
		out2, err := json.Marshal(&again)
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("not stable:\n%s\n%s", out, out2)
		}
		_ = j.ToJob()
		_ = j.Validate()
		// Known string fields agree with encoding/json's own reading.
		var generic map[string]any
		if json.Unmarshal(data, &generic) == nil {
			for k, got := range map[string]string{"job_id": j.JobID, "client_id": j.ClientID, "description": j.Description} {
				if want, ok := generic[k].(string); ok && want != got {
					t.Fatalf("%s: %q, encoding/json reads %q", k, got, want)
				}
			}
		}
	})
}

func FuzzErrorDecode(f *testing.F) {
	f.Add([]byte(`{"title": "Not Found", "description": "No Job found with ID:x"}`))
	f.Add([]byte(`{"error": {"code": 401, "title": "Unauthorized", "message": "m"}}`))
	f.Add([]byte(`{"title": "Malformed JSON"}`))
	f.Add([]byte(`{"error": null, "title": null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e := &rest.APIError{StatusCode: 400, Method: "GET", URL: "http://x/v1/jobs"}
		freezer.DecodeError(e, data)
		if e.Type != "" || e.Message != "" {
			if _, ok := e.Details.(*freezer.ErrorBody); !ok {
				t.Fatalf("Type/Message set without Details for %q", data)
			}
		}
		_ = e.Error()
	})
}

// FuzzResourceDecode decodes any document as each resource type: decoding
// never panics, and re-encoding is stable (the keys, nulls and unknown
// fields a document came with are written back the same way twice).
func FuzzResourceDecode(f *testing.F) {
	f.Add([]byte(`{"project_id": null, "user_id": "u", "client": {"uuid": "x", "hostname": "h", "client_id": "c", "description": null}}`))
	f.Add([]byte(`{"project_id": "p", "action_id": "a", "user_id": "u", "max_retries": 5, "max_retries_interval": null, "freezer_action": {"action": "backup", "mode": null, "x": [1, null]}}`))
	f.Add([]byte(`{"project_id": "p", "session_id": "s", "session_tag": 1, "result": null, "hold_off": 30, "status": "running", "time_start": 5, "schedule": {}, "jobs": {"j": {"client_id": "c", "status": "running", "result": "", "time_started": 5, "time_ended": ""}}}`))
	f.Add([]byte(`{"project_id": null, "backup_id": "b", "user_id": "u", "user_name": null, "backup_metadata": {"container": "c", "hostname": "h", "backup_name": "n", "time_stamp": 1, "extra": null}}`))
	f.Add([]byte(`{"jobs": [], "schedule": null, "client": 5, "freezer_action": "x", "backup_metadata": []}`))
	stable := func(t *testing.T, data []byte, v any, fresh func() any) {
		if err := json.Unmarshal(data, v); err != nil {
			return
		}
		out, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("re-encoding %q as %T: %v", data, v, err)
		}
		again := fresh()
		if err := json.Unmarshal(out, again); err != nil {
			t.Fatalf("re-decoding %q as %T: %v", out, v, err)
		}
		out2, err := json.Marshal(again)
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("%T not stable:\n%s\n%s", v, out, out2)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		stable(t, data, &freezer.Agent{}, func() any { return &freezer.Agent{} })
		stable(t, data, &freezer.Action{}, func() any { return &freezer.Action{} })
		stable(t, data, &freezer.Session{}, func() any { return &freezer.Session{} })
		stable(t, data, &freezer.Backup{}, func() any { return &freezer.Backup{} })
	})
}

// TestNullsAndOrderKept: a document decodes and re-encodes byte for byte
// (compact), nulls and key order included; a null field that is set is
// written with its new value in its place.
func TestNullsAndOrderKept(t *testing.T) {
	in := `{"job_id":"j","project_id":null,"user_id":"u","job_schedule":{"time_created":1,"event":null},"client_id":"c","session_id":"","session_tag":0,"description":"","job_actions":[{"freezer_action":{"action":"backup","zeta":1,"alpha":null},"user_id":"u","action_id":"a"}]}`
	var j freezer.Job
	if err := json.Unmarshal([]byte(in), &j); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(&j)
	if string(out) != in {
		t.Errorf("re-encoded:\n%s\nwant\n%s", out, in)
	}
	j.ProjectID = "p"
	out, _ = json.Marshal(&j)
	if !strings.HasPrefix(string(out), `{"job_id":"j","project_id":"p","user_id":"u"`) {
		t.Errorf("set null field: %s", out)
	}
}

// FuzzDecodeAgreesWithEncodingJSON: a job document decodes exactly when
// encoding/json accepts it, and a string field reads as encoding/json
// reads it.
func FuzzDecodeAgreesWithEncodingJSON(f *testing.F) {
	f.Add([]byte(apiRefJob))
	f.Add([]byte(`{"description": "caf\u00e9 \ud83d\ude00 \ud800", "client_id": "a\"b"}`))
	f.Add([]byte(`{"description": "\xff\xfe", "session_tag": -0.5e+3}`))
	f.Add([]byte(`{"a": [1, 2, {"b": [true, false, null]}], "job_id": "x"} `))
	f.Add([]byte(`{"a": 01}`))
	f.Add([]byte(`{"a": 1.}`))
	f.Add([]byte("{\"a\": \"\t\"}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var j freezer.Job
		err := json.Unmarshal(data, &j)
		var generic map[string]any
		gerr := json.Unmarshal(data, &generic)
		if (err == nil) != (gerr == nil) {
			t.Fatalf("%q: freezer %v, encoding/json %v", data, err, gerr)
		}
		if err != nil {
			return
		}
		for k, got := range map[string]string{"job_id": j.JobID, "client_id": j.ClientID, "description": j.Description} {
			if want, ok := generic[k].(string); ok && want != got {
				t.Fatalf("%s: %q, encoding/json reads %q", k, got, want)
			}
		}
	})
}
