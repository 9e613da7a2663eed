package ftrack_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/longrun/longrun/ftrack"
	"github.com/longrun/longrun/jobs"
)

// Recorded real server responses, as ftrack-javascript keeps them in
// test/fixtures/*.json (values retyped here, not copied files).
const (
	recServerInformation = `{
  "storage_scenario": {"data": {}, "scenario": "ftrack.automatic"},
  "schema_hash": "23a1157b8b1730fd91c76f63dcd67a8f",
  "version": "dev",
  "is_timezone_support_enabled": true
}`
	recCreateFileComponent = `{
  "action": "create",
  "data": {
    "name": "data",
    "component_locations": [
      {
        "resource_identifier": "ebc0ace8-fe6f-497b-bf87-54f6f318014a",
        "__entity_type__": "ComponentLocation",
        "component": {"__entity_type__": "FileComponent", "id": "ebc0ace8-fe6f-497b-bf87-54f6f318014a"},
        "id": "beedc0e5-95f1-4902-a43e-6df5cc0ccf48",
        "component_id": "ebc0ace8-fe6f-497b-bf87-54f6f318014a"
      }
    ],
    "file_type": ".json",
    "__entity_type__": "FileComponent",
    "system_type": "file",
    "id": "ebc0ace8-fe6f-497b-bf87-54f6f318014a",
    "size": 13
  }
}`
	recCreateComponentLocation = `{"action": "create", "data": {"__entity_type__": "ComponentLocation", "id": "beedc0e5-95f1-4902-a43e-6df5cc0ccf48"}}`
	recGetUploadMetadata       = `{
  "url": "http://ftrack.test/file-url",
  "headers": {"Content-Length": "13", "Content-Type": "application/json"},
  "component_id": "702b7e69-f6ef-4d13-8193-dcbb480f57f5"
}`
	recCreateUser = `{
  "action": "create",
  "data": {
    "username": "25ba83d1-ef38-455e-9b75-17ace2ccabc1",
    "is_otp_enabled": false,
    "last_name": "last",
    "is_active": false,
    "first_name": "first",
    "is_totp_enabled": false,
    "require_details_update": false,
    "__entity_type__": "User",
    "user_type_id": "ac9fa5aa-4361-11e0-b7cc-0019bb4983d8",
    "id": "5c6060d1-2dc7-11ec-b3b6-1e00da110726",
    "resource_type": "user"
  }
}`
	recUpdateUser = `{"action": "update", "data": {"username": "testName-3e21c60e-33ac-4242-aaf8-b04a089821c7", "__entity_type__": "User", "id": "8b0cabd6-2b93-4a6e-9aff-e163bea8844e", "resource_type": "user"}}`
	recQueryTask  = `{
  "action": "query",
  "data": [
    {
      "name": "Filters via \"At a glance\" rendered with different paddings in Filters panel",
      "created_at": {"__type__": "datetime", "value": "2022-10-10T10:12:09"},
      "context_type": "task",
      "__entity_type__": "Task",
      "object_type_id": "11c137c0-ee7e-4f9c-91c5-8c77cec22b2c",
      "project_id": "95f5c536-4e65-11e1-afaa-f23c91df25eb",
      "id": "00a574b0-1c44-11e2-a9da-f23c91df25eb"
    }
  ],
  "metadata": {"next": {"offset": 1}}
}`
	recInvalidCredentials = `{"content": "The supplied API key is not valid. API keys are created from Settings under the page API keys. The api key should be passed in the request header \"ftrack-api-key\".", "exception": "InvalidCredentialsError", "error_code": null}`
	// The Job schema from query_schemas.json.
	recJobSchema = `{"default_projections": ["id"], "primary_key": ["id"], "required": ["id", "status", "type"], "immutable": ["id", "type"], "id": "Job", "type": "object", "properties": {"status": {"default": "queued", "enum": ["queued", "running", "done", "failed"], "type": "string"}, "user_id": {"format": "foreign_key", "type": "string", "description": "Foreign key(s): User.user_id", "alias_for": "userid"}, "finished_at": {"type": "string", "format": "date-time"}, "created_at": {"type": "string", "format": "date-time"}, "data": {"type": "string", "format": "json"}, "user": {"$ref": "User"}, "type": {"default": "api_job", "type": "string"}, "id": {"default": "{uid}", "type": "string", "alias_for": "jobid"}, "job_components": {"items": {"$ref": "JobComponent"}, "type": "array"}}}`
)

func batch(entries ...string) []byte {
	out := "["
	for i, e := range entries {
		if i > 0 {
			out += ","
		}
		out += e
	}
	return []byte(out + "]")
}

