package rpc

import (
	"context"
	"iter"

	"github.com/longrun/longrun/jobs"
)

// DefaultPageSize is List's page size when ListOptions.Limit is 0.
const DefaultPageSize = 100

// ListOptions select and page the jobs of List and All (core.get_jobs
// query-filters and query-options).
type ListOptions struct {
	// Filters select jobs ([]: all the jobs the server remembers).
	Filters []Filter
	// OrderBy sorts ("-id": newest first); the default is by id.
	OrderBy []string
	// Offset skips that many jobs; Limit is the page size (0:
	// DefaultPageSize).
	Offset int
	Limit  int
	// RawResult asks for unredacted results (core.get_jobs raw_result).
	RawResult bool
}

// List returns one page of jobs with its paging facts. The middleware
// does not say how many jobs match, so Total is -1; More is true when
// the page is full.
func (c *Conn) List(ctx context.Context, opts *ListOptions) (*jobs.Page[JobEntry], error) {
	var o ListOptions
	if opts != nil {
		o = *opts
	}
	limit := o.Limit
	if limit <= 0 {
		limit = DefaultPageSize
	}
	orderBy := o.OrderBy
	if len(orderBy) == 0 {
		orderBy = []string{"id"}
	}
	q := QueryOptions{OrderBy: orderBy, Offset: o.Offset, Limit: limit}
	if o.RawResult {
		q.Extra = map[string]any{"raw_result": true}
	}
	items, err := c.GetJobs(ctx, o.Filters, q)
	if err != nil {
		return nil, err
	}
	return &jobs.Page[JobEntry]{Items: items, Offset: o.Offset, Limit: limit, Total: -1, More: len(items) == limit}, nil
}

// All iterates every job that matches opts, a page at a time; it stops
// at the first error, which it yields once.
func (c *Conn) All(ctx context.Context, opts *ListOptions) iter.Seq2[JobEntry, error] {
	return func(yield func(JobEntry, error) bool) {
		var o ListOptions
		if opts != nil {
			o = *opts
		}
		for {
			p, err := c.List(ctx, &o)
			if err != nil {
				yield(JobEntry{}, err)
				return
			}
			for _, e := range p.Items {
				if !yield(e, nil) {
					return
				}
			}
			if !p.More {
				return
			}
			o.Offset = p.NextOffset()
			o.Limit = p.Limit
		}
	}
}
