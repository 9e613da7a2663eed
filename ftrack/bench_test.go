package ftrack_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/ftrack"
)

// BenchmarkDecodeResults decodes a query page of 100 jobs into typed Jobs.
func BenchmarkDecodeResults(b *testing.B) {
	var rows []string
	for i := range 100 {
		rows = append(rows, fmt.Sprintf(`{"__entity_type__":"Job","id":"00000000-0000-4000-8000-%012d","status":"running","type":"api_job","data":"{\"description\": \"step %d (%d%%)\"}","user_id":"5b4a69a3-8e78-4c45-a8ba-8b13f0895e23","created_at":{"__type__":"datetime","value":"2026-01-02T03:04:05"},"finished_at":null}`, i, i, i))
	}
	body := []byte(`[{"action":"query","data":[` + strings.Join(rows, ",") + `],"metadata":{"next":{"offset":100}}}]`)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		res, err := ftrack.DecodeResults(body, 1)
		if err != nil {
			b.Fatal(err)
		}
		var jobs []ftrack.Job
		if err := res[0].Decode(&jobs); err != nil || len(jobs) != 100 {
			b.Fatal(err)
		}
	}
}

// BenchmarkFetch is one jobs.Source round trip for 50 jobs against the
// in-process fake (one POST /api, one query).
func BenchmarkFetch(b *testing.B) {
	srv := fake.NewServer(b, fake.Options{})
	s, _ := ftrack.NewSession(srv.URL(), adminUser, adminKey)
	ctx := context.Background()
	var ids []string
	for range 50 {
		j, err := s.CreateJob(ctx, ftrack.CreateJobRequest{Description: "50%"})
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, j.ID)
	}
	b.ReportAllocs()
	for b.Loop() {
		got, err := s.Fetch(ctx, ids...)
		if err != nil || len(got) != 50 {
			b.Fatal(err)
		}
	}
}
