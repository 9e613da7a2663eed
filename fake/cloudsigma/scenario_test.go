package cloudsigma_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/fake/cloudsigma"
)

func getJSON(t *testing.T, srv *fake.Server, path string) map[string]any {
	t.Helper()
	c := admin(t, srv, "GET", path, "")
	var m map[string]any
	if c.status != 200 || json.Unmarshal(c.body, &m) != nil {
		t.Fatalf("GET %s: %d %s", path, c.status, c.body)
	}
	return m
}

func status(t *testing.T, srv *fake.Server, kind, uuid string) string {
	t.Helper()
	return getJSON(t, srv, "/api/2.0/"+kind+"/"+uuid+"/")["status"].(string)
}

func total(t *testing.T, srv *fake.Server, path string) int {
	t.Helper()
	return int(getJSON(t, srv, path)["meta"].(map[string]any)["total_count"].(float64))
}

// refused checks a refusal: the status and one CloudSigma error of type typ.
func refused(t *testing.T, c call, code int, typ string) {
	t.Helper()
	if c.status != code {
		t.Fatalf("status %d, want %d: %s", c.status, code, c.body)
	}
	if errs := errorList(t, c); len(errs) != 1 || errs[0]["error_type"] != typ {
		t.Errorf("errors %s", c.body)
	}
}

