package cloudsigma

import (
	"context"
	"errors"
	"iter"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"

	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/rest"
)

// JobsService is the /jobs/ service. It is a jobs.Pusher: Fetch refreshes
// many jobs in one list call (CloudSigma nests every sub-job in full
// inside its parent, so a whole server clone tree costs one request), and
// Changes streams a job's tree from the account's async websocket.
type JobsService struct {
	c *Client
	// mode is Fetch's strategy for several ids (modeUUID, modeStarted,
	// modeEach); it only ever moves down the list.
	mode atomic.Int32
}

// Get returns job uuid (GET /jobs/{uuid}/), with its children in full.
func (s *JobsService) Get(ctx context.Context, uuid string) (*Job, error) {
	p, err := path("jobs", uuid)
	if err != nil {
		return nil, err
	}
	resp, err := s.c.get(ctx, p, nil)
	if err != nil {
		return nil, err
	}
	j, err := DecodeJob(resp.Body, s.c.opt.maxDepth)
	if err != nil {
		return nil, decodeErr(resp, err)
	}
	return j, nil
}

// List returns one page of /jobs/ (or /jobs/detail/ with opts.Detail: the
// same full objects for jobs).
func (s *JobsService) List(ctx context.Context, opts *JobListOptions) (*jobs.Page[*Job], error) {
	p := "jobs/"
	if opts != nil && opts.Detail {
		p = "jobs/detail/"
	}
	l, err := s.list(ctx, p, opts.Values())
	if err != nil {
		return nil, err
	}
	asked := 0
	if opts != nil {
		asked = opts.Limit
	}
	return page(l.Meta, l.Objects, asked), nil
}

// All yields every job matching opts, page by page (opts.Limit per page,
// 20 when 0), starting at opts.Offset.
func (s *JobsService) All(ctx context.Context, opts *JobListOptions) iter.Seq2[*Job, error] {
	var o JobListOptions
	if opts != nil {
		o = *opts
	}
	return rest.Paginate(ctx, o.Offset, func(ctx context.Context, offset int) (*jobs.Page[*Job], error) {
		o.Offset = offset
		return s.List(ctx, &o)
	})
}

func (s *JobsService) list(ctx context.Context, p string, q url.Values) (*JobList, error) {
	resp, err := s.c.get(ctx, p, q)
	if err != nil {
		return nil, err
	}
	l, err := DecodeJobList(resp.Body, s.c.opt.maxDepth)
	if err != nil {
		return nil, decodeErr(resp, err)
	}
	return l, nil
}

