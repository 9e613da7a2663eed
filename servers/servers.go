// Package servers is the CloudSigma API 2.0 /servers/ resource: list, get,
// create, update, delete and clone servers; start, stop, shut down, and
// open and close their VNC consoles; follow a server clone (whose job has
// one child job per cloned disk) to the end with CloneAndWait, and wait
// for a status ("running", "stopped") with WaitStatus.
//
// Build the *cloudsigma.Client with cloudsigma.New; a refusal is a
// *cloudsigma.Errors holding the error list the server sent.
package servers

import (
	"context"
	"net/url"

	"github.com/longrun/longrun/cloudsigma"
	"github.com/longrun/longrun/jobs"
)

// ListOptions are the query parameters of a list call (Detail for full
// objects, limit, offset, fields, order_by and the name, name__contains,
// tag, uuid filters).
type ListOptions = cloudsigma.ListOptions

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

// ActionResult is CloudSigma's answer to a server action (start, stop,
// shutdown, open_vnc, close_vnc): {"action": "start", "result":
// "success", "uuid": ...}.
type ActionResult struct {
	Action string `json:"action"`
	Result string `json:"result"`
	UUID   string `json:"uuid"`
	// VNCURL is the console's address, in the answer to open_vnc
	// (vnc://direct.zrh.cloudsigma.com:42714).
	VNCURL string `json:"vnc_url,omitempty"`
}

// Service is the /servers/ resource. Build it with New. List, All, Get,
// Create, Update and WaitStatus come from the shared cloudsigma.Resource.
type Service struct {
	*cloudsigma.Resource[*Server, *CreateRequest]
}

// New returns the servers service of c.
func New(c *cloudsigma.Client) *Service {
	return &Service{cloudsigma.NewResource[*Server, *CreateRequest](c, "servers", func(s *Server) string { return s.Status })}
}

// Create creates one server (201; status stopped).
func (s *Service) Create(ctx context.Context, req *CreateRequest) (*Server, error) {
	return s.Resource.Create(ctx, req, nil)
}

// Delete deletes server uuid (204), and its drives when opts.Recurse says
// so. CloudSigma refuses to delete a server that is not stopped.
func (s *Service) Delete(ctx context.Context, uuid string, opts *DeleteOptions) error {
	var q url.Values
	if opts != nil && opts.Recurse != "" {
		q = url.Values{"recurse": {opts.Recurse}}
	}
	return s.Resource.Delete(ctx, uuid, q)
}

// Clone starts cloning server uuid (POST /servers/{uuid}/action/?do=clone,
// 202) and returns the new server as CloudSigma answers it: a bare server
// object (not an {"objects": [...]} envelope), status stopped, whose Jobs
// holds the server_clone job's reference. Its disks are cloned (one child
// job each) and attached; cdroms are attached as they are; IPs become DHCP.
func (s *Service) Clone(ctx context.Context, uuid string, req *CloneRequest, opts *CloneOptions) (*Server, error) {
	var q url.Values
	if opts != nil && len(opts.Avoid) > 0 {
		q = url.Values{"avoid": {cloudsigma.JoinFilter(opts.Avoid)}}
	}
	var body any
	if req != nil {
		body = req
	}
	var out Server
	if err := s.Action(ctx, uuid, "clone", q, body, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CloneAndWait clones server uuid, waits with jobs.Wait until the clone
// job and every drive clone under it are done (push-first on the client's
// websocket), and returns the new server as it is then, with the final job
// tree. On a wait error it returns the server as the clone answered it and
// the last tree seen, with the error.
func (s *Service) CloneAndWait(ctx context.Context, uuid string, req *CloneRequest, opts *CloneOptions, wait ...jobs.Option) (*Server, *jobs.Job, error) {
	srv, err := s.Clone(ctx, uuid, req, opts)
	if err != nil {
		return nil, nil, err
	}
	return s.FollowJob(ctx, srv, srv.UUID, srv.Jobs, wait...)
}

func (s *Service) act(ctx context.Context, uuid, do string) (*ActionResult, error) {
	var out ActionResult
	if err := s.Action(ctx, uuid, do, nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Start starts server uuid (do=start, 202): it goes starting, then
// running, and its drives mounted. Wait with WaitStatus(ctx, uuid,
// StatusRunning).
func (s *Service) Start(ctx context.Context, uuid string) (*ActionResult, error) {
	return s.act(ctx, uuid, "start")
}

// Stop stops server uuid at once, as pulling the plug would (do=stop,
// 202): stopping, then stopped.
func (s *Service) Stop(ctx context.Context, uuid string) (*ActionResult, error) {
	return s.act(ctx, uuid, "stop")
}

// Shutdown asks server uuid's guest to shut down with an ACPI signal
// (do=shutdown, 202); the server is stopped once the guest has.
func (s *Service) Shutdown(ctx context.Context, uuid string) (*ActionResult, error) {
	return s.act(ctx, uuid, "shutdown")
}

// OpenVNC opens the VNC tunnel of running server uuid (do=open_vnc, 202);
// the answer's VNCURL is its address.
func (s *Service) OpenVNC(ctx context.Context, uuid string) (*ActionResult, error) {
	return s.act(ctx, uuid, "open_vnc")
}

// CloseVNC closes the VNC tunnel of server uuid (do=close_vnc, 202).
func (s *Service) CloseVNC(ctx context.Context, uuid string) (*ActionResult, error) {
	return s.act(ctx, uuid, "close_vnc")
}