func TestRecordedResponsesDecode(t *testing.T) {
	body := batch(recServerInformation, "["+recJobSchema+"]", recCreateFileComponent, recCreateComponentLocation,
		recGetUploadMetadata, recCreateUser, recUpdateUser, recQueryTask)
	res, err := ftrack.DecodeResults(body, 8)
	if err != nil {
		t.Fatal(err)
	}
	var info ftrack.ServerInformation
	if err := res[0].Decode(&info); err != nil {
		t.Fatal(err)
	}
	if info.Version != "dev" || info.SchemaHash != "23a1157b8b1730fd91c76f63dcd67a8f" || !info.IsTimezoneSupportEnabled || string(info.StorageScenario) == "" {
		t.Fatalf("info %+v", info)
	}
	var schemas []ftrack.Schema
	if err := res[1].Decode(&schemas); err != nil {
		t.Fatal(err)
	}
	if len(schemas) != 1 || schemas[0].ID != "Job" || !reflect.DeepEqual(schemas[0].PrimaryKey, []string{"id"}) || len(schemas[0].Properties) != 9 {
		t.Fatalf("schema %+v", schemas)
	}
	var comp ftrack.FileComponent
	if res[2].Action != "create" {
		t.Fatalf("action %q", res[2].Action)
	}
	if err := res[2].Decode(&comp); err != nil {
		t.Fatal(err)
	}
	if comp.FileName() != "data.json" || *comp.Size != 13 || comp.SystemType != "file" || len(comp.ComponentLocations) != 1 ||
		comp.ComponentLocations[0].ResourceIdentifier != comp.ID || comp.ComponentLocations[0].Component.ID != comp.ID {
		t.Fatalf("component %+v", comp)
	}
	var cl ftrack.ComponentLocation
	if err := res[3].Decode(&cl); err != nil || cl.ID != "beedc0e5-95f1-4902-a43e-6df5cc0ccf48" {
		t.Fatalf("component location %+v %v", cl, err)
	}
	var md ftrack.UploadMetadata
	if err := res[4].Decode(&md); err != nil || md.URL != "http://ftrack.test/file-url" || md.Headers["Content-Length"] != "13" || md.ComponentID == "" {
		t.Fatalf("upload metadata %+v %v", md, err)
	}
	var u ftrack.User
	if err := res[5].Decode(&u); err != nil || u.Username != "25ba83d1-ef38-455e-9b75-17ace2ccabc1" || u.IsActive == nil || *u.IsActive ||
		u.FirstName != "first" || !strings.Contains(string(u.Raw), `"user_type_id": "ac9fa5aa-4361-11e0-b7cc-0019bb4983d8"`) {
		t.Fatalf("user %+v %v", u, err)
	}
	if err := res[6].Decode(&u); err != nil || u.Username != "testName-3e21c60e-33ac-4242-aaf8-b04a089821c7" || res[6].Action != "update" {
		t.Fatalf("update %+v %v", u, err)
	}
	var rows []map[string]json.RawMessage
	if err := res[7].Decode(&rows); err != nil || len(rows) != 1 {
		t.Fatal(err)
	}
	var created ftrack.DateTime
	if err := json.Unmarshal(rows[0]["created_at"], &created); err != nil {
		t.Fatal(err)
	}
	if !created.Equal(time.Date(2022, 10, 10, 10, 12, 9, 0, time.UTC)) {
		t.Fatalf("created_at %v", created)
	}
	if md := res[7].Metadata; md == nil || md.Next.Offset == nil || *md.Next.Offset != 1 {
		t.Fatalf("metadata %+v", res[7].Metadata)
	}
}

func TestUnknownFieldsSurviveReencoding(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    any
		doc  string
	}{
		{"FileComponent", &ftrack.FileComponent{}, `{"__entity_type__":"FileComponent","id":"c","name":"data","file_type":".json","size":13,"system_type":"file","future_attr":{"x":[1,2]}}`},
		{"User", &ftrack.User{}, recUpdateUser[strings.Index(recUpdateUser, `{"username"`) : len(recUpdateUser)-1]},
		{"Job", &ftrack.Job{}, `{"__entity_type__":"Job","id":"j","status":"running","type":"api_job","data":"{\"description\": \"x\"}","user_id":"u","created_at":{"__type__":"datetime","value":"2022-10-10T10:12:09"},"finished_at":null,"priority":3}`},
		{"ServerInformation", &ftrack.ServerInformation{}, recServerInformation},
		{"Schema", &ftrack.Schema{}, recJobSchema},
		{"UploadMetadata", &ftrack.UploadMetadata{}, recGetUploadMetadata},
	} {
		if err := json.Unmarshal([]byte(tc.doc), tc.v); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		out, err := json.Marshal(tc.v)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var a, b map[string]any
		_ = json.Unmarshal([]byte(tc.doc), &a)
		_ = json.Unmarshal(out, &b)
		for k, v := range a {
			if v == nil {
				continue // nulls may be dropped
			}
			if k == "created_at" {
				continue // re-encoded in UTC with a Z
			}
			if !reflect.DeepEqual(v, b[k]) {
				t.Errorf("%s: field %s: %v became %v", tc.name, k, v, b[k])
			}
		}
	}
}

