package ftrack

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/longrun/longrun/fake/internal/pyjson"
)

// Test vectors computed with CPython 3:
//
//	hashlib.md5(json.dumps(v, sort_keys=True).encode("utf-8")).hexdigest()
//
// the way ftrack_api (session.py, _read_schemas_from_cache) hashes its
// schema cache to compare it with the server's schema_hash.
const (
	// trickyVector exercises key order, ensure_ascii escapes (Latin-1,
	// DEL, a character outside the BMP as a surrogate pair), the
	// separators, integers, floats, true, false and null.
	trickyVector = `[{"id": "Ünïcode", "properties": {"name": {"type": "string", "description": "quote \" backslash \\ tab \t nl \n del ` + "\u007f" + ` emoji 😀", "default": 0, "enum": [true, false, null, 1.5]}}}]`
	trickyHash   = "f7a21552f7d31e686e4100497099267a"
	trickyDump   = `[{"id": "\u00dcn\u00efcode", "properties": {"name": {"default": 0, "description": "quote \" backslash \\ tab \t nl \n del \u007f emoji \ud83d\ude00", "enum": [true, false, null, 1.5], "type": "string"}}}]`

	// fakeSchemasHash is the hash of the fake's query_schemas answer (19
	// schemas, each equal to the real server's recorded schema of that
	// type), computed by CPython over the answer as the client receives
	// it. Change it only together with schemaText.
	fakeSchemasHash = "58847ae280953e7b8cc53c52786bcc6c"
)

func TestSchemaHashAsPython(t *testing.T) {
	var v any
	if err := json.Unmarshal([]byte(trickyVector), &v); err != nil {
		t.Fatal(err)
	}
	if got := string(pyjson.Marshal(v)); got != trickyDump {
		t.Errorf("dump\n got %s\nwant %s", got, trickyDump)
	}
	if got := SchemaHash(v); got != trickyHash {
		t.Errorf("hash %s, want %s", got, trickyHash)
	}
}

// The server's schema_hash is what ftrack_api computes over the schemas
// it received, so its schema cache hits.
func TestFakeSchemaHash(t *testing.T) {
	b := seeded(t)
	raw, _ := json.Marshal(schemas())
	var received any
	if err := json.Unmarshal(raw, &received); err != nil {
		t.Fatal(err)
	}
	info := b.serverInformation()
	if info["schema_hash"] != fakeSchemasHash || SchemaHash(received) != fakeSchemasHash {
		t.Errorf("schema_hash %v, over the received schemas %s, want %s", info["schema_hash"], SchemaHash(received), fakeSchemasHash)
	}
	if py, err := exec.LookPath("python3"); err == nil {
		cmd := exec.Command(py, "-c", "import sys, json, hashlib; print(hashlib.md5(json.dumps(json.load(sys.stdin), sort_keys=True).encode('utf-8')).hexdigest())")
		cmd.Stdin = strings.NewReader(string(raw))
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("python3: %v", err)
		}
		if got := strings.TrimSpace(string(out)); got != fakeSchemasHash {
			t.Errorf("python3 computes %s", got)
		}
	}
}

// The fake serves every type a job and an attachment reach, and only the
// relations their schemas have.
func TestSchemasServed(t *testing.T) {
	for _, name := range []string{"Job", "User", "JobComponent", "Component", "FileComponent", "ContainerComponent",
		"ComponentLocation", "Location", "UserType", "AssetVersion", "Metadata", "Membership", "Timelog",
		"UserSecurityRole", "UserCustomAttributeValue", "Appointment", "DashboardResource", "CustomAttributeLink", "CustomAttributeLinkFrom"} {
		if _, ok := types[name]; !ok {
			t.Errorf("%s is not served", name)
		}
	}
	b := seeded(t)
	for _, expr := range []string{`select jobs from User`, `select job_components from FileComponent`, `select id from Job where user.jobs any ()`} {
		if _, aerr := b.query(t.Context(), &txn{limits: DefaultLimits}, expr); aerr == nil || aerr.Exception != "ParseError" {
			t.Errorf("%s: %v", expr, aerr)
		}
	}
	for _, expr := range []string{`select members, component_locations.location.name from ContainerComponent`,
		`select user_type.name, memberships, metadata from User`, `select components.name from AssetVersion`} {
		if _, aerr := b.query(t.Context(), &txn{limits: DefaultLimits}, expr); aerr != nil {
			t.Errorf("%s: %v", expr, aerr)
		}
	}
}