// Fetch makes the service a jobs.Source: it returns fresh snapshots of the
// jobs with the given uuids, children included. One uuid costs one GET
// /jobs/{uuid}/; several cost one GET /jobs/?uuid=a,b,c&limit=0 per batch
// of uuids (WithBatch). A uuid missing from a list answer is asked for on
// its own, so a job is left out only on the server's 404 (an unknown job,
// or one past CloudSigma's 3-day history).
//
// CloudSigma's jobs schema lists only state as filterable. If the server
// refuses the uuid filter (400) or ignores it, Fetch switches for good to
// the filter the schema documents: one GET /jobs/?state=started&limit=0
// for every running job, plus one GET per asked-for job that is no longer
// running. Should that be refused too, it gets jobs one by one, four at a
// time.
func (s *JobsService) Fetch(ctx context.Context, ids ...string) ([]*jobs.Job, error) {
	want := make(map[string]bool, len(ids))
	uniq := make([]string, 0, len(ids))
	for _, id := range ids {
		if id != "" && !want[id] {
			want[id] = true
			uniq = append(uniq, id)
		}
	}
	switch {
	case len(uniq) == 0:
		return nil, nil
	case len(uniq) == 1 || s.mode.Load() == modeEach:
		return s.fetchEach(ctx, uniq)
	case s.mode.Load() == modeStarted:
		return s.fetchStarted(ctx, uniq)
	}
	batch := s.c.opt.batch
	out := make([]*jobs.Job, 0, len(uniq))
	for start := 0; start < len(uniq); start += batch {
		chunk := uniq[start:min(start+batch, len(uniq))]
		q := (&JobListOptions{ListOptions: ListOptions{NoLimit: true}, UUID: chunk}).Values()
		l, err := s.list(ctx, "jobs/", q)
		if err != nil {
			if isStatus(err, http.StatusBadRequest) {
				s.mode.CompareAndSwap(modeUUID, modeStarted)
				more, err := s.fetchStarted(ctx, uniq[start:])
				if err != nil {
					return nil, err
				}
				return append(out, more...), nil
			}
			return nil, err
		}
		got := map[string]bool{}
		out = collect(l, want, got, out)
		if len(l.Objects) > len(got) {
			// The server did not apply the uuid filter.
			s.mode.CompareAndSwap(modeUUID, modeStarted)
		}
		if out, err = s.fetchMissing(ctx, chunk, got, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Fetch strategies, from the cheapest.
const (
	modeUUID    = iota // GET /jobs/?uuid=a,b,c&limit=0
	modeStarted        // GET /jobs/?state=started&limit=0, then GETs
	modeEach           // one GET per job
)

func isStatus(err error, code int) bool {
	var e *Errors
	return errors.As(err, &e) && e.API.StatusCode == code
}

// collect appends the asked-for jobs of l to out, noting them in got.
func collect(l *JobList, want, got map[string]bool, out []*jobs.Job) []*jobs.Job {
	for _, o := range l.Objects {
		if o == nil || !want[o.UUID] || got[o.UUID] {
			continue
		}
		got[o.UUID] = true
		out = append(out, o.ToJob())
	}
	return out
}

// fetchMissing gets the ids of ids not in got: one GET each when they are
// few, else pages of the whole job list (finished jobs are not in a listing
// of started ones) for as long as a page still costs less than the GETs it
// saves.
func (s *JobsService) fetchMissing(ctx context.Context, ids []string, got map[string]bool, out []*jobs.Job) ([]*jobs.Job, error) {
	var missing []string
	for _, id := range ids {
		if !got[id] {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	if len(missing) > listAllAbove {
		want := make(map[string]bool, len(missing))
		for _, id := range missing {
			want[id] = true
		}
		found := map[string]bool{}
		for offset := 0; ; {
			q := (&JobListOptions{ListOptions: ListOptions{Limit: RunningPageSize, Offset: offset}}).Values()
			l, err := s.list(ctx, "jobs/", q)
			if err != nil {
				break // the GETs below still find what a listing would have
			}
			out = collect(l, want, found, out)
			offset += len(l.Objects)
			left := len(want) - len(found)
			pagesLeft := (l.Meta.TotalCount - offset + RunningPageSize - 1) / RunningPageSize
			if left == 0 || len(l.Objects) == 0 || pagesLeft <= 0 || pagesLeft >= left {
				break
			}
		}
		rest := missing[:0:0]
		for _, id := range missing {
			if !found[id] {
				rest = append(rest, id)
			}
		}
		missing = rest
	}
	if len(missing) == 0 {
		return out, nil
	}
	more, err := s.fetchEach(ctx, missing)
	if err != nil {
		return nil, err
	}
	return append(out, more...), nil
}

// listAllAbove is how many missing ids make a listing of every job worth
// trying before GETs.
const listAllAbove = 8

// fetchStarted lists every running job and gets the other ids one by one.
func (s *JobsService) fetchStarted(ctx context.Context, ids []string) ([]*jobs.Job, error) {
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	got := map[string]bool{}
	out := make([]*jobs.Job, 0, len(ids))
	// Bounded pages, never limit=0: a hundred thousand started jobs in one
	// answer would pass any sane response cap. Stop as soon as every id is
	// found.
	for offset := 0; ; {
		q := (&JobListOptions{ListOptions: ListOptions{Limit: RunningPageSize, Offset: offset}, State: []string{"started"}}).Values()
		l, err := s.list(ctx, "jobs/", q)
		if err != nil {
			if offset == 0 && isStatus(err, http.StatusBadRequest) {
				s.mode.Store(modeEach)
				return s.fetchEach(ctx, ids)
			}
			return nil, err
		}
		out = collect(l, want, got, out)
		offset += len(l.Objects)
		pagesLeft := (l.Meta.TotalCount - offset + RunningPageSize - 1) / RunningPageSize
		if len(got) == len(want) || len(l.Objects) == 0 || pagesLeft <= 0 || pagesLeft >= len(want)-len(got) {
			break // done, or GETs of the rest cost less than the pages left
		}
	}
	return s.fetchMissing(ctx, ids, got, out)
}

func (s *JobsService) fetchEach(ctx context.Context, ids []string) ([]*jobs.Job, error) {
	out := make([]*jobs.Job, len(ids))
	errs := make([]error, len(ids))
	one := func(i int) {
		w, err := s.Get(ctx, ids[i])
		switch {
		case errors.Is(err, jobs.ErrNotFound):
		case err != nil:
			errs[i] = err
		default:
			out[i] = w.ToJob()
		}
	}
	if len(ids) == 1 {
		one(0)
	} else {
		sem := make(chan struct{}, 4)
		var wg sync.WaitGroup
		for i := range ids {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				one(i)
			})
		}
		wg.Wait()
	}
	for _, e := range errs {
		if e != nil {
			return nil, e
		}
	}
	res := out[:0]
	for _, j := range out {
		if j != nil {
			res = append(res, j)
		}
	}
	return res, nil
}

var _ jobs.Pusher = (*JobsService)(nil)

// Wait follows job uuid and its sub-jobs until the tree is done; it is
// jobs.Wait on this service (push-first on the client's websocket) with
// the client's clock, which opts may override. A failed job is a
// *jobs.FailedError; when ctx ends first it returns a *jobs.TimeoutError
// holding the last tree seen.
func (s *JobsService) Wait(ctx context.Context, uuid string, opts ...jobs.Option) (*jobs.Job, error) {
	return jobs.Wait(ctx, s, uuid, append([]jobs.Option{jobs.WithClock(s.c.opt.clock)}, opts...)...)
}
