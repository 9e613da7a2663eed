package cloudsigma_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
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