func TestErrorBodyAndMalformedReplies(t *testing.T) {
	_, err := ftrack.DecodeResults([]byte(recInvalidCredentials), 1)
	var se *ftrack.ServerError
	if !errors.As(err, &se) || se.Exception != "InvalidCredentialsError" || se.Code() != "" || !errors.Is(err, jobs.ErrUnauthorized) {
		t.Fatalf("error body: %v", err)
	}
	_, err = ftrack.DecodeResults([]byte(`{"exception": "ValidationError", "content": "bad", "error_code": "E42"}`), 1)
	if !errors.As(err, &se) || se.Code() != "E42" || !errors.Is(err, ftrack.ErrValidation) {
		t.Fatalf("validation: %v", err)
	}
	for _, body := range []string{``, `null`, `{}`, `[`, `[{"action":"query"}]`, `"x"`, `[{"action": 3}]x`} {
		if _, err := ftrack.DecodeResults([]byte(body), 2); !errors.Is(err, ftrack.ErrMalformedResponse) {
			t.Errorf("%q: %v", body, err)
		}
	}
}

func TestDateTimeForms(t *testing.T) {
	want := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	for _, v := range []string{`"2026-03-04T05:06:07"`, `"2026-03-04T05:06:07Z"`, `"2026-03-04T07:06:07+02:00"`, `"2026-03-04 05:06:07"`} {
		var d ftrack.DateTime
		if err := json.Unmarshal([]byte(`{"__type__":"datetime","value":`+v+`}`), &d); err != nil || !d.Equal(want) {
			t.Errorf("%s: %v %v", v, d, err)
		}
	}
	var d ftrack.DateTime
	if err := json.Unmarshal([]byte(`{"__type__":"date","value":"2026-03-04"}`), &d); err != nil || !d.Equal(time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("date: %v %v", d, err)
	}
	if err := json.Unmarshal([]byte(`{"__type__":"money","value":"1"}`), &d); err == nil {
		t.Error("unknown __type__ accepted")
	}
	b, _ := json.Marshal(ftrack.NewDateTime(want.In(time.FixedZone("x", 3600))))
	if string(b) != `{"__type__":"datetime","value":"2026-03-04T05:06:07Z"}` {
		t.Errorf("encoded %s", b)
	}
}

func TestOperationsEncode(t *testing.T) {
	ops := []ftrack.Operation{
		ftrack.CreateOperation{EntityType: "Job", EntityKey: []string{"j1"}, EntityData: ftrack.Job{ID: "j1", Status: ftrack.StatusRunning}},
		ftrack.UpdateOperation{EntityType: "Job", EntityKey: []string{"j1"}, EntityData: map[string]any{"status": "done"}},
		ftrack.DeleteOperation{EntityType: "JobComponent", EntityKey: []string{"c", "j1"}},
		ftrack.QueryOperation{Expression: "select id from Job"},
		ftrack.QueryServerInformationOperation{},
		ftrack.QuerySchemasOperation{},
		ftrack.GetUploadMetadataOperation{ComponentID: "c", FileName: "a.log", FileSize: 3},
	}
	b, err := json.Marshal(ops)
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"action":"create","entity_data":{"__entity_type__":"Job","id":"j1","status":"running"},"entity_key":["j1"],"entity_type":"Job"},` +
		`{"action":"update","entity_data":{"__entity_type__":"Job","status":"done"},"entity_key":["j1"],"entity_type":"Job"},` +
		`{"action":"delete","entity_key":["c","j1"],"entity_type":"JobComponent"},` +
		`{"action":"query","expression":"select id from Job"},` +
		`{"action":"query_server_information"},{"action":"query_schemas"},` +
		`{"action":"get_upload_metadata","checksum":null,"component_id":"c","file_name":"a.log","file_size":3}]`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
}

func TestExpressionBuilder(t *testing.T) {
	o := &ftrack.ListOptions{
		Status: []ftrack.Status{ftrack.StatusRunning, ftrack.StatusQueued}, UserID: "u1", IDs: []string{`a"b`},
		CreatedAfter: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Where: `type is "api_job"`, Descending: true,
	}
	want := `select id, status, type, data, user_id, created_at, finished_at from Job where status in ("running", "queued") and user_id is "u1" and id in ("a\"b") and created_at > "2026-01-02T03:04:05" and (type is "api_job") order by created_at descending, id`
	if got := o.Expression(); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if p, ok := ftrack.Percent("Exporting 42.5% (step 3)"); !ok || p != 42.5 {
		t.Fatalf("percent %v %v", p, ok)
	}
	if _, ok := ftrack.Percent("no figure"); ok {
		t.Fatal("percent found in text without one")
	}
}

func TestRawKeepsUnknownNotClearedFields(t *testing.T) {
	var j ftrack.Job
	doc := `{"__entity_type__":"Job","id":"j","status":"done","finished_at":{"__type__":"datetime","value":"2022-10-10T10:12:09"},"priority":3}`
	if err := json.Unmarshal([]byte(doc), &j); err != nil {
		t.Fatal(err)
	}
	if string(j.Raw) != doc {
		t.Fatalf("raw %s", j.Raw)
	}
	j.FinishedAt = ftrack.DateTime{}
	j.Status = ftrack.StatusRunning
	out, err := json.Marshal(j)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"__entity_type__":"Job","id":"j","priority":3,"status":"running"}`
	if string(out) != want {
		t.Fatalf("got  %s\nwant %s", out, want)
	}
}
