// Package drives is the CloudSigma API 2.0 /drives/ resource: list, get,
// create, update, delete, clone and resize drives, follow a clone's job to
// the end with CloneAndWait, and wait for a status with WaitStatus.
//
// Build the *cloudsigma.Client with cloudsigma.New; a refusal is a
// *cloudsigma.Errors holding the error list the server sent.
package drives

import (
	"context"
	"net/url"

	"github.com/longrun/longrun/cloudsigma"
	"github.com/longrun/longrun/jobs"
)

// CreateRequest is one drive to create (POST /drives/).
type CreateRequest struct {
	Name            string         `json:"name"`
	Size            int64          `json:"size"`
	Media           string         `json:"media"`
	StorageType     string         `json:"storage_type,omitempty"`
	AllowMultimount *bool          `json:"allow_multimount,omitempty"`
	Affinities      []string       `json:"affinities,omitempty"`
	Meta            map[string]any `json:"meta,omitempty"`
	Tags            []string       `json:"tags,omitempty"`
	// Avoid asks CloudSigma to put the drive on other storage hosts than
	// these drives or servers (the avoid= query parameter).
	Avoid []string `json:"-"`
}

// ListOptions select drives: Detail for full objects, the page, fields,
// order_by and filters such as name__contains, status, tag or uuid.
type ListOptions = cloudsigma.ListOptions

// CloneRequest is the optional body of a clone: every member may be left
// out (the clone then keeps the source's value; the name follows the
// profile's clone naming).
type CloneRequest struct {
	Name        string   `json:"name,omitempty"`
	Media       string   `json:"media,omitempty"`
	Affinities  []string `json:"affinities,omitempty"`
	Size        int64    `json:"size,omitempty"`
	StorageType string   `json:"storage_type,omitempty"`
}

// CloneOptions are the query parameters of a clone.
type CloneOptions struct {
	// Avoid lists drive or server uuids whose storage hosts the clone
	// should avoid (avoid=uuid,uuid).
	Avoid []string
}

func avoid(uuids []string) url.Values {
	if len(uuids) == 0 {
		return nil
	}
	return url.Values{"avoid": {cloudsigma.JoinFilter(uuids)}}
}

// Service is the /drives/ resource. Build it with New. List, All, Get,
// Update and WaitStatus come from the shared cloudsigma.Resource.
type Service struct {
	*cloudsigma.Resource[*Drive, *CreateRequest]
}

// New returns the drives service of c.
func New(c *cloudsigma.Client) *Service {
	return &Service{cloudsigma.NewResource[*Drive, *CreateRequest](c, "drives", func(d *Drive) string { return d.Status })}
}

// Create creates one drive (201; its status starts as creating, then
// unmounted).
func (s *Service) Create(ctx context.Context, req *CreateRequest) (*Drive, error) {
	return s.Resource.Create(ctx, req, avoid(req.Avoid))
}

// Delete deletes drive uuid (204). CloudSigma refuses to delete a mounted
// drive.
func (s *Service) Delete(ctx context.Context, uuid string) error {
	return s.Resource.Delete(ctx, uuid, nil)
}

// Clone starts cloning drive uuid (POST /drives/{uuid}/action/?do=clone,
// 202) and returns the new drive, in status cloning_dst, whose Jobs holds
// the clone job's reference. req and opts may be nil.
func (s *Service) Clone(ctx context.Context, uuid string, req *CloneRequest, opts *CloneOptions) (*Drive, error) {
	var q url.Values
	if opts != nil {
		q = avoid(opts.Avoid)
	}
	var body any
	if req != nil {
		body = req
	}
	var out cloudsigma.Objects[*Drive]
	if err := s.Action(ctx, uuid, "clone", q, body, &out); err != nil {
		return nil, err
	}
	return cloudsigma.One(&out, "drive clone")
}

// CloneAndWait clones drive uuid, waits with jobs.Wait until the clone job
// is done (push-first on the client's websocket), and returns the new
// drive as it is then, with the final job. On a wait error it returns the
// new drive as the clone answered it and the last job seen, with the error
// (a *jobs.FailedError, *jobs.TimeoutError, ...).
func (s *Service) CloneAndWait(ctx context.Context, uuid string, req *CloneRequest, opts *CloneOptions, wait ...jobs.Option) (*Drive, *jobs.Job, error) {
	d, err := s.Clone(ctx, uuid, req, opts)
	if err != nil {
		return nil, nil, err
	}
	return s.FollowJob(ctx, d, d.UUID, d.Jobs, wait...)
}

// Resize asks CloudSigma to resize drive d to size bytes (POST
// /drives/{uuid}/action/?do=resize, 202) with d's full definition, as the
// API takes it, and returns the drive in status resizing. Wait for the end
// with WaitStatus(ctx, d.UUID, StatusUnmounted). CloudSigma refuses (403)
// to resize a drive mounted on a running server.
func (s *Service) Resize(ctx context.Context, d *Drive, size int64) (*Drive, error) {
	body := *d
	body.Size = size
	var out cloudsigma.Objects[*Drive]
	if err := s.Action(ctx, d.UUID, "resize", nil, &body, &out); err != nil {
		return nil, err
	}
	return cloudsigma.One(&out, "drive resize")
}
