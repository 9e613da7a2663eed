package cloudsigma

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"time"

	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/rest"
)

// Resource is one CloudSigma resource collection (/drives/, /servers/) of
// objects T, created from requests C. drives and servers are built on it:
// List, All, Get, Create, Update, Delete, the action endpoint and
// WaitStatus are written once, here.
type Resource[T any, C any] struct {
	c      *Client
	kind   string // "drives": the path and the websocket's resource_type
	status func(T) string
}

// NewResource returns the collection kind ("drives", "servers") of c;
// status reads an object's status, for WaitStatus.
func NewResource[T any, C any](c *Client, kind string, status func(T) string) *Resource[T, C] {
	return &Resource[T, C]{c: c, kind: kind, status: status}
}

// Client is the client the resource sends its requests with.
func (r *Resource[T, C]) Client() *Client { return r.c }

// List returns one page of /{kind}/ (trimmed objects), or of
// /{kind}/detail/ (full objects) with opts.Detail.
func (r *Resource[T, C]) List(ctx context.Context, opts *ListOptions) (*jobs.Page[T], error) {
	p := r.kind + "/"
	if opts.detail() {
		p += "detail/"
	}
	var l envelope[T]
	if _, err := r.c.Do(ctx, http.MethodGet, p, opts.Values(), nil, &l); err != nil {
		return nil, err
	}
	asked := 0
	if opts != nil {
		asked = opts.Limit
	}
	return page(l.Meta, l.Objects, asked), nil
}

// All yields every object matching opts, page by page, from opts.Offset.
func (r *Resource[T, C]) All(ctx context.Context, opts *ListOptions) iter.Seq2[T, error] {
	var o ListOptions
	if opts != nil {
		o = *opts
	}
	return rest.Paginate(ctx, o.Offset, func(ctx context.Context, offset int) (*jobs.Page[T], error) {
		o.Offset = offset
		return r.List(ctx, &o)
	})
}

// Get returns object uuid (GET /{kind}/{uuid}/).
func (r *Resource[T, C]) Get(ctx context.Context, uuid string) (T, error) {
	var out T
	p, err := path(r.kind, uuid)
	if err != nil {
		return out, err
	}
	_, err = r.c.Do(ctx, http.MethodGet, p, nil, nil, &out)
	return out, err
}

// Create creates one object (POST /{kind}/ with {"objects": [req]}); q
// holds query parameters such as avoid=, or nil.
func (r *Resource[T, C]) Create(ctx context.Context, req C, q url.Values) (T, error) {
	var out Objects[T]
	if _, err := r.c.Do(ctx, http.MethodPost, r.kind+"/", q, Objects[C]{Objects: []C{req}}, &out); err != nil {
		var zero T
		return zero, err
	}
	return One(&out, r.kind+" create")
}

// Update replaces object uuid's editable members with v's (PUT
// /{kind}/{uuid}/) and returns the object as the server now has it. An
// object got from Get and modified is sent back with every member it came
// with, unknown ones included.
func (r *Resource[T, C]) Update(ctx context.Context, uuid string, v T) (T, error) {
	var out T
	p, err := path(r.kind, uuid)
	if err != nil {
		return out, err
	}
	_, err = r.c.Do(ctx, http.MethodPut, p, nil, v, &out)
	return out, err
}

// Delete deletes object uuid (DELETE /{kind}/{uuid}/, 204); q holds query
// parameters such as recurse=, or nil.
func (r *Resource[T, C]) Delete(ctx context.Context, uuid string, q url.Values) error {
	p, err := path(r.kind, uuid)
	if err != nil {
		return err
	}
	_, err = r.c.Do(ctx, http.MethodDelete, p, q, nil, nil)
	return err
}

// Action posts to /{kind}/{uuid}/action/?do=<do> (with q's other
// parameters) and decodes the answer into out. A nil body sends {}.
func (r *Resource[T, C]) Action(ctx context.Context, uuid, do string, q url.Values, body, out any) error {
	p, err := path(r.kind, uuid)
	if err != nil {
		return err
	}
	all := url.Values{"do": {do}}
	for k, v := range q {
		all[k] = v
	}
	if body == nil {
		body = struct{}{}
	}
	_, err = r.c.Do(ctx, http.MethodPost, p+"action/", all, body, out)
	return err
}

// WaitStatus waits until object uuid reports status (such as "running"
// or "mounted") and returns it as it is then. It listens to the account's
// async websocket, whose frames carry the object, and polls as a
// fallback on the client's clock (from 1s, growing to 30s); after the
// websocket drops it fetches once and subscribes again. A frame that
// shows the status is confirmed with one Get before WaitStatus returns,
// since a frame may predate the action being waited on. When ctx ends
// first it returns a *jobs.TimeoutError.
func (r *Resource[T, C]) WaitStatus(ctx context.Context, uuid, status string) (T, error) {
	var zero T
	var sb *sub
	cancel := func() {}
	defer func() { cancel() }()
	subscribe := func() {
		if sb != nil || r.c.hub == nil {
			return
		}
		if s, c, err := r.c.hub.subscribe(ctx, r.kind); err == nil {
			sb, cancel = s, c
		}
	}
	subscribe() // before the first Get: a change after it is pushed
	pause := time.Second
	for {
		v, err := r.Get(ctx, uuid)
		if err != nil {
			if ctx.Err() != nil {
				return zero, &jobs.TimeoutError{Cause: ctx.Err(), LastErr: err}
			}
			return zero, err
		}
		if r.status(v) == status {
			return v, nil
		}
		subscribe()
		var frames <-chan *Frame
		if sb != nil {
			frames = sb.ch
		}
		timer := r.c.opt.clock.After(pause)
		pause = min(pause*3/2, 30*time.Second)
	sleep:
		for {
			select {
			case <-ctx.Done():
				return zero, &jobs.TimeoutError{Cause: ctx.Err()}
			case <-timer:
				break sleep
			case f, ok := <-frames:
				if !ok { // dropped: reconcile with a Get, then subscribe again
					sb, frames = nil, nil
					break sleep
				}
				if f.UUID() != uuid {
					continue
				}
				if f.Object == nil {
					break sleep
				}
				// A frame showing the status is confirmed with a Get: it
				// may be older than the action this wait follows (frames
				// are sent asynchronously), such as the "unmounted" that
				// ended a drive's creation arriving after its resize began.
				var pushed T
				if json.Unmarshal(f.Object, &pushed) != nil || r.status(pushed) == status {
					break sleep
				}
			}
		}
	}
}

// FollowJob waits with jobs.Wait on the first job in refs (the job a clone
// or resize answer carries), then returns object uuid as it is then, with
// the final job tree. On a wait error it returns v, the object as the
// action answered it, and the last tree seen, with the error (a
// *jobs.FailedError, *jobs.TimeoutError, ...). The wait is push-first on
// the client's websocket.
func (r *Resource[T, C]) FollowJob(ctx context.Context, v T, uuid string, refs []Ref, wait ...jobs.Option) (T, *jobs.Job, error) {
	id := ""
	for _, ref := range refs {
		if ref.UUID != "" {
			id = ref.UUID
			break
		}
	}
	if id == "" {
		return v, nil, fmt.Errorf("%w: %s answer carries no job reference", ErrMalformed, r.kind)
	}
	job, err := jobs.Wait(ctx, r.c.Jobs, id, wait...)
	if err != nil {
		return v, job, err
	}
	final, err := r.Get(ctx, uuid)
	if err != nil {
		return v, job, err
	}
	return final, job, nil
}