// A clone story over HTTP: a server with two disks and a nic starts, its
// disks are mounted, it stops, it is cloned, the clone's job reaches 100
// as the clock steps, and deleting both servers with their disks leaves
// nothing behind.
func TestCloneStoryOverHTTP(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{})
	drivesBefore, serversBefore := total(t, srv, "/api/2.0/drives/"), total(t, srv, "/api/2.0/servers/")

	// Two disks, sizes as strings as pycloudsigma's tests send them.
	c := admin(t, srv, "POST", "/api/2.0/drives/", `[{"name": "boot", "size": "2147483648", "media": "disk"},
		{"name": "data", "size": "1073741824", "media": "disk"}]`)
	if c.status != 201 {
		t.Fatalf("create drives: %d %s", c.status, c.body)
	}
	var made struct{ Objects []map[string]any }
	_ = json.Unmarshal(c.body, &made)
	boot, data := made.Objects[0]["uuid"].(string), made.Objects[1]["uuid"].(string)
	if made.Objects[0]["status"] != "creating" || made.Objects[0]["runtime"].(map[string]any)["is_snapshotable"] != nil {
		t.Errorf("new drive %v", made.Objects[0])
	}
	// A server cannot start on a drive still being created.
	c = admin(t, srv, "POST", "/api/2.0/servers/", fmt.Sprintf(`{"name": "story", "cpu": "2000", "mem": 1073741824,
		"vnc_password": "pw", "meta": {"role": "web"}, "tags": ["6d302107-fc0b-433a-99b1-9f2d3692eefc"],
		"drives": [{"drive": %q, "device": "virtio", "dev_channel": "0:0", "boot_order": 1},
		           {"drive": {"uuid": %q}, "device": "virtio", "dev_channel": "0:1"}],
		"nics": [{"ip_v4_conf": {"conf": "dhcp", "ip": null}, "model": "virtio"}]}`, boot, data))
	if c.status != 201 {
		t.Fatalf("create server: %d %s", c.status, c.body)
	}
	s := firstObject(t, c)
	id := s["uuid"].(string)
	if len(s["drives"].([]any)) != 2 || len(s["nics"].([]any)) != 1 || s["meta"].(map[string]any)["role"] != "web" ||
		len(s["tags"].([]any)) != 1 || s["cpu"].(float64) != 2000 || s["runtime"] != nil {
		t.Fatalf("server %v", s)
	}
	refused(t, admin(t, srv, "POST", "/api/2.0/servers/"+id+"/action/?do=start", "{}"), 403, "permission")
	srv.Clock().Advance(cloudsigma.CreateTime)
	for _, d := range []string{boot, data} {
		doc := getJSON(t, srv, "/api/2.0/drives/"+d+"/")
		if doc["status"] != "mounted" || len(doc["mounted_on"].([]any)) != 1 {
			t.Errorf("attached drive %v", doc)
		}
	}

	// Start: starting, then running with a runtime.
	c = admin(t, srv, "POST", "/api/2.0/servers/"+id+"/action/?do=start", "{}")
	if c.status != 202 || !strings.Contains(string(c.body), `"action":"start"`) {
		t.Fatalf("start: %d %s", c.status, c.body)
	}
	if st := status(t, srv, "servers", id); st != "starting" {
		t.Errorf("after start: %s", st)
	}
	refused(t, admin(t, srv, "POST", "/api/2.0/servers/"+id+"/action/?do=start", "{}"), 403, "permission")
	srv.Clock().Advance(cloudsigma.StartTime)
	doc := getJSON(t, srv, "/api/2.0/servers/"+id+"/")
	rt, _ := doc["runtime"].(map[string]any)
	if doc["status"] != "running" || rt == nil || rt["active_since"] == nil || len(rt["nics"].([]any)) != 1 {
		t.Fatalf("running server %v", doc)
	}
	for _, d := range []string{boot, data} {
		if st := status(t, srv, "drives", d); st != "mounted" {
			t.Errorf("drive of a running server: %s", st)
		}
	}
	// A running server takes only name, meta and tags.
	c = admin(t, srv, "PUT", "/api/2.0/servers/"+id+"/", `{"name": "story-2", "cpu": 4000}`)
	if doc := getJSON(t, srv, "/api/2.0/servers/"+id+"/"); c.status != 200 || doc["name"] != "story-2" || doc["cpu"].(float64) != 2000 {
		t.Errorf("PUT on a running server: %d %v", c.status, doc)
	}
	// Neither a mounted drive nor a running server can be deleted; a
	// drive of a running server cannot be resized.
	refused(t, admin(t, srv, "DELETE", "/api/2.0/drives/"+data+"/", ""), 403, "permission")
	refused(t, admin(t, srv, "DELETE", "/api/2.0/servers/"+id+"/?recurse=disks", ""), 403, "permission")
	refused(t, admin(t, srv, "POST", "/api/2.0/drives/"+data+"/action/?do=resize", `{"size": 4294967296}`), 403, "permission")

	// Stop: stopping, then stopped without a runtime.
	if c := admin(t, srv, "POST", "/api/2.0/servers/"+id+"/action/?do=stop", "{}"); c.status != 202 {
		t.Fatalf("stop: %d %s", c.status, c.body)
	}
	if st := status(t, srv, "servers", id); st != "stopping" {
		t.Errorf("after stop: %s", st)
	}
	srv.Clock().Advance(cloudsigma.StopTime)
	if doc := getJSON(t, srv, "/api/2.0/servers/"+id+"/"); doc["status"] != "stopped" || doc["runtime"] != nil {
		t.Errorf("stopped server %v", doc)
	}
	refused(t, admin(t, srv, "POST", "/api/2.0/servers/"+id+"/action/?do=stop", "{}"), 403, "permission")

	// Clone: the job's progress climbs to 100 as the clock steps.
	c = admin(t, srv, "POST", "/api/2.0/servers/"+id+"/action/?do=clone", `{"name": "story-clone"}`)
	if c.status != 202 {
		t.Fatalf("clone: %d %s", c.status, c.body)
	}
	var clone map[string]any
	_ = json.Unmarshal(c.body, &clone)
	cloneID := clone["uuid"].(string)
	jobID := clone["jobs"].([]any)[0].(map[string]any)["uuid"].(string)
	for _, a := range clone["drives"].([]any) {
		d := a.(map[string]any)["drive"].(map[string]any)["uuid"].(string)
		if doc := getJSON(t, srv, "/api/2.0/drives/"+d+"/"); doc["status"] != "cloning_dst" ||
			doc["runtime"].(map[string]any)["is_snapshotable"] != nil {
			t.Errorf("cloning drive %v", doc)
		}
	}
	last := -1.0
	for step := 0; ; step++ {
		j := getJSON(t, srv, "/api/2.0/jobs/"+jobID+"/")
		p := j["data"].(map[string]any)["progress"].(float64)
		if p < last {
			t.Fatalf("progress went back: %v after %v", p, last)
		}
		last = p
		if j["state"] == "success" {
			if p != 100 || len(j["children"].([]any)) != 2 {
				t.Errorf("finished job %v", j)
			}
			break
		}
		if step > 100 {
			t.Fatalf("job never finished: %v", j)
		}
		srv.Clock().Advance(10 * time.Second)
	}
	for _, a := range clone["drives"].([]any) {
		d := a.(map[string]any)["drive"].(map[string]any)["uuid"].(string)
		if st := status(t, srv, "drives", d); st != "mounted" {
			t.Errorf("cloned drive after the job: %s", st)
		}
	}
	for _, d := range []string{boot, data} {
		if st := status(t, srv, "drives", d); st != "mounted" {
			t.Errorf("source drive after the clone: %s", st)
		}
	}

	// Delete both with their disks: nothing of the story is left.
	for _, sid := range []string{id, cloneID} {
		if c := admin(t, srv, "DELETE", "/api/2.0/servers/"+sid+"/?recurse=all_drives", ""); c.status != 204 {
			t.Fatalf("delete: %d %s", c.status, c.body)
		}
	}
	if d, s := total(t, srv, "/api/2.0/drives/"), total(t, srv, "/api/2.0/servers/"); d != drivesBefore || s != serversBefore {
		t.Errorf("left behind: %d drives (had %d), %d servers (had %d)", d, drivesBefore, s, serversBefore)
	}
}

