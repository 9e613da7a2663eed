package cloudsigma_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/longrun/longrun/cloudsigma"
)

// serverCloneDoc is a server_clone job with n drive_clone children, shaped
// like dumps/response_jobs_server_clone.
func serverCloneDoc(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"children":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"children":[],"created":"2014-06-05T09:50:06.771415+00:00","data":{"progress":%d},"last_modified":"2014-06-05T09:50:12.817209+00:00","operation":"drive_clone","resource_uri":"/api/2.0/jobs/5cf1a9e0-c019-4022-9ca5-08af64fa%04d/","resources":["/api/2.0/drives/4f41610b-b73b-49f0-a7c8-2e5cd110eb31/","/api/2.0/drives/eaa0b214-7f8c-446d-9d6b-1c106fcd9aba/"],"state":"started","uuid":"5cf1a9e0-c019-4022-9ca5-08af64fa%04d"}`, i%100, i, i)
	}
	b.WriteString(`],"created":"2014-06-05T09:50:06.436976+00:00","data":{"progress":50},"last_modified":"2014-06-05T09:50:12.726357+00:00","operation":"server_clone","resource_uri":"/api/2.0/jobs/4e1944be-a078-4ead-9d19-5f8823a84d42/","resources":[],"state":"started","uuid":"4e1944be-a078-4ead-9d19-5f8823a84d42"}`)
	return []byte(b.String())
}

// BenchmarkDecodeServerCloneJob decodes and normalizes a server clone job
// with 100 drive clone children: the client-side cost of one poll round.
func BenchmarkDecodeServerCloneJob(b *testing.B) {
	doc := serverCloneDoc(100)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		w, err := cloudsigma.DecodeJob(doc, 0)
		if err != nil {
			b.Fatal(err)
		}
		if w.ToJob() == nil {
			b.Fatal(err)
		}
	}
}
