package cloudsigma

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/longrun/longrun/fake/sim"
)

// The body readers never panic, and what they accept is a JSON object or
// list whose fields read back as their types or as a field error.
func FuzzDecodeBody(f *testing.F) {
	for _, s := range []string{
		`{"objects": [{"name": "a", "size": "1024000000", "media": "disk"}]}`,
		`[{"name": "a", "size": 1073741824, "media": "cdrom"}]`,
		`{"size": 1e30}`, `{"size": "-0"}`, `{"size": 1.5}`, `{"tags": [{"uuid": 1}]}`,
		`{"drives": [{"drive": {"resource_uri": "/api/2.0/drives/x/"}}]}`,
		`{}`, ``, `   `, `null`, `"x"`, `{} {}`, `[1, 2]`, `{"a":`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := decodeBody(bytes.NewReader(data))
		if err != nil {
			return
		}
		if v == nil {
			if len(bytes.TrimSpace(data)) != 0 {
				t.Fatalf("non-blank body %q decoded to nil", data)
			}
			return
		}
		objs, err := objectsOf(v)
		if err != nil {
			return
		}
		for _, o := range objs {
			for k := range o {
				_, _, _ = num(o, k)
				_, _, _ = str(o, k)
				_, _, _ = boolean(o, k)
				_, _, _ = object(o, k)
				_, _, _ = refs(o, k)
			}
			if n, ok, err := num(o, "size"); ok && err != nil {
				t.Fatalf("size %d both read and refused", n)
			}
		}
	})
}

// Any body sent to any write endpoint gets an answer from the documented
// set of statuses, and a refusal is a CloudSigma error list; the backend
// never panics.
func FuzzRequestBodies(f *testing.F) {
	f.Add(uint8(0), `{"name": "a", "size": "1073741824", "media": "disk"}`)
	f.Add(uint8(1), `{"name": "s", "cpu": "1000", "mem": 536870912, "vnc_password": "v", "drives": [{"drive": "{drive}"}],
		"nics": [{"ip_v4_conf": {"conf": "static", "ip": "1.2.3.4"}}]}`)
	f.Add(uint8(2), `{"nics": [{"vlan": {"uuid": "x"}}], "meta": {"k": "v"}, "tags": ["t"]}`)
	f.Add(uint8(3), `{"size": 4294967296}`)
	f.Add(uint8(4), `{"name": "c", "random_vnc_password": "true"}`)
	f.Add(uint8(5), `{"objects": [{"uuid": "{drive}"}]}`)
	f.Add(uint8(6), `{}`)
	f.Add(uint8(8), `{"drive": "{drive}", "name": "s", "meta": {"k": "v"}}`)
	f.Add(uint8(9), `{"name": "t", "resources": ["{drive}"]}`)
	f.Add(uint8(10), `{"username": "admin@example.com", "password": "secret"}`)
	f.Add(uint8(11), `{"name": "from-library", "size": "21474836480"}`)
	b := New(sim.NewEnv(nil, nil, nil))
	defer b.Close()
	var server, drive, lib string
	b.mu.Lock()
	for _, id := range b.serverOrder {
		server = id
		break
	}
	for _, id := range b.driveOrder {
		if d := b.drives[id]; d != nil && d.name == "scratch" {
			drive = id
		}
		if d := b.drives[id]; d != nil && d.lib != nil && lib == "" {
			lib = id
		}
	}
	b.mu.Unlock()
	routes := []struct{ method, path string }{
		{"POST", "/api/2.0/drives/"},
		{"POST", "/api/2.0/servers/"},
		{"PUT", "/api/2.0/servers/" + server + "/"},
		{"POST", "/api/2.0/drives/" + drive + "/action/?do=resize"},
		{"POST", "/api/2.0/servers/" + server + "/action/?do=clone"},
		{"DELETE", "/api/2.0/drives/"},
		{"PUT", "/api/2.0/drives/" + drive + "/"},
		{"POST", "/api/2.0/accounts/action/?do=authenticate_asynchronous"},
		{"POST", "/api/2.0/snapshots/"},
		{"POST", "/api/2.0/tags/"},
		{"POST", "/api/2.0/accounts/action/?do=login"},
		{"POST", "/api/2.0/libdrives/" + lib + "/action/?do=clone"},
	}
	ok := map[int]bool{200: true, 201: true, 202: true, 204: true, 400: true, 401: true, 403: true, 404: true}
	f.Fuzz(func(t *testing.T, route uint8, body string) {
		rt := routes[int(route)%len(routes)]
		body = strings.ReplaceAll(body, "{drive}", drive)
		req := httptest.NewRequest(rt.method, rt.path, strings.NewReader(body))
		req.SetBasicAuth("admin@example.com", "secret")
		w := httptest.NewRecorder()
		b.ServeHTTP(w, req)
		if !ok[w.Code] {
			t.Fatalf("%s %s %q: status %d %s", rt.method, rt.path, body, w.Code, w.Body)
		}
		if w.Code >= 400 {
			var errs []apiError
			if err := json.Unmarshal(w.Body.Bytes(), &errs); err != nil || len(errs) == 0 {
				t.Fatalf("refusal is not an error list: %s", w.Body)
			}
		}
		if w.Header().Get("X-REQUEST-ID") == "" {
			t.Fatal("no X-REQUEST-ID")
		}
	})
}

// Frames parse back, and ParseFrame never panics.
func FuzzParseFrame(f *testing.F) {
	f.Add([]byte(`{"resource_type": "jobs", "resource_uri": "/api/2.0/jobs/x/", "object": {"uuid": "x"}}`))
	f.Add([]byte(`{"resource_type": "drives", "resource_uri": "/api/2.0/drives/x/"}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, err := ParseFrame(data)
		if err != nil {
			return
		}
		again, err := json.Marshal(fr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseFrame(again); err != nil {
			t.Fatalf("%s does not parse back: %v", again, err)
		}
	})
}
