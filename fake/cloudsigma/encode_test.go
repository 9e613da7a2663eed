package cloudsigma

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/longrun/longrun/fake/sim"
)

// serve sends one request as the seeded admin and returns the answer.
func serve(t *testing.T, b *Backend, method, path string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	req.SetBasicAuth("admin@example.com", "secret")
	w := httptest.NewRecorder()
	b.ServeHTTP(w, req)
	return w
}

// The hand-written job encoder writes, byte for byte, what encoding/json
// writes for jobDoc's map, at every stage of a clone (running, some
// children done, failed with a message that needs escaping, finished, a
// child overridden), cached or not; and a list of jobs is what
// encoding/json writes for the list of those maps.
func TestAppendJobIsJSONMarshal(t *testing.T) {
	b := New(sim.NewEnv(nil, nil, nil))
	defer b.Close()
	b.mu.Lock()
	var web string
	for _, id := range b.serverOrder {
		if s := b.servers[id]; s.name == "web-1" && s.owner == "5b4a69a3-8e78-4c45-a8ba-8b13f0895e23" {
			web = id
		}
	}
	b.mu.Unlock()
	if web == "" {
		t.Fatal("no seeded web-1")
	}
	for range 3 {
		if w := serve(t, b, "POST", Prefix+"servers/"+web+"/action/?do=clone"); w.Code != 202 {
			t.Fatalf("clone: %d %s", w.Code, w.Body)
		}
		b.env.Clock.Advance(7 * time.Second)
	}
	b.mu.Lock()
	var leaves []string
	for _, j := range b.jobOrder {
		if len(j.children) == 0 {
			leaves = append(leaves, j.uuid)
		}
	}
	b.mu.Unlock()
	if err := b.FailJob(leaves[1], "error", `disk <gone> & "lost"`+"\n\tü \u2028 \x01"); err != nil {
		t.Fatal(err)
	}
	check := func(stage string) {
		t.Helper()
		b.mu.Lock()
		defer b.mu.Unlock()
		b.advanceLocked()
		now := b.now()
		var objects []any
		for _, j := range b.jobOrder {
			if j.gone {
				continue
			}
			want, err := json.Marshal(b.jobDoc(j, 0))
			if err != nil {
				t.Fatal(err)
			}
			for pass := range 2 { // the second pass reads the leaves' cache
				got, err := b.appendJob([]byte("x"), j, now, 0)
				if err != nil || !bytes.Equal(got[1:], want) {
					t.Fatalf("%s, pass %d, job %s:\n got %s %v\nwant %s", stage, pass, j.uuid, got[1:], err, want)
				}
			}
			if raw, ok := b.overrides[j.uuid]; ok {
				objects = append(objects, json.RawMessage(raw))
			} else {
				objects = append(objects, b.jobDoc(j, 0))
			}
		}
		want, _ := json.Marshal(map[string]any{"meta": map[string]any{"limit": 0, "offset": 0, "total_count": len(objects)},
			"objects": objects})
		b.mu.Unlock()
		w := serve(t, b, "GET", Prefix+"jobs/?limit=0")
		b.mu.Lock()
		if w.Code != 200 || !bytes.Equal(w.Body.Bytes(), want) {
			t.Fatalf("%s: list %d\n got %s\nwant %s", stage, w.Code, w.Body, want)
		}
	}
	check("running")
	b.env.Clock.Advance(40 * time.Second)
	check("partly done")
	b.SetJobDocument(leaves[2], []byte(` { "uuid" : "override <x>", "children": [ ] } `))
	check("a child overridden")
	b.SetJobDocument(leaves[2], nil)
	b.env.Clock.Advance(10 * time.Minute)
	check("finished")
	b.env.Clock.Advance(JobHistory + time.Hour)
	check("expired")
}