// DELETE ?recurse removes every disk it names however many there are (a
// loop that walked the attachment list while deletes compacted it used
// to leave disks behind), and keeps the other media.
func TestRecursiveDeleteRemovesEveryDisk(t *testing.T) {
	for _, tc := range []struct {
		recurse      string
		disks, cdrom bool // left behind
	}{
		{"disks", false, true},
		{"all_drives", false, false},
		{"cdroms", true, false},
		{"", true, true},
	} {
		t.Run("recurse="+tc.recurse, func(t *testing.T) {
			srv := fake.NewServer(t, fake.Options{})
			id, err := srv.CloudSigma().AddServerWithDisks("admin@example.com", "wide", 7, cloudsigma.GiB)
			if err != nil {
				t.Fatal(err)
			}
			s := getJSON(t, srv, "/api/2.0/servers/"+id+"/")
			var disks []string
			att := s["drives"].([]any)
			for _, a := range att {
				disks = append(disks, a.(map[string]any)["drive"].(map[string]any)["uuid"].(string))
			}
			c := admin(t, srv, "POST", "/api/2.0/drives/", `{"name": "iso", "size": 1073741824, "media": "cdrom"}`)
			cdrom := firstObject(t, c)["uuid"].(string)
			srv.Clock().Advance(cloudsigma.CreateTime)
			att = append(att, map[string]any{"drive": cdrom, "device": "ide", "dev_channel": "1:0"})
			body, _ := json.Marshal(map[string]any{"drives": att})
			if c := admin(t, srv, "PUT", "/api/2.0/servers/"+id+"/", string(body)); c.status != 200 {
				t.Fatalf("attach: %d %s", c.status, c.body)
			}
			path := "/api/2.0/servers/" + id + "/"
			if tc.recurse != "" {
				path += "?recurse=" + tc.recurse
			}
			if c := admin(t, srv, "DELETE", path, ""); c.status != 204 {
				t.Fatalf("delete: %d %s", c.status, c.body)
			}
			for _, d := range disks {
				if c := admin(t, srv, "GET", "/api/2.0/drives/"+d+"/", ""); (c.status == 200) != tc.disks {
					t.Errorf("disk %s: %d", d, c.status)
				} else if c.status == 200 && status(t, srv, "drives", d) != "unmounted" {
					t.Errorf("a disk of a deleted server is %s", status(t, srv, "drives", d))
				}
			}
			if c := admin(t, srv, "GET", "/api/2.0/drives/"+cdrom+"/", ""); (c.status == 200) != tc.cdrom {
				t.Errorf("cdrom: %d", c.status)
			}
		})
	}
	srv := fake.NewServer(t, fake.Options{})
	id, _ := srv.CloudSigma().AddServerWithDisks("admin@example.com", "x", 1, cloudsigma.GiB)
	refused(t, admin(t, srv, "DELETE", "/api/2.0/servers/"+id+"/?recurse=everything", ""), 400, "validation")
}

// Drive resize: PUT of a new size and the resize action both put the
// drive into "resizing" and settle on the clock.
func TestDriveResize(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{})
	c := admin(t, srv, "POST", "/api/2.0/drives/", `{"name": "r", "size": 1073741824, "media": "disk"}`)
	id := firstObject(t, c)["uuid"].(string)
	srv.Clock().Advance(cloudsigma.CreateTime)
	c = admin(t, srv, "PUT", "/api/2.0/drives/"+id+"/", `{"name": "r", "media": "disk", "size": "2147483648"}`)
	var d map[string]any
	_ = json.Unmarshal(c.body, &d)
	if c.status != 200 || d["status"] != "resizing" || d["size"].(float64) != 2147483648 {
		t.Fatalf("PUT size: %d %s", c.status, c.body)
	}
	refused(t, admin(t, srv, "POST", "/api/2.0/drives/"+id+"/action/?do=resize", `{"size": 4294967296}`), 403, "permission")
	refused(t, admin(t, srv, "POST", "/api/2.0/drives/"+id+"/action/?do=clone", ``), 403, "permission")
	srv.Clock().Advance(cloudsigma.ResizeTime)
	if st := status(t, srv, "drives", id); st != "unmounted" {
		t.Errorf("after resizing: %s", st)
	}
	c = admin(t, srv, "POST", "/api/2.0/drives/"+id+"/action/?do=resize", `{"name": "r2", "media": "disk", "size": 4294967296}`)
	if o := firstObject(t, c); c.status != 202 || o["status"] != "resizing" || o["name"] != "r2" || o["size"].(float64) != 4294967296 {
		t.Fatalf("resize action: %d %s", c.status, c.body)
	}
	refused(t, admin(t, srv, "PUT", "/api/2.0/drives/"+id+"/", `{"size": "lots"}`), 400, "validation")
}

