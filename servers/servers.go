// Package servers is the CloudSigma API 2.0 /servers/ resource: list, get,
// create, update, delete and clone servers, and follow a server clone (whose
// job has one child job per cloned disk) to the end with CloneAndWait.
//
// Build the *rest.Client with jobs.NewCloudSigmaClient; errors are
// *rest.APIError values whose Details hold the []jobs.CloudSigmaError the
// server sent.
package servers

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

// Server statuses CloudSigma reports.
const (
	StatusStopped  = "stopped"
	StatusStarting = "starting"
	StatusRunning  = "running"
	StatusStopping = "stopping"
	StatusPaused   = "paused"
	StatusUnavail  = "unavailable"
)

// Ref is a reference to another CloudSigma object.
type Ref = jobs.CloudSigmaRef

// Server is a server as CloudSigma serves it. The trimmed objects of
// /servers/ carry only uuid, name, owner, resource_uri, runtime and status;
// /servers/detail/ and /servers/{uuid}/ carry every member.
type Server struct {
	UUID               string            `json:"uuid"`
	Name               string            `json:"name"`
	CPU                int               `json:"cpu"`
	Mem                int64             `json:"mem"`
	SMP                int               `json:"smp"`
	Status             string            `json:"status"`
	VNCPassword        string            `json:"vnc_password"`
	Context            bool              `json:"context"`
	CPUModel           *string           `json:"cpu_model"`
	CPUType            string            `json:"cpu_type"`
	CPUsInsteadOfCores bool              `json:"cpus_instead_of_cores"`
	EnableNUMA         bool              `json:"enable_numa"`
	HVRelaxed          bool              `json:"hv_relaxed"`
	HVTSC              bool              `json:"hv_tsc"`
	Hypervisor         string            `json:"hypervisor"`
	Drives             []*ServerDrive    `json:"drives"`
	NICs               []*NIC            `json:"nics"`
	Jobs               []Ref             `json:"jobs"`
	Meta               map[string]any    `json:"meta"`
	Owner              *Ref              `json:"owner"`
	Permissions        []string          `json:"permissions"`
	Pubkeys            []Ref             `json:"pubkeys"`
	Requirements       []string          `json:"requirements"`
	Tags               []Ref             `json:"tags"`
	Grantees           []json.RawMessage `json:"grantees"`
	Runtime            json.RawMessage   `json:"runtime"`
	ResourceURI        string            `json:"resource_uri"`
	// Extra holds members longrun does not model.
	Extra map[string]json.RawMessage `json:"-"`

	keys wire.Keys
}

type serverAlias struct {
	UUID               string            `json:"uuid"`
	Name               string            `json:"name"`
	CPU                int               `json:"cpu"`
	Mem                int64             `json:"mem"`
	SMP                int               `json:"smp"`
	Status             string            `json:"status"`
	VNCPassword        string            `json:"vnc_password"`
	Context            bool              `json:"context"`
	CPUModel           *string           `json:"cpu_model"`
	CPUType            string            `json:"cpu_type"`
	CPUsInsteadOfCores bool              `json:"cpus_instead_of_cores"`
	EnableNUMA         bool              `json:"enable_numa"`
	HVRelaxed          bool              `json:"hv_relaxed"`
	HVTSC              bool              `json:"hv_tsc"`
	Hypervisor         string            `json:"hypervisor"`
	Drives             []*ServerDrive    `json:"drives"`
	NICs               []*NIC            `json:"nics"`
	Jobs               []Ref             `json:"jobs"`
	Meta               map[string]any    `json:"meta"`
	Owner              *Ref              `json:"owner"`
	Permissions        []string          `json:"permissions"`
	Pubkeys            []Ref             `json:"pubkeys"`
	Requirements       []string          `json:"requirements"`
	Tags               []Ref             `json:"tags"`
	Grantees           []json.RawMessage `json:"grantees"`
	Runtime            json.RawMessage   `json:"runtime"`
	ResourceURI        string            `json:"resource_uri"`
}

