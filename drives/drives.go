// Package drives is the CloudSigma API 2.0 /drives/ resource: list, get,
// create, update, delete and clone drives, and follow a clone's job to the
// end with CloneAndWait.
//
// Build the *rest.Client with jobs.NewCloudSigmaClient; errors are
// *rest.APIError values whose Details hold the []jobs.CloudSigmaError the
// server sent.
package drives

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"net/url"

	"github.com/longrun/longrun/internal/csapi"
	"github.com/longrun/longrun/internal/wire"
	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/rest"
)

// Drive statuses CloudSigma reports.
const (
	StatusCreating    = "creating"
	StatusCloningDst  = "cloning_dst"
	StatusCloningSrc  = "cloning_src"
	StatusResizing    = "resizing"
	StatusUploading   = "uploading"
	StatusCopying     = "copying"
	StatusUnmounted   = "unmounted"
	StatusMounted     = "mounted"
	StatusUnavailable = "unavailable"
)

// Drive media.
const (
	MediaDisk  = "disk"
	MediaCDROM = "cdrom"
)

// Ref is a reference to another CloudSigma object.
type Ref = jobs.CloudSigmaRef

// Drive is a drive as CloudSigma serves it. The trimmed objects of
// /drives/ carry only uuid, resource_uri, owner and status; /drives/detail/
// and /drives/{uuid}/ carry every member.
type Drive struct {
	UUID            string            `json:"uuid"`
	Name            string            `json:"name"`
	Size            int64             `json:"size"`
	Media           string            `json:"media"`
	Status          string            `json:"status"`
	StorageType     string            `json:"storage_type"`
	AllowMultimount bool              `json:"allow_multimount"`
	Affinities      []string          `json:"affinities"`
	Jobs            []Ref             `json:"jobs"`
	MountedOn       []Ref             `json:"mounted_on"`
	Owner           *Ref              `json:"owner"`
	Meta            map[string]any    `json:"meta"`
	Tags            []Ref             `json:"tags"`
	Snapshots       []Ref             `json:"snapshots"`
	Permissions     []string          `json:"permissions"`
	Licenses        []json.RawMessage `json:"licenses"`
	Grantees        []json.RawMessage `json:"grantees"`
	Runtime         *Runtime          `json:"runtime"`
	ResourceURI     string            `json:"resource_uri"`
	// Extra holds members longrun does not model.
	Extra map[string]json.RawMessage `json:"-"`

	keys wire.Keys
}

type driveAlias struct {
	UUID            string            `json:"uuid"`
	Name            string            `json:"name"`
	Size            int64             `json:"size"`
	Media           string            `json:"media"`
	Status          string            `json:"status"`
	StorageType     string            `json:"storage_type"`
	AllowMultimount bool              `json:"allow_multimount"`
	Affinities      []string          `json:"affinities"`
	Jobs            []Ref             `json:"jobs"`
	MountedOn       []Ref             `json:"mounted_on"`
	Owner           *Ref              `json:"owner"`
	Meta            map[string]any    `json:"meta"`
	Tags            []Ref             `json:"tags"`
	Snapshots       []Ref             `json:"snapshots"`
	Permissions     []string          `json:"permissions"`
	Licenses        []json.RawMessage `json:"licenses"`
	Grantees        []json.RawMessage `json:"grantees"`
	Runtime         *Runtime          `json:"runtime"`
	ResourceURI     string            `json:"resource_uri"`
}

// UnmarshalJSON keeps unknown members.
func (d *Drive) UnmarshalJSON(b []byte) error {
	var a driveAlias
	extra, keys, err := wire.Decode(b, &a)
	if err != nil {
		return err
	}
	*d = Drive(fromAlias(a))
	d.Extra, d.keys = extra, keys
	return nil
}

// MarshalJSON writes every member back, unknown ones included.
func (d Drive) MarshalJSON() ([]byte, error) {
	return wire.Encode(toAlias(d), d.Extra, d.keys)
}

