package cloudsigma_test

import (
	"testing"

	"github.com/longrun/longrun/fake"
)

// TestTagsFollowTheirResources follows tags.rst and pycloudsigma's
// test_tags.py: a tag's resources and its resources' tags are one
// relation, changed from either side; /tags/{uuid}/{kind}/ lists the
// tagged resources of a kind; deleting a tag untags everything.
func TestTagsFollowTheirResources(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{})
	d := firstObject(t, admin(t, srv, "POST", "/api/2.0/drives/", `{"name": "d", "size": 1073741824, "media": "disk"}`))["uuid"].(string)
	s := firstObject(t, admin(t, srv, "POST", "/api/2.0/servers/", `{"name": "s", "cpu": 1000, "mem": 536870912, "vnc_password": "v"}`))["uuid"].(string)
	refused(t, admin(t, srv, "POST", "/api/2.0/tags/", `{"name": "bad", "resources": ["94.26.101.182"]}`), 400, "validation")
	refused(t, admin(t, srv, "POST", "/api/2.0/tags/", `{"resources": []}`), 400, "validation")
	tag := firstObject(t, admin(t, srv, "POST", "/api/2.0/tags/", `{"name": "g", "resources": ["`+d+`", "`+s+`"]}`))
	id := tag["uuid"].(string)
	if res := tag["resources"].([]any); len(res) != 2 {
		t.Fatalf("created tag's resources: %v", tag)
	}
	tagsOf := func(kind, uuid string) int {
		return len(getJSON(t, srv, "/api/2.0/"+kind+"/"+uuid+"/")["tags"].([]any))
	}
	if tagsOf("drives", d) != 1 || tagsOf("servers", s) != 1 {
		t.Errorf("tags of the tagged: %d %d", tagsOf("drives", d), tagsOf("servers", s))
	}
	if n := total(t, srv, "/api/2.0/tags/"+id+"/drives/"); n != 1 {
		t.Errorf("tagged drives: %d", n)
	}
	if n := total(t, srv, "/api/2.0/tags/"+id+"/ips/"); n != 0 {
		t.Errorf("tagged ips: %d", n)
	}
	if c := admin(t, srv, "PUT", "/api/2.0/tags/"+id+"/", `{"name": "g2", "resources": ["`+s+`"]}`); c.status != 200 {
		t.Fatalf("PUT resources: %d %s", c.status, c.body)
	}
	if tagsOf("drives", d) != 0 || tagsOf("servers", s) != 1 {
		t.Errorf("after the tag's PUT: %d %d", tagsOf("drives", d), tagsOf("servers", s))
	}
	if c := admin(t, srv, "PUT", "/api/2.0/drives/"+d+"/", `{"tags": ["`+id+`"]}`); c.status != 200 {
		t.Fatalf("PUT drive tags: %d %s", c.status, c.body)
	}
	if res := getJSON(t, srv, "/api/2.0/tags/"+id+"/")["resources"].([]any); len(res) != 2 {
		t.Errorf("after the drive's PUT: %v", res)
	}
	if c := do(t, srv, "GET", "/api/2.0/tags/"+id+"/", "guest@example.com", "guest", ""); c.status != 404 {
		t.Errorf("another user's tag: %d", c.status)
	}
	if c := admin(t, srv, "DELETE", "/api/2.0/tags/"+id+"/", ""); c.status != 204 {
		t.Fatalf("delete: %d %s", c.status, c.body)
	}
	if tagsOf("drives", d) != 0 || tagsOf("servers", s) != 0 {
		t.Errorf("after the delete: %d %d", tagsOf("drives", d), tagsOf("servers", s))
	}
}
