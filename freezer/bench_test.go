package freezer_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/freezer"
	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/rest"
)

func BenchmarkJobDecode(b *testing.B) {
	data := []byte(apiRefJob)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var j freezer.Job
		if err := json.Unmarshal(data, &j); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkJobEncode(b *testing.B) {
	var j freezer.Job
	if err := json.Unmarshal([]byte(apiRefJob), &j); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(&j); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidate(b *testing.B) {
	j := NewBenchJob()
	b.ReportAllocs()
	for b.Loop() {
		if err := j.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}

func NewBenchJob() *freezer.Job {
	return &freezer.Job{ClientID: "proj_node-1.example.com", Description: "nightly",
		JobSchedule: freezer.JobSchedule{ScheduleInterval: "1 days", ScheduleStartDate: "2026-01-02T03:04:05Z"},
		JobActions:  []freezer.JobAction{{FreezerAction: freezer.FreezerAction{Action: "backup", Mode: "fs"}}}}
}

// BenchmarkRunOnFake creates a job, starts it and waits for its result
// through the fake's agent; requests/run counts the HTTP round trips.
func BenchmarkRunOnFake(b *testing.B) {
	srv := fake.NewServer(b, fake.Options{})
	ct := &inFlight{}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		// A fresh token each run: the waits move the fake clock past
		// the last one's lifetime.
		tok, _ := srv.Freezer().IssueToken("admin")
		c, err := freezer.New(srv.URL(), freezer.WithToken(tok),
			freezer.WithRESTOptions(rest.WithHTTPClient(&http.Client{Transport: ct})))
		if err != nil {
			b.Fatal(err)
		}
		id, err := c.Create(ctx, NewBenchJob())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Run(ctx, id, jobs.WithClock(srv.Clock()), jobs.WithInterval(time.Second, 4*time.Second)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(ct.total)/float64(b.N), "requests/run")
}