type plain struct {
	UUID            string
	Name            string
	Size            int64
	Media           string
	Status          string
	StorageType     string
	AllowMultimount bool
	Affinities      []string
	Jobs            []Ref
	MountedOn       []Ref
	Owner           *Ref
	Meta            map[string]any
	Tags            []Ref
	Snapshots       []Ref
	Permissions     []string
	Licenses        []json.RawMessage
	Grantees        []json.RawMessage
	Runtime         *Runtime
	ResourceURI     string
	Extra           map[string]json.RawMessage
	keys            wire.Keys
}

func fromAlias(a driveAlias) plain {
	return plain{a.UUID, a.Name, a.Size, a.Media, a.Status, a.StorageType, a.AllowMultimount, a.Affinities,
		a.Jobs, a.MountedOn, a.Owner, a.Meta, a.Tags, a.Snapshots, a.Permissions, a.Licenses, a.Grantees,
		a.Runtime, a.ResourceURI, nil, nil}
}

func toAlias(d Drive) driveAlias {
	return driveAlias{d.UUID, d.Name, d.Size, d.Media, d.Status, d.StorageType, d.AllowMultimount, d.Affinities,
		d.Jobs, d.MountedOn, d.Owner, d.Meta, d.Tags, d.Snapshots, d.Permissions, d.Licenses, d.Grantees,
		d.Runtime, d.ResourceURI}
}

// Runtime is a drive's "runtime" member.
type Runtime struct {
	IsSnapshotable         *bool  `json:"is_snapshotable"`
	SnapshotsAllocatedSize int64  `json:"snapshots_allocated_size"`
	StorageType            string `json:"storage_type"`
	// Extra holds members longrun does not model.
	Extra map[string]json.RawMessage `json:"-"`

	keys wire.Keys
}

type runtimeAlias struct {
	IsSnapshotable         *bool  `json:"is_snapshotable"`
	SnapshotsAllocatedSize int64  `json:"snapshots_allocated_size"`
	StorageType            string `json:"storage_type"`
}

// UnmarshalJSON keeps unknown members.
func (r *Runtime) UnmarshalJSON(b []byte) error {
	var a runtimeAlias
	extra, keys, err := wire.Decode(b, &a)
	if err != nil {
		return err
	}
	*r = Runtime{IsSnapshotable: a.IsSnapshotable, SnapshotsAllocatedSize: a.SnapshotsAllocatedSize,
		StorageType: a.StorageType, Extra: extra, keys: keys}
	return nil
}

// MarshalJSON writes every member back.
func (r Runtime) MarshalJSON() ([]byte, error) {
	return wire.Encode(runtimeAlias{r.IsSnapshotable, r.SnapshotsAllocatedSize, r.StorageType}, r.Extra, r.keys)
}

// List is a page of /drives/ or /drives/detail/.
type List = jobs.CloudSigmaPage[*Drive]

// ListOptions are the query parameters of a list call (limit, offset,
// fields, order_by and the name, name__contains, tag, uuid filters).
type ListOptions = jobs.CloudSigmaListOptions

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

// Service is the /drives/ resource. Build it with New.
type Service struct {
	c    *rest.Client
	jobs *jobs.CloudSigma
}

// New returns the drives service over c (see jobs.NewCloudSigmaClient).
func New(c *rest.Client) *Service {
	return &Service{c: c, jobs: jobs.NewCloudSigma(c)}
}

// Jobs is the jobs service CloneAndWait follows.
func (s *Service) Jobs() *jobs.CloudSigma { return s.jobs }

// List returns one page of /drives/ (trimmed objects).
func (s *Service) List(ctx context.Context, opts *ListOptions) (*List, error) {
	return csapi.List[*Drive](ctx, s.c, "drives/", opts.Values())
}

// ListDetail returns one page of /drives/detail/ (full objects).
func (s *Service) ListDetail(ctx context.Context, opts *ListOptions) (*List, error) {
	return csapi.List[*Drive](ctx, s.c, "drives/detail/", opts.Values())
}