// UnmarshalJSON keeps unknown members.
func (s *Server) UnmarshalJSON(b []byte) error {
	var a serverAlias
	extra, keys, err := wire.Decode(b, &a)
	if err != nil {
		return err
	}
	*s = Server{a.UUID, a.Name, a.CPU, a.Mem, a.SMP, a.Status, a.VNCPassword, a.Context, a.CPUModel,
		a.CPUType, a.CPUsInsteadOfCores, a.EnableNUMA, a.HVRelaxed, a.HVTSC, a.Hypervisor, a.Drives,
		a.NICs, a.Jobs, a.Meta, a.Owner, a.Permissions, a.Pubkeys, a.Requirements, a.Tags, a.Grantees,
		a.Runtime, a.ResourceURI, extra, keys}
	return nil
}

// MarshalJSON writes every member back, unknown ones included.
func (s Server) MarshalJSON() ([]byte, error) {
	return wire.Encode(serverAlias{s.UUID, s.Name, s.CPU, s.Mem, s.SMP, s.Status, s.VNCPassword, s.Context,
		s.CPUModel, s.CPUType, s.CPUsInsteadOfCores, s.EnableNUMA, s.HVRelaxed, s.HVTSC, s.Hypervisor,
		s.Drives, s.NICs, s.Jobs, s.Meta, s.Owner, s.Permissions, s.Pubkeys, s.Requirements, s.Tags,
		s.Grantees, s.Runtime, s.ResourceURI}, s.Extra, s.keys)
}

// ServerDrive is one entry of a server's drives: a drive attached on a
// device channel. In responses Drive is a reference object; in requests
// CloudSigma takes the drive's bare uuid (use jobs.RefTo).
type ServerDrive struct {
	BootOrder  *int            `json:"boot_order"`
	DevChannel string          `json:"dev_channel"`
	Device     string          `json:"device"`
	Drive      Ref             `json:"drive"`
	Runtime    json.RawMessage `json:"runtime"`
	// Extra holds members longrun does not model.
	Extra map[string]json.RawMessage `json:"-"`

	keys wire.Keys
}

type serverDriveAlias struct {
	BootOrder  *int            `json:"boot_order"`
	DevChannel string          `json:"dev_channel"`
	Device     string          `json:"device"`
	Drive      Ref             `json:"drive"`
	Runtime    json.RawMessage `json:"runtime"`
}

// UnmarshalJSON keeps unknown members.
func (d *ServerDrive) UnmarshalJSON(b []byte) error {
	var a serverDriveAlias
	extra, keys, err := wire.Decode(b, &a)
	if err != nil {
		return err
	}
	*d = ServerDrive{a.BootOrder, a.DevChannel, a.Device, a.Drive, a.Runtime, extra, keys}
	return nil
}

// MarshalJSON writes every member back.
func (d ServerDrive) MarshalJSON() ([]byte, error) {
	return wire.Encode(serverDriveAlias{d.BootOrder, d.DevChannel, d.Device, d.Drive, d.Runtime}, d.Extra, d.keys)
}

// NIC is one of a server's network interfaces.
type NIC struct {
	IPv4Conf       *IPConf         `json:"ip_v4_conf"`
	IPv6Conf       *IPConf         `json:"ip_v6_conf"`
	Model          string          `json:"model"`
	MAC            string          `json:"mac"`
	VLAN           *Ref            `json:"vlan"`
	FirewallPolicy *Ref            `json:"firewall_policy"`
	Runtime        json.RawMessage `json:"runtime"`
	// Extra holds members longrun does not model.
	Extra map[string]json.RawMessage `json:"-"`

	keys wire.Keys
}

type nicAlias struct {
	IPv4Conf       *IPConf         `json:"ip_v4_conf"`
	IPv6Conf       *IPConf         `json:"ip_v6_conf"`
	Model          string          `json:"model"`
	MAC            string          `json:"mac"`
	VLAN           *Ref            `json:"vlan"`
	FirewallPolicy *Ref            `json:"firewall_policy"`
	Runtime        json.RawMessage `json:"runtime"`
}