// Shutdown, VNC and console actions follow the server's status.
func TestServerActions(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{})
	c := admin(t, srv, "POST", "/api/2.0/servers/", `{"name": "a", "cpu": 1000, "mem": 536870912, "vnc_password": "v"}`)
	id := firstObject(t, c)["uuid"].(string)
	act := func(do string) call { return admin(t, srv, "POST", "/api/2.0/servers/"+id+"/action/?do="+do, "{}") }
	refused(t, act("open_vnc"), 403, "permission")
	refused(t, act("shutdown"), 403, "permission")
	refused(t, act("reboot_into_the_void"), 400, "validation")
	if c := act("start"); c.status != 202 {
		t.Fatal(c.status)
	}
	srv.Clock().Advance(cloudsigma.StartTime)
	c = act("open_vnc")
	var res map[string]any
	_ = json.Unmarshal(c.body, &res)
	if c.status != 202 || !strings.HasPrefix(res["vnc_url"].(string), "vnc://") || res["result"] != "success" {
		t.Errorf("open_vnc: %d %s", c.status, c.body)
	}
	c = act("open_console")
	_ = json.Unmarshal(c.body, &res)
	if c.status != 202 || !strings.HasPrefix(res["console_url"].(string), "csconsole://") {
		t.Errorf("open_console: %d %s", c.status, c.body)
	}
	for _, do := range []string{"close_vnc", "close_console"} {
		if c := act(do); c.status != 202 {
			t.Errorf("%s: %d", do, c.status)
		}
	}
	if c := act("shutdown"); c.status != 202 {
		t.Fatal(c.status)
	}
	srv.Clock().Advance(cloudsigma.ShutdownTime - time.Second)
	if st := status(t, srv, "servers", id); st != "stopping" {
		t.Errorf("during shutdown: %s", st)
	}
	srv.Clock().Advance(time.Second)
	if st := status(t, srv, "servers", id); st != "stopped" {
		t.Errorf("after shutdown: %s", st)
	}
}

// The schema endpoints answer Tastypie schema documents, not a 404 for a
// drive named "schema".
func TestSchemas(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{})
	for kind, field := range map[string]string{"drives": "size", "servers": "vnc_password", "jobs": "operation"} {
		s := getJSON(t, srv, "/api/2.0/"+kind+"/schema/")
		f, ok := s["fields"].(map[string]any)[field].(map[string]any)
		if !ok || f["type"] == nil || s["default_limit"].(float64) != 20 {
			t.Errorf("%s schema: %v", kind, s)
		}
	}
	jobs := getJSON(t, srv, "/api/2.0/jobs/schema/")
	if _, ok := jobs["filtering"].(map[string]any)["state"]; !ok {
		t.Errorf("jobs filtering %v", jobs["filtering"])
	}
}

// Bad numbers and types are validation errors at their field, never a
// misleading "required".
func TestNumbersAndTypes(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{})
	for body, point := range map[string]string{
		`{"name": "a", "size": "12x", "media": "disk"}`:                                   "size",
		`{"name": "a", "size": 1.5, "media": "disk"}`:                                     "size",
		`{"name": 7, "size": 1073741824, "media": "disk"}`:                                "name",
		`{"name": "a", "size": 1073741824, "media": "tape"}`:                              "media",
		`{"name": "a", "size": 1073741824, "media": "disk", "allow_multimount": "maybe"}`: "allow_multimount",
	} {
		c := admin(t, srv, "POST", "/api/2.0/drives/", body)
		if c.status != 400 || errorList(t, c)[0]["error_point"] != point {
			t.Errorf("%s: %d %s", body, c.status, c.body)
		}
	}
	c := admin(t, srv, "POST", "/api/2.0/drives/", `{"name": "a", "size": "1073741824", "media": "disk", "allow_multimount": "true"}`)
	if o := firstObject(t, c); c.status != 201 || o["size"].(float64) != 1073741824 || o["allow_multimount"] != true {
		t.Errorf("string numbers: %d %s", c.status, c.body)
	}
	c = admin(t, srv, "POST", "/api/2.0/servers/", `{"name": "a", "cpu": "1000", "mem": "536870912", "smp": "2", "vnc_password": "v"}`)
	if o := firstObject(t, c); c.status != 201 || o["smp"].(float64) != 2 || o["mem"].(float64) != 536870912 {
		t.Errorf("server string numbers: %d %s", c.status, c.body)
	}
	refused(t, admin(t, srv, "POST", "/api/2.0/drives/", `{"name": "a"} trailing`), 400, "validation")
}