// All yields every drive of /drives/ matching opts, page by page.
func (s *Service) All(ctx context.Context, opts *ListOptions) iter.Seq2[*Drive, error] {
	return csapi.All[*Drive](ctx, s.c, "drives/", opts)
}

// AllDetail yields every full drive of /drives/detail/, page by page.
func (s *Service) AllDetail(ctx context.Context, opts *ListOptions) iter.Seq2[*Drive, error] {
	return csapi.All[*Drive](ctx, s.c, "drives/detail/", opts)
}

// Get returns drive uuid.
func (s *Service) Get(ctx context.Context, uuid string) (*Drive, error) {
	p, err := csapi.Path("drives", uuid)
	if err != nil {
		return nil, err
	}
	var d Drive
	if _, err := s.c.Do(ctx, http.MethodGet, p, nil, nil, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// Create creates one drive (201; its status starts as creating).
func (s *Service) Create(ctx context.Context, req *CreateRequest) (*Drive, error) {
	q := url.Values{}
	if len(req.Avoid) > 0 {
		q.Set("avoid", jobs.JoinCloudSigmaFilter(req.Avoid))
	}
	var out csapi.Objects[*Drive]
	if _, err := s.c.Do(ctx, http.MethodPost, "drives/", q, csapi.Objects[*CreateRequest]{Objects: []*CreateRequest{req}}, &out); err != nil {
		return nil, err
	}
	return csapi.One(&out, "drive create")
}

// Update replaces drive uuid's editable members with d's (PUT
// /drives/{uuid}/) and returns the drive as the server now has it. A drive
// got from Get and modified is sent back with every member it came with.
func (s *Service) Update(ctx context.Context, uuid string, d *Drive) (*Drive, error) {
	p, err := csapi.Path("drives", uuid)
	if err != nil {
		return nil, err
	}
	var out Drive
	if _, err := s.c.Do(ctx, http.MethodPut, p, nil, d, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Delete deletes drive uuid (204).
func (s *Service) Delete(ctx context.Context, uuid string) error {
	p, err := csapi.Path("drives", uuid)
	if err != nil {
		return err
	}
	_, err = s.c.Do(ctx, http.MethodDelete, p, nil, nil, nil)
	return err
}

// Clone starts cloning drive uuid (POST /drives/{uuid}/action/?do=clone,
// 202) and returns the new drive, in status cloning_dst, whose Jobs holds
// the clone job's reference. req may be nil (an empty body is sent).
func (s *Service) Clone(ctx context.Context, uuid string, req *CloneRequest, opts *CloneOptions) (*Drive, error) {
	p, err := csapi.Path("drives", uuid)
	if err != nil {
		return nil, err
	}
	var avoid []string
	if opts != nil {
		avoid = opts.Avoid
	}
	var body any = struct{}{}
	if req != nil {
		body = req
	}
	var out csapi.Objects[*Drive]
	if _, err := s.c.Do(ctx, http.MethodPost, p+"action/", csapi.ActionQuery("clone", avoid), body, &out); err != nil {
		return nil, err
	}
	return csapi.One(&out, "drive clone")
}

// CloneAndWait clones drive uuid, waits with jobs.Wait until the clone job
// is done, and returns the new drive as it is then, with the final job. On
// a wait error it returns the new drive as the clone answered it and the
// last job seen, with the error (a *jobs.FailedError, *jobs.TimeoutError,
// ...).
func (s *Service) CloneAndWait(ctx context.Context, uuid string, req *CloneRequest, opts *CloneOptions, wait ...jobs.Option) (*Drive, *jobs.Job, error) {
	d, err := s.Clone(ctx, uuid, req, opts)
	if err != nil {
		return nil, nil, err
	}
	id, err := csapi.FirstJob(d.Jobs, "drive clone")
	if err != nil {
		return d, nil, err
	}
	job, err := jobs.Wait(ctx, s.jobs, id, wait...)
	if err != nil {
		return d, job, err
	}
	final, err := s.Get(ctx, d.UUID)
	if err != nil {
		return d, job, err
	}
	return final, job, nil
}