// UnmarshalJSON keeps unknown members.
func (n *NIC) UnmarshalJSON(b []byte) error {
	var a nicAlias
	extra, keys, err := wire.Decode(b, &a)
	if err != nil {
		return err
	}
	*n = NIC{a.IPv4Conf, a.IPv6Conf, a.Model, a.MAC, a.VLAN, a.FirewallPolicy, a.Runtime, extra, keys}
	return nil
}

// MarshalJSON writes every member back.
func (n NIC) MarshalJSON() ([]byte, error) {
	return wire.Encode(nicAlias{n.IPv4Conf, n.IPv6Conf, n.Model, n.MAC, n.VLAN, n.FirewallPolicy, n.Runtime}, n.Extra, n.keys)
}

// IPConf is a NIC's ip_v4_conf or ip_v6_conf: conf is dhcp, static or
// manual; IP is the static address's reference.
type IPConf struct {
	Conf string `json:"conf"`
	IP   *Ref   `json:"ip"`
	// Extra holds members longrun does not model.
	Extra map[string]json.RawMessage `json:"-"`

	keys wire.Keys
}

type ipConfAlias struct {
	Conf string `json:"conf"`
	IP   *Ref   `json:"ip"`
}

// UnmarshalJSON keeps unknown members.
func (c *IPConf) UnmarshalJSON(b []byte) error {
	var a ipConfAlias
	extra, keys, err := wire.Decode(b, &a)
	if err != nil {
		return err
	}
	*c = IPConf{a.Conf, a.IP, extra, keys}
	return nil
}

// MarshalJSON writes every member back.
func (c IPConf) MarshalJSON() ([]byte, error) {
	return wire.Encode(ipConfAlias{c.Conf, c.IP}, c.Extra, c.keys)
}

// List is a page of /servers/ or /servers/detail/.
type List = jobs.CloudSigmaPage[*Server]

// ListOptions are the query parameters of a list call (limit, offset,
// fields, order_by and the name, name__contains, tag, uuid filters).
type ListOptions = jobs.CloudSigmaListOptions

// CreateRequest is one server to create (POST /servers/).
type CreateRequest struct {
	Name        string         `json:"name"`
	CPU         int            `json:"cpu"`
	Mem         int64          `json:"mem"`
	VNCPassword string         `json:"vnc_password"`
	SMP         int            `json:"smp,omitempty"`
	Drives      []*ServerDrive `json:"drives,omitempty"`
	NICs        []*NIC         `json:"nics,omitempty"`
	Meta        map[string]any `json:"meta,omitempty"`
	Tags        []string       `json:"tags,omitempty"`
}

// CloneRequest is the optional body of a server clone.
type CloneRequest struct {
	// Name is the clone's name (else the profile's clone naming applies).
	Name string `json:"name,omitempty"`
	// RandomVNCPassword gives the clone a new random VNC password.
	RandomVNCPassword bool `json:"random_vnc_password,omitempty"`
}

// CloneOptions are the query parameters of a clone.
type CloneOptions struct {
	// Avoid lists drive or server uuids whose storage hosts the cloned
	// drives should avoid.
	Avoid []string
}

// DeleteOptions are the query parameters of a delete.
type DeleteOptions struct {
	// Recurse also deletes attached drives: "all_drives", "disks" or
	// "cdroms".
	Recurse string
}

// Service is the /servers/ resource. Build it with New.
type Service struct {
	c    *rest.Client
	jobs *jobs.CloudSigma
}

// New returns the servers service over c (see jobs.NewCloudSigmaClient).
func New(c *rest.Client) *Service {
	return &Service{c: c, jobs: jobs.NewCloudSigma(c)}
}

// Jobs is the jobs service CloneAndWait follows.
func (s *Service) Jobs() *jobs.CloudSigma { return s.jobs }

// List returns one page of /servers/ (trimmed objects).
func (s *Service) List(ctx context.Context, opts *ListOptions) (*List, error) {
	return csapi.List[*Server](ctx, s.c, "servers/", opts.Values())
}

