package freezer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/fake/sim"
	"github.com/longrun/longrun/freezer"
	"github.com/longrun/longrun/jobs"
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
		c, err := freezer.New(srv.URL(), freezer.WithToken(tok), freezer.WithAPIVersion(freezer.V2),
			freezer.WithProjectID(sim.DefaultUsers()[0].Project), freezer.WithHTTPClient(&http.Client{Transport: ct}))
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

// listJobs is how many jobs the List and All benchmarks page through.
const listJobs = 10_000

// seeded is a fake holding listJobs v2 jobs of the admin user, and a
// client whose requests ct counts.
func seeded(b *testing.B) (*freezer.Client, *inFlight) {
	b.Helper()
	srv := fake.NewServer(b, fake.Options{})
	tok, _ := srv.Freezer().IssueToken("admin")
	ct := &inFlight{}
	c, err := freezer.New(srv.URL(), freezer.WithToken(tok), freezer.WithAPIVersion(freezer.V2),
		freezer.WithProjectID(sim.DefaultUsers()[0].Project), freezer.WithHTTPClient(&http.Client{Transport: ct}))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	ids := make(chan int)
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			for range ids {
				if _, err := c.Create(ctx, NewBenchJob()); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for i := range listJobs {
		ids <- i
	}
	close(ids)
	for range 8 {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
	ct.total = 0
	return c, ct
}

// BenchmarkList10k fetches one page from the middle of 10,000 jobs.
func BenchmarkList10k(b *testing.B) {
	c, ct := seeded(b)
	ctx := context.Background()
	for _, limit := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("limit=%d", limit), func(b *testing.B) {
			ct.total = 0
			b.ReportAllocs()
			for b.Loop() {
				p, err := c.List(ctx, &freezer.ListOptions{Limit: limit, Offset: listJobs / 2})
				if err != nil || len(p.Items) != limit {
					b.Fatal(len(p.Items), err)
				}
			}
			b.ReportMetric(float64(ct.total)/float64(b.N), "requests/op")
		})
	}
}

// BenchmarkAll10k iterates all 10,000 jobs, page after page.
func BenchmarkAll10k(b *testing.B) {
	c, ct := seeded(b)
	ctx := context.Background()
	for _, limit := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("limit=%d", limit), func(b *testing.B) {
			ct.total = 0
			b.ReportAllocs()
			for b.Loop() {
				n := 0
				for _, err := range c.All(ctx, &freezer.ListOptions{Limit: limit}) {
					if err != nil {
						b.Fatal(err)
					}
					n++
				}
				if n != listJobs {
					b.Fatalf("%d jobs, want %d", n, listJobs)
				}
			}
			b.ReportMetric(float64(ct.total)/float64(b.N), "requests/op")
			b.ReportMetric(float64(listJobs)*float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
		})
	}
}