// A frame is what encoding/json writes for Frame.
func TestAppendFrameIsJSONMarshal(t *testing.T) {
	for _, obj := range [][]byte{nil, []byte(`{"a":1}`)} {
		want, _ := json.Marshal(Frame{ResourceType: "jobs", ResourceURI: Prefix + "jobs/x<&>/", Object: obj})
		var add func([]byte) ([]byte, error)
		if obj != nil {
			add = func(buf []byte) ([]byte, error) { return append(buf, obj...), nil }
		}
		if got, err := appendFrame(nil, "jobs", "x<&>", add); err != nil || !bytes.Equal(got, want) {
			t.Errorf("got %s %v, want %s", got, err, want)
		}
	}
}

// The key sets lists check filters against are the documents' keys.
func TestDocKeys(t *testing.T) {
	b := New(sim.NewEnv(nil, nil, nil))
	defer b.Close()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range []struct {
		name string
		doc  map[string]any
		keys map[string]bool
	}{
		{"drive", b.driveDoc(b.drives[b.driveOrder[0]]), driveDocKeys},
		{"server", b.serverDoc(b.servers[b.serverOrder[0]]), serverDocKeys},
		{"job", b.jobDoc(&job{}, 0), jobDocKeys},
	} {
		if got, want := slices.Sorted(maps.Keys(c.doc)), slices.Sorted(maps.Keys(c.keys)); !slices.Equal(got, want) {
			t.Errorf("%s: document keys %v, listed %v", c.name, got, want)
		}
	}
}

// appendString writes any string as encoding/json does.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", `<a href="x">&amp;</a>`, "\x00\x1f\x7f", "ü\u2028\u2029", "\xff\xfe bad utf-8", `\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendString([]byte("x"), s); !bytes.Equal(got[1:], want) {
			t.Fatalf("%q: got %s, want %s", s, got[1:], want)
		}
	})
}

// The filtered listing a /jobs/ list keeps for its next page follows
// every change a filter sees: a new job, a failed one, finished ones, an
// override, an expired history.
func TestJobListCacheFollowsChanges(t *testing.T) {
	b := New(sim.NewEnv(nil, nil, nil))
	defer b.Close()
	b.mu.Lock()
	web := b.serverOrder[0]
	b.mu.Unlock()
	total := func(query string) int {
		t.Helper()
		w := serve(t, b, "GET", Prefix+"jobs/?"+query)
		var l struct {
			Meta struct {
				TotalCount int `json:"total_count"`
			}
			Objects []json.RawMessage
		}
		if err := json.Unmarshal(w.Body.Bytes(), &l); w.Code != 200 || err != nil {
			t.Fatalf("%s: %d %s", query, w.Code, w.Body)
		}
		return l.Meta.TotalCount
	}
	want := func(stage string, started, all int) {
		t.Helper()
		for _, offset := range []string{"0", "1", "5"} { // pages of one listing
			if got := total("state=started&limit=2&offset=" + offset); got != started {
				t.Errorf("%s: %d started, want %d", stage, got, started)
			}
			if got := total("limit=2&offset=" + offset); got != all {
				t.Errorf("%s: %d jobs, want %d", stage, got, all)
			}
		}
	}
	want("none", 0, 0)
	clone := func() {
		if w := serve(t, b, "POST", Prefix+"servers/"+web+"/action/?do=clone"); w.Code != 202 {
			t.Fatalf("clone: %d %s", w.Code, w.Body)
		}
	}
	clone()
	want("one clone", 4, 4) // the server clone and its three disks'
	clone()
	want("two clones", 8, 8)
	b.mu.Lock()
	leaf := b.jobOrder[1].uuid
	b.mu.Unlock()
	if err := b.FailJob(leaf, "error", "gone"); err != nil {
		t.Fatal(err)
	}
	want("one failed", 7, 8)
	b.SetJobDocument("11111111-1111-4111-8111-111111111111", []byte(`{"uuid": "11111111-1111-4111-8111-111111111111"}`))
	want("an override", 7, 9)
	b.env.Clock.Advance(time.Hour)
	want("finished", 1, 9) // the first clone's job waits on its failed disk
	b.env.Clock.Advance(JobHistory + time.Hour)
	want("expired", 1, 5)
}
