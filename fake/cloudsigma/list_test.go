package cloudsigma

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/longrun/longrun/fake/sim"
)

// Deleted drives and servers leave their lists at once, though their ids
// leave the backend's creation order only in bulk: the lists keep that
// order, and their totals are right before and after each compaction.
func TestListsAfterDeletes(t *testing.T) {
	b := New(sim.NewEnv(nil, nil, nil))
	defer b.Close()
	do := func(method, path, body string) *httptest.ResponseRecorder {
		t.Helper()
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.SetBasicAuth("admin@example.com", "secret")
		w := httptest.NewRecorder()
		b.ServeHTTP(w, req)
		return w
	}
	names := func(kind string) []string {
		t.Helper()
		w := do("GET", Prefix+kind+"/?limit=0&fields=name,uuid", "")
		var l struct {
			Meta struct {
				TotalCount int `json:"total_count"`
			}
			Objects []struct{ Name, UUID string }
		}
		if err := json.Unmarshal(w.Body.Bytes(), &l); err != nil || w.Code != 200 || l.Meta.TotalCount != len(l.Objects) {
			t.Fatalf("%s list: %d %s", kind, w.Code, w.Body)
		}
		var out []string
		for _, o := range l.Objects {
			out = append(out, o.Name)
		}
		return out
	}
	seeded := names("drives")
	var ids, want []string
	for i := range 30 {
		w := do("POST", Prefix+"drives/", fmt.Sprintf(`{"name": "d%d", "size": 1073741824, "media": "disk"}`, i))
		var made struct{ Objects []struct{ UUID string } }
		if err := json.Unmarshal(w.Body.Bytes(), &made); err != nil || w.Code != 201 {
			t.Fatalf("create: %d %s", w.Code, w.Body)
		}
		ids = append(ids, made.Objects[0].UUID)
		want = append(want, fmt.Sprint("d", i))
	}
	b.env.Clock.Advance(CreateTime)
	for i := 29; i >= 0; i-- { // all but every fifth, the last first
		if i%5 == 0 {
			continue
		}
		if w := do("DELETE", Prefix+"drives/"+ids[i]+"/", ""); w.Code != 204 {
			t.Fatalf("delete: %d %s", w.Code, w.Body)
		}
		want = slices.Delete(want, i, i+1)
		if got := names("drives"); !slices.Equal(got, append(slices.Clone(seeded), want...)) {
			t.Fatalf("after deleting d%d: %v", i, got)
		}
	}
	if w := do("GET", Prefix+"drives/"+ids[1]+"/", ""); w.Code != 404 {
		t.Errorf("a deleted drive: %d", w.Code)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ordersGone*2 >= len(b.driveOrder)+len(b.serverOrder) {
		t.Errorf("%d deleted ids in an order of %d", b.ordersGone, len(b.driveOrder)+len(b.serverOrder))
	}
	if len(b.driveOrder) >= len(seeded)+30 {
		t.Errorf("no compaction: %d ids for %d drives", len(b.driveOrder), len(b.drives))
	}
}
