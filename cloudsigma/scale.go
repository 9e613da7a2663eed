package cloudsigma

import (
	"context"

	"github.com/longrun/longrun/jobs"
)

// RunningPageSize is the page size of the started-jobs listings the jobs
// service makes for a Watcher (ListRunning, and Fetch when the server does
// not filter by uuid): large enough that a round over thousands of jobs
// takes few requests, small enough that no answer grows without bound.
const RunningPageSize = 1000

// The jobs service is a source a jobs.Watcher can scale with: it lists the
// started jobs a page at a time and pushes every job's changes over the
// account's one async websocket. It is deliberately not a
// jobs.BatchLimiter: Fetch splits a long id list itself while the server
// filters by uuid, and once it has learnt that the server does not, one
// Fetch of every id (a few pages of started jobs) is far cheaper than the
// same pages listed again for each chunk a Watcher would make.
var (
	_ jobs.RunningLister = (*JobsService)(nil)
	_ jobs.MultiPusher   = (*JobsService)(nil)
)

// ListRunning returns one page of the account's started jobs
// (/jobs/?state=started, RunningPageSize per page) from offset, as shared
// Jobs: a Watcher following more jobs than a listing costs lists them
// instead of asking by uuid.
func (s *JobsService) ListRunning(ctx context.Context, offset int) (*jobs.Page[*jobs.Job], error) {
	p, err := s.List(ctx, &JobListOptions{ListOptions: ListOptions{Limit: RunningPageSize, Offset: offset}, State: []string{"started"}})
	if err != nil {
		return nil, err
	}
	out := &jobs.Page[*jobs.Job]{Items: make([]*jobs.Job, 0, len(p.Items)), Offset: p.Offset, Limit: p.Limit, Total: p.Total, More: p.More}
	for _, j := range p.Items {
		out.Items = append(out.Items, j.ToJob())
	}
	return out, nil
}

// AllChanges makes the service a jobs.MultiPusher: every job frame of the
// async websocket becomes a snapshot on one channel (a frame without the
// object costs one GET of that job; a job that is gone is skipped), so a
// Watcher's waits share one stream however many jobs they follow. A frame
// of a sub-job is delivered as that sub-job's own snapshot: the service
// sends its parent's frame after it. The channel is closed when ctx ends
// or the websocket drops.
func (s *JobsService) AllChanges(ctx context.Context) (<-chan *jobs.Job, error) {
	frames, err := s.c.Frames(ctx, "jobs")
	if err != nil {
		return nil, err
	}
	out := make(chan *jobs.Job)
	go func() {
		defer close(out)
		for f := range frames {
			var j *Job
			var err error
			if f.Object == nil {
				j, err = s.Get(ctx, f.UUID())
			} else {
				j, err = DecodeJob(f.Object, s.c.opt.maxDepth)
			}
			if err != nil {
				continue // gone, or a frame that does not decode: polls still see the job
			}
			select {
			case out <- j.ToJob():
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}
