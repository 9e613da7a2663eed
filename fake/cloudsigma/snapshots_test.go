package cloudsigma_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/fake/cloudsigma"
)

// TestSnapshotLifecycle follows snapshots.rst and pycloudsigma's
// test_snapshots.py: a snapshot is "creating" with a null allocated_size,
// then "available"; it cannot be cloned before; its drive lists it; the
// drive filter lists a drive's snapshots; a clone is a drive of the
// snapshot's size named as the snapshot; deleting the drive deletes its
// snapshots.
func TestSnapshotLifecycle(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{})
	d := firstObject(t, admin(t, srv, "POST", "/api/2.0/drives/", `{"name": "src", "size": 2147483648, "media": "disk"}`))["uuid"].(string)
	other := firstObject(t, admin(t, srv, "POST", "/api/2.0/drives/", `{"name": "other", "size": 1073741824, "media": "disk"}`))["uuid"].(string)
	srv.Clock().Advance(cloudsigma.SnapshotTime)
	refused(t, admin(t, srv, "POST", "/api/2.0/snapshots/", `{"name": "x"}`), 400, "validation")
	refused(t, admin(t, srv, "POST", "/api/2.0/snapshots/", `{"drive": "00000000-0000-4000-8000-000000000000"}`), 400, "validation")
	c := admin(t, srv, "POST", "/api/2.0/snapshots/", `{"objects": [{"drive": "`+d+`"}, {"drive": "`+d+`", "name": "two"}]}`)
	if c.status != 201 {
		t.Fatalf("create: %d %s", c.status, c.body)
	}
	var made struct{ Objects []map[string]any }
	_ = json.Unmarshal(c.body, &made)
	s1 := made.Objects[0]
	if s1["status"] != "creating" || s1["allocated_size"] != nil || !strings.HasPrefix(s1["name"].(string), d+"__") {
		t.Errorf("new snapshot: %v", s1)
	}
	id1, id2 := s1["uuid"].(string), made.Objects[1]["uuid"].(string)
	admin(t, srv, "POST", "/api/2.0/snapshots/", `{"drive": "`+other+`"}`)
	refused(t, admin(t, srv, "POST", "/api/2.0/snapshots/"+id1+"/action/?do=clone", ""), 403, "permission")
	srv.Clock().Advance(cloudsigma.SnapshotTime)
	if doc := getJSON(t, srv, "/api/2.0/snapshots/"+id1+"/"); doc["status"] != "available" || doc["allocated_size"] != 0.0 {
		t.Errorf("settled snapshot: %v", doc)
	}
	if snaps := getJSON(t, srv, "/api/2.0/drives/"+d+"/")["snapshots"].([]any); len(snaps) != 2 {
		t.Errorf("drive's snapshots: %v", snaps)
	}
	if n := total(t, srv, "/api/2.0/snapshots/detail/?drive="+d); n != 2 {
		t.Errorf("snapshots of the drive: %d", n)
	}
	if n := total(t, srv, "/api/2.0/snapshots/?name=two"); n != 1 {
		t.Errorf("snapshots named two: %d", n)
	}
	c = admin(t, srv, "POST", "/api/2.0/snapshots/"+id2+"/action/?do=clone", `{"size": 1073741824}`)
	refused(t, c, 400, "validation")
	c = admin(t, srv, "POST", "/api/2.0/snapshots/"+id2+"/action/?do=clone", "")
	var clone map[string]any
	if err := json.Unmarshal(c.body, &clone); err != nil || c.status != 202 || clone["name"] != "two" ||
		clone["size"] != 2147483648.0 || clone["status"] != "cloning_dst" {
		t.Fatalf("clone: %d %s", c.status, c.body)
	}
	if c := admin(t, srv, "DELETE", "/api/2.0/drives/"+d+"/", ""); c.status != 204 {
		t.Fatalf("delete drive: %d %s", c.status, c.body)
	}
	refused(t, admin(t, srv, "GET", "/api/2.0/snapshots/"+id1+"/", ""), 404, "notexist")
	if n := total(t, srv, "/api/2.0/snapshots/"); n != 1 {
		t.Errorf("snapshots left: %d", n)
	}
	// The guest sees none of admin's snapshots.
	if c := do(t, srv, "GET", "/api/2.0/snapshots/", "guest@example.com", "guest", ""); c.status != 200 || strings.Contains(string(c.body), other) {
		t.Errorf("guest: %d %s", c.status, c.body)
	}
}
