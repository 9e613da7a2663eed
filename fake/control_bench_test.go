package fake_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/fake/sim"
)

// BenchmarkJobGET compares GETs of one CloudSigma job on the fake with a
// plain net/http handler that answers the same bytes and headers: the
// ratio of their ns/op is the fake's overhead per request (auth, routing,
// the job's tick and encoding, the request log, faults, recovery).
func BenchmarkJobGET(b *testing.B) {
	srv := fake.NewServer(b, fake.Options{Clock: sim.NewClock(sim.Epoch)})
	job := cloneWeb1(b, srv)
	url := srv.CloudSigmaURL() + "jobs/" + job + "/"
	get := func(b *testing.B, url string) []byte {
		req, _ := http.NewRequest("GET", url, nil)
		req.SetBasicAuth("admin@example.com", "secret")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		return body
	}
	same := get(b, url)
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = w.Write(same)
	}))
	b.Cleanup(plain.Close)
	run := func(url string) func(*testing.B) {
		return func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					get(b, url)
				}
			})
		}
	}
	b.Run("fake", run(url))
	b.Run("plain", run(plain.URL+"/api/2.0/jobs/"+job+"/"))

	// The same without the network: each handler's own cost per request.
	direct := func(h http.Handler) func(*testing.B) {
		return func(b *testing.B) {
			b.ReportAllocs()
			req := httptest.NewRequest("GET", "/api/2.0/jobs/"+job+"/", nil)
			req.SetBasicAuth("admin@example.com", "secret")
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != 200 {
					b.Fatalf("status %d", w.Code)
				}
			}
		}
	}
	b.Run("fake-handler", direct(srv.Handler()))
	b.Run("plain-handler", direct(plain.Config.Handler))
}