// ListDetail returns one page of /servers/detail/ (full objects).
func (s *Service) ListDetail(ctx context.Context, opts *ListOptions) (*List, error) {
	return csapi.List[*Server](ctx, s.c, "servers/detail/", opts.Values())
}

// All yields every server of /servers/ matching opts, page by page.
func (s *Service) All(ctx context.Context, opts *ListOptions) iter.Seq2[*Server, error] {
	return csapi.All[*Server](ctx, s.c, "servers/", opts)
}

// AllDetail yields every full server of /servers/detail/, page by page.
func (s *Service) AllDetail(ctx context.Context, opts *ListOptions) iter.Seq2[*Server, error] {
	return csapi.All[*Server](ctx, s.c, "servers/detail/", opts)
}

// Get returns server uuid.
func (s *Service) Get(ctx context.Context, uuid string) (*Server, error) {
	p, err := csapi.Path("servers", uuid)
	if err != nil {
		return nil, err
	}
	var out Server
	if _, err := s.c.Do(ctx, http.MethodGet, p, nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Create creates one server (201; status stopped).
func (s *Service) Create(ctx context.Context, req *CreateRequest) (*Server, error) {
	var out csapi.Objects[*Server]
	if _, err := s.c.Do(ctx, http.MethodPost, "servers/", nil, csapi.Objects[*CreateRequest]{Objects: []*CreateRequest{req}}, &out); err != nil {
		return nil, err
	}
	return csapi.One(&out, "server create")
}

// Update replaces server uuid's editable members with srv's (PUT
// /servers/{uuid}/) and returns the server as the server now has it.
func (s *Service) Update(ctx context.Context, uuid string, srv *Server) (*Server, error) {
	p, err := csapi.Path("servers", uuid)
	if err != nil {
		return nil, err
	}
	var out Server
	if _, err := s.c.Do(ctx, http.MethodPut, p, nil, srv, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Delete deletes server uuid (204), and its drives when opts.Recurse says so.
func (s *Service) Delete(ctx context.Context, uuid string, opts *DeleteOptions) error {
	p, err := csapi.Path("servers", uuid)
	if err != nil {
		return err
	}
	q := url.Values{}
	if opts != nil && opts.Recurse != "" {
		q.Set("recurse", opts.Recurse)
	}
	_, err = s.c.Do(ctx, http.MethodDelete, p, q, nil, nil)
	return err
}

// Clone starts cloning server uuid (POST /servers/{uuid}/action/?do=clone,
// 202) and returns the new server as CloudSigma answers it: a bare server
// object (not an {"objects": [...]} envelope), status stopped, whose Jobs
// holds the server_clone job's reference. Its disks are cloned (one child
// job each) and attached; cdroms are attached as they are; IPs become DHCP.
func (s *Service) Clone(ctx context.Context, uuid string, req *CloneRequest, opts *CloneOptions) (*Server, error) {
	p, err := csapi.Path("servers", uuid)
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
	var out Server
	if _, err := s.c.Do(ctx, http.MethodPost, p+"action/", csapi.ActionQuery("clone", avoid), body, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CloneAndWait clones server uuid, waits with jobs.Wait until the clone
// job and every drive clone under it are done, and returns the new server
// as it is then, with the final job tree. On a wait error it returns the
// server as the clone answered it and the last tree seen, with the error.
func (s *Service) CloneAndWait(ctx context.Context, uuid string, req *CloneRequest, opts *CloneOptions, wait ...jobs.Option) (*Server, *jobs.Job, error) {
	srv, err := s.Clone(ctx, uuid, req, opts)
	if err != nil {
		return nil, nil, err
	}
	id, err := csapi.FirstJob(srv.Jobs, "server clone")
	if err != nil {
		return srv, nil, err
	}
	job, err := jobs.Wait(ctx, s.jobs, id, wait...)
	if err != nil {
		return srv, job, err
	}
	final, err := s.Get(ctx, srv.UUID)
	if err != nil {
		return srv, job, err
	}
	return final, job, nil
}
