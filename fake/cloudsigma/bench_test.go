package cloudsigma_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/longrun/longrun/fake"
)

// BenchmarkGetDriveAmidClones measures one GET /drives/{uuid}/ while
// clones of a 100-disk server run: the cost of a request must not grow
// with the number of jobs in the fake.
func BenchmarkGetDriveAmidClones(b *testing.B) {
	for _, clones := range []int{0, 10, 50} {
		b.Run(fmt.Sprintf("jobs=%d", clones*101), func(b *testing.B) {
			srv := fake.NewServer(b, fake.Options{})
			id, err := srv.CloudSigma().AddServerWithDisks("admin@example.com", "wide", 100, 50<<30)
			if err != nil {
				b.Fatal(err)
			}
			hc := &http.Client{}
			req := func(method, path, body string) []byte {
				r, _ := http.NewRequest(method, srv.URL()+path, strings.NewReader(body))
				r.SetBasicAuth("admin@example.com", "secret")
				resp, err := hc.Do(r)
				if err != nil {
					b.Fatal(err)
				}
				defer resp.Body.Close()
				out, _ := io.ReadAll(resp.Body)
				return out
			}
			for range clones {
				req("POST", "/api/2.0/servers/"+id+"/action/?do=clone", "")
			}
			var s struct {
				Drives []struct{ Drive struct{ UUID string } }
			}
			_ = json.Unmarshal(req("GET", "/api/2.0/servers/"+id+"/", ""), &s)
			path := "/api/2.0/drives/" + s.Drives[0].Drive.UUID + "/"
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if i%100 == 0 {
					srv.Clock().Advance(time.Second) // the clones move on
				}
				req("GET", path, "")
			}
		})
	}
}

// BenchmarkGetJobAt100kJobs measures GET /jobs/{uuid}/ of one job while
// the fake holds about 100,000 running jobs (1,000 clones of a 100-disk
// server), next to a plain net/http handler answering the same bytes.
func BenchmarkGetJobAt100kJobs(b *testing.B) {
	srv := fake.NewServer(b, fake.Options{})
	id, err := srv.CloudSigma().AddServerWithDisks("admin@example.com", "wide", 100, 50<<30)
	if err != nil {
		b.Fatal(err)
	}
	hc := &http.Client{}
	get := func(url string, auth bool) []byte {
		r, _ := http.NewRequest("GET", url, nil)
		if auth {
			r.SetBasicAuth("admin@example.com", "secret")
		}
		resp, err := hc.Do(r)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return out
	}
	var jobID string
	for range 1000 {
		r, _ := http.NewRequest("POST", srv.URL()+"/api/2.0/servers/"+id+"/action/?do=clone", nil)
		r.SetBasicAuth("admin@example.com", "secret")
		resp, err := hc.Do(r)
		if err != nil {
			b.Fatal(err)
		}
		var s struct{ Jobs []struct{ UUID string } }
		_ = json.NewDecoder(resp.Body).Decode(&s)
		resp.Body.Close()
		jobID = s.Jobs[0].UUID
	}
	_, _, njobs := srv.CloudSigma().Counts()
	b.Logf("%d jobs, %d timed changes queued", njobs, srv.CloudSigma().Queued())
	var leaf struct{ Children []struct{ UUID string } }
	_ = json.Unmarshal(get(srv.URL()+"/api/2.0/jobs/"+jobID+"/", true), &leaf)
	url := srv.URL() + "/api/2.0/jobs/" + leaf.Children[0].UUID + "/"
	body := get(url, true)
	b.Run("fake", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			get(url, true)
		}
	})
	b.Run("plain", func(b *testing.B) {
		plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			_, _ = w.Write(body)
		}))
		defer plain.Close()
		for i := 0; i < b.N; i++ {
			get(plain.URL, false)
		}
	})
}

// bigSizes are the numbers of clones the scale benchmarks make: 100,000
// only with LONGRUN_BIG=1.
func bigSizes() []int {
	if os.Getenv("LONGRUN_BIG") != "" {
		return []int{1000, 10000, 100000}
	}
	return []int{1000, 10000}
}

// BenchmarkServerClones makes N clones of a one-disk server through the
// backend's handler (no network) and reports what one clone POST costs at
// that size and the heap the backend keeps per clone (a server, a drive
// and two jobs): neither may grow with N.
func BenchmarkServerClones(b *testing.B) {
	for _, n := range bigSizes() {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				srv := fake.NewServer(b, fake.Options{})
				cs := srv.CloudSigma()
				id, err := cs.AddServerWithDisks("admin@example.com", "wide", 1, 1<<30)
				if err != nil {
					b.Fatal(err)
				}
				runtime.GC()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				path := "/api/2.0/servers/" + id + "/action/?do=clone"
				b.StartTimer()
				start := time.Now()
				for i := range n {
					r := httptest.NewRequest("POST", path, strings.NewReader(fmt.Sprintf(`{"name": "c%d"}`, i)))
					r.SetBasicAuth("admin@example.com", "secret")
					w := httptest.NewRecorder()
					cs.ServeHTTP(w, r)
					if w.Code != http.StatusAccepted {
						b.Fatalf("clone %d: %d %s", i, w.Code, w.Body)
					}
				}
				elapsed := time.Since(start)
				b.StopTimer()
				runtime.GC()
				runtime.ReadMemStats(&after)
				b.ReportMetric(float64(elapsed.Nanoseconds())/float64(n), "ns/clone")
				b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(n), "heapB/clone")
				runtime.KeepAlive(cs)
				b.StartTimer()
			}
		})
	}
}

// BenchmarkStartedPage measures one page of /jobs/?state=started (1,000
// jobs, as the SDK's Watcher asks) while N one-disk clones run (2N
// jobs): "next" is a page of a listing whose first page was asked while
// nothing changed since, "first" a page after a change (a whole filtering
// pass). Neither encodes more than its page.
func BenchmarkStartedPage(b *testing.B) {
	for _, n := range bigSizes() {
		srv := fake.NewServer(b, fake.Options{})
		cs := srv.CloudSigma()
		id, err := cs.AddServerWithDisks("admin@example.com", "wide", 1, 1<<30)
		if err != nil {
			b.Fatal(err)
		}
		do := func(method, path string) *httptest.ResponseRecorder {
			r := httptest.NewRequest(method, path, nil)
			r.SetBasicAuth("admin@example.com", "secret")
			w := httptest.NewRecorder()
			cs.ServeHTTP(w, r)
			return w
		}
		for range n {
			if w := do("POST", "/api/2.0/servers/"+id+"/action/?do=clone"); w.Code != http.StatusAccepted {
				b.Fatalf("clone: %d %s", w.Code, w.Body)
			}
		}
		page := func(offset int) {
			w := do("GET", fmt.Sprintf("/api/2.0/jobs/?state=started&limit=1000&offset=%d", offset))
			if w.Code != http.StatusOK || w.Body.Len() < 1000*100 {
				b.Fatalf("page: %d, %d bytes", w.Code, w.Body.Len())
			}
		}
		b.Run(fmt.Sprintf("clones=%d/next", n), func(b *testing.B) {
			page(0)
			for i := 0; i < b.N; i++ {
				page(1000 * (i % (2 * n / 1000)))
			}
		})
		b.Run(fmt.Sprintf("clones=%d/first", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				cs.SetJobDocument("no-such-job", nil) // a change the listing must see
				page(0)
			}
		})
	}
}
