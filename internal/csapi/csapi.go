// Package csapi holds the request helpers the CloudSigma resource packages
// (drives, servers) share: list pages, paging iterators and the
// {"objects": [...]} envelope.
package csapi

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"

	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/rest"
)

// Objects is CloudSigma's envelope for create requests and for the answers
// to create and drive clone: {"objects": [...]}.
type Objects[T any] struct {
	Objects []T `json:"objects"`
}

// List fetches one page of path.
func List[T any](ctx context.Context, c *rest.Client, path string, q url.Values) (*jobs.CloudSigmaPage[T], error) {
	var p jobs.CloudSigmaPage[T]
	if _, err := c.Do(ctx, http.MethodGet, path, q, nil, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// All yields every object of path matching opts, page by page.
func All[T any](ctx context.Context, c *rest.Client, path string, opts *jobs.CloudSigmaListOptions) iter.Seq2[T, error] {
	base := opts.Values()
	start := 0
	if opts != nil {
		start = opts.Offset
	}
	return rest.Paginate(ctx, start, func(ctx context.Context, offset int) (rest.Page[T], error) {
		q := url.Values{}
		for k, v := range base {
			q[k] = v
		}
		q.Set("offset", strconv.Itoa(offset))
		p, err := List[T](ctx, c, path, q)
		if err != nil {
			return rest.Page[T]{}, err
		}
		return rest.Page[T]{Items: p.Objects, Next: jobs.NextOffset(p.Meta, len(p.Objects))}, nil
	})
}

// One returns the single object of an {"objects": [...]} answer.
func One[T any](o *Objects[T], what string) (T, error) {
	var zero T
	if len(o.Objects) != 1 {
		return zero, fmt.Errorf("%w: %s answer holds %d objects, want 1", jobs.ErrMalformed, what, len(o.Objects))
	}
	return o.Objects[0], nil
}

// Path joins a resource and a uuid: drives/<uuid>/.
func Path(resource, uuid string) (string, error) {
	if uuid == "" {
		return "", errors.New("cloudsigma: empty uuid")
	}
	return resource + "/" + url.PathEscape(uuid) + "/", nil
}

// ActionQuery is the query of /{resource}/{uuid}/action/: do= and avoid=.
func ActionQuery(do string, avoid []string) url.Values {
	q := url.Values{"do": {do}}
	if len(avoid) > 0 {
		q.Set("avoid", jobs.JoinCloudSigmaFilter(avoid))
	}
	return q
}

// FirstJob returns the uuid of the first job reference, or an error.
func FirstJob(refs []jobs.CloudSigmaRef, what string) (string, error) {
	for _, r := range refs {
		if r.UUID != "" {
			return r.UUID, nil
		}
	}
	return "", fmt.Errorf("%w: %s answer carries no job reference", jobs.ErrMalformed, what)
}
