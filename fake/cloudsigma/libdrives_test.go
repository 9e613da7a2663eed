package cloudsigma_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/longrun/longrun/fake"
)

// TestLibraryDrives follows libdrives.rst: the library is listed at
// /libdrives/ (filtered by its documented filters), read through
// /drives/{uuid}/ with a null owner but never listed among the caller's
// drives, cloned (through either resource) into the caller's account
// while it stays unmounted itself, attached as is when a CDROM and
// refused when a disk; nobody may change or delete it, and a recursive
// delete of a server leaves it alone.
func TestLibraryDrives(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{})
	var list struct {
		Meta    map[string]any   `json:"meta"`
		Objects []map[string]any `json:"objects"`
	}
	c := admin(t, srv, "GET", "/api/2.0/libdrives/?limit=0", "")
	if err := json.Unmarshal(c.body, &list); err != nil || c.status != 200 || len(list.Objects) < 2 {
		t.Fatalf("libdrives: %d %s", c.status, c.body)
	}
	var disk, cdrom string
	for _, d := range list.Objects {
		switch {
		case d["owner"] != nil:
			t.Errorf("library drive with an owner: %v", d)
		case d["media"] == "disk" && disk == "":
			disk = d["uuid"].(string)
		case d["media"] == "cdrom" && cdrom == "":
			cdrom = d["uuid"].(string)
		}
	}
	if disk == "" || cdrom == "" {
		t.Fatalf("want a library disk and cdrom: %v", list.Objects)
	}
	for q, want := range map[string]int{"os=linux": len(list.Objects), "os=windows": 0, "category=general": len(list.Objects),
		"image_type=install": 1, "name__icontains=DEBIAN": 2, "uuid=" + disk: 1} {
		c := admin(t, srv, "GET", "/api/2.0/libdrives/?"+q, "")
		if err := json.Unmarshal(c.body, &list); err != nil || len(list.Objects) != want {
			t.Errorf("?%s: %d objects, want %d: %s", q, len(list.Objects), want, c.body)
		}
	}
	refused(t, admin(t, srv, "GET", "/api/2.0/libdrives/?media=disk", ""), 400, "validation")
	refused(t, admin(t, srv, "POST", "/api/2.0/libdrives/", `{"name": "x", "size": 1073741824, "media": "disk"}`), 405, "permission")

	doc := getJSON(t, srv, "/api/2.0/drives/"+disk+"/")
	if doc["owner"] != nil || doc["resource_uri"] != "/api/2.0/drives/"+disk+"/" || doc["status"] != "unmounted" {
		t.Errorf("library drive through /drives/: %v", doc)
	}
	c = admin(t, srv, "GET", "/api/2.0/drives/?limit=0&uuid="+disk, "")
	if err := json.Unmarshal(c.body, &list); err != nil || len(list.Objects) != 0 {
		t.Errorf("library drive among the caller's drives: %s", c.body)
	}
	refused(t, admin(t, srv, "PUT", "/api/2.0/drives/"+disk+"/", `{"name": "mine"}`), 403, "permission")
	refused(t, admin(t, srv, "DELETE", "/api/2.0/drives/"+disk+"/", ""), 403, "permission")
	refused(t, admin(t, srv, "POST", "/api/2.0/drives/"+disk+"/action/?do=resize", `{"size": 21474836480}`), 403, "permission")

	// Clones, through /drives/ and through /libdrives/.
	var clones []string
	for _, path := range []string{"/api/2.0/drives/" + disk + "/action/?do=clone", "/api/2.0/libdrives/" + disk + "/action/?do=clone"} {
		c := admin(t, srv, "POST", path, `{"name": "from-library"}`)
		if c.status != 202 {
			t.Fatalf("%s: %d %s", path, c.status, c.body)
		}
		d := firstObject(t, c)
		if d["owner"] == nil || d["status"] != "cloning_dst" || d["name"] != "from-library" {
			t.Errorf("clone of a library drive: %v", d)
		}
		clones = append(clones, d["uuid"].(string))
	}
	if st := status(t, srv, "drives", disk); st != "unmounted" {
		t.Errorf("library drive while cloned: %s", st)
	}
	srv.Clock().Advance(time.Hour)
	for _, id := range clones {
		if st := status(t, srv, "drives", id); st != "unmounted" {
			t.Errorf("clone %s: %s", id, st)
		}
	}

	// A library disk cannot be attached; a library cdrom can, and stays.
	attach := func(id string) call {
		return admin(t, srv, "POST", "/api/2.0/servers/", `{"name": "lib", "cpu": 1000, "mem": 536870912, "vnc_password": "v",
			"drives": [{"drive": "`+id+`", "device": "ide", "dev_channel": "0:0"}]}`)
	}
	refused(t, attach(disk), 403, "permission")
	c = attach(cdrom)
	if c.status != 201 {
		t.Fatalf("server with a library cdrom: %d %s", c.status, c.body)
	}
	sid := firstObject(t, c)["uuid"].(string)
	if c := admin(t, srv, "DELETE", "/api/2.0/servers/"+sid+"/?recurse=all_drives", ""); c.status != 204 {
		t.Fatalf("recursive delete: %d %s", c.status, c.body)
	}
	if c := admin(t, srv, "GET", "/api/2.0/libdrives/"+cdrom+"/", ""); c.status != 200 {
		t.Errorf("library cdrom after a recursive delete: %d %s", c.status, c.body)
	}
	refused(t, admin(t, srv, "GET", "/api/2.0/libdrives/"+clones[0]+"/", ""), 404, "notexist")
}
