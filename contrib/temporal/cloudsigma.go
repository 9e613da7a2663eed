package temporal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	sdktemporal "go.temporal.io/sdk/temporal"

	"github.com/longrun/longrun/cloudsigma"
	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/rest"
	"github.com/longrun/longrun/servers"
)

// DialectCloudSigma is the dialect name WaitJob uses for the jobs of the
// CloudSigma accounts registered with WithCloudSigma. Its Config is the
// account name as a JSON string.
const DialectCloudSigma = string(cloudsigma.Dialect)

// Server is a CloudSigma server a clone activity made (or found).
type Server struct {
	UUID  string `json:"uuid"`
	Name  string `json:"name"`
	JobID string `json:"job_id,omitempty"` // the server_clone job, if the server still lists one
	// Existed is true when an earlier attempt had made it already.
	Existed bool `json:"existed,omitempty"`
}

// CloudSigmaAccount is what the CloudSigma activities use of one account.
// NewCloudSigmaAccount adapts a longrun CloudSigma client.
type CloudSigmaAccount interface {
	// FindServer returns the server named name, or nil if there is none.
	FindServer(ctx context.Context, name string) (*Server, error)
	// CloneServer clones server uuid under the name name.
	CloneServer(ctx context.Context, uuid, name string) (*Server, error)
	// DeleteServer deletes server uuid and its drives.
	DeleteServer(ctx context.Context, uuid string) error
	// Jobs is the account's jobs service.
	Jobs() jobs.Source
}

// CloudSigmaFunc returns the worker's client of the named account (the
// worker holds its credentials; requests carry only the name).
type CloudSigmaFunc func(ctx context.Context, account string) (CloudSigmaAccount, error)

// WithCloudSigma registers the worker's CloudSigma accounts: the clone
// activities use them, and WaitJob follows their jobs under
// DialectCloudSigma (Config: the account name as a JSON string).
func WithCloudSigma(fn CloudSigmaFunc) Option {
	return func(o *options) error {
		if fn == nil {
			return errors.New("temporal: WithCloudSigma needs a function")
		}
		o.cloudsigma = fn
		o.sources[DialectCloudSigma] = func(ctx context.Context, config json.RawMessage) (jobs.Source, error) {
			var account string
			if len(config) > 0 {
				if err := json.Unmarshal(config, &account); err != nil {
					return nil, sdktemporal.NewNonRetryableApplicationError("temporal: cloudsigma config is not an account name: "+err.Error(), ErrTypeBadRequest, nil)
				}
			}
			acc, err := fn(ctx, account)
			if err != nil {
				return nil, err
			}
			return acc.Jobs(), nil
		}
		return nil
	}
}

// CloneRequest asks CloneServer for one clone. Name is the idempotency
// key: a server of that name is taken to be this request's clone.
type CloneRequest struct {
	Account string `json:"account"`
	Source  string `json:"source"` // uuid of the server to clone
	Name    string `json:"name"`
}

func (a *Activities) account(ctx context.Context, name string) (CloudSigmaAccount, error) {
	if a.o.cloudsigma == nil {
		return nil, sdktemporal.NewNonRetryableApplicationError("temporal: no CloudSigma accounts registered (WithCloudSigma)", ErrTypeBadRequest, nil)
	}
	return a.o.cloudsigma(ctx, name)
}

// CloneServer clones req.Source under req.Name, once: if a server named
// req.Name exists already (an earlier attempt cloned it and crashed, or
// lost the answer), it returns that server with Existed set instead of
// cloning again. Wait on the result's JobID with WaitJob.
func (a *Activities) CloneServer(ctx context.Context, req CloneRequest) (*Server, error) {
	if req.Name == "" || req.Source == "" {
		return nil, sdktemporal.NewNonRetryableApplicationError("temporal: CloneRequest needs Source and Name (the idempotency key)", ErrTypeBadRequest, nil)
	}
	acc, err := a.account(ctx, req.Account)
	if err != nil {
		return nil, err
	}
	if s, err := acc.FindServer(ctx, req.Name); err != nil {
		return nil, permanent(err)
	} else if s != nil {
		s.Existed = true
		return s, nil
	}
	s, err := acc.CloneServer(ctx, req.Source, req.Name)
	if err != nil {
		return nil, permanent(err)
	}
	return s, nil
}

// DeleteRequest asks DeleteServer to remove the clone named Name.
type DeleteRequest struct {
	Account string `json:"account"`
	Name    string `json:"name"`
}

// DeleteServer deletes the server named req.Name and its drives; a server
// that is not there (never cloned, or deleted by an earlier attempt) is
// not an error. It reports whether it deleted one.
func (a *Activities) DeleteServer(ctx context.Context, req DeleteRequest) (bool, error) {
	acc, err := a.account(ctx, req.Account)
	if err != nil {
		return false, err
	}
	s, err := acc.FindServer(ctx, req.Name)
	if err != nil {
		return false, permanent(err)
	}
	if s == nil {
		return false, nil
	}
	if err := acc.DeleteServer(ctx, s.UUID); err != nil {
		if errors.Is(err, jobs.ErrNotFound) {
			return false, nil
		}
		return false, permanent(err)
	}
	return true, nil
}

// permanent makes errors a retry cannot fix non-retryable; others (429,
// 5xx, a dropped connection) are left to the retry policy.
func permanent(err error) error {
	var t jobs.Temporary
	if errors.As(err, &t) && t.Temporary() {
		return err
	}
	var apiErr *rest.APIError
	if errors.As(err, &apiErr) && apiErr.StatusCode >= 500 {
		return err
	}
	if errors.Is(err, jobs.ErrUnauthorized) {
		return sdktemporal.NewNonRetryableApplicationError(err.Error(), ErrTypeUnauthorized, err)
	}
	if errors.Is(err, jobs.ErrNotFound) {
		return sdktemporal.NewNonRetryableApplicationError(err.Error(), ErrTypeNotFound, err)
	}
	if apiErr != nil && apiErr.StatusCode >= 400 {
		return sdktemporal.NewNonRetryableApplicationError(err.Error(), ErrTypeBadRequest, err)
	}
	return err
}

// NewCloudSigmaAccount adapts a longrun CloudSigma client (see
// cloudsigma.New) to CloudSigmaAccount.
func NewCloudSigmaAccount(c *cloudsigma.Client) CloudSigmaAccount {
	return &csAccount{servers: servers.New(c), jobs: c.Jobs}
}

type csAccount struct {
	servers *servers.Service
	jobs    *cloudsigma.JobsService
}

func (a *csAccount) Jobs() jobs.Source { return a.jobs }

func toServer(s *servers.Server) *Server {
	out := &Server{UUID: s.UUID, Name: s.Name}
	for _, r := range s.Jobs {
		if r.UUID != "" {
			out.JobID = r.UUID
			break
		}
	}
	return out
}

func (a *csAccount) FindServer(ctx context.Context, name string) (*Server, error) {
	page, err := a.servers.List(ctx, &servers.ListOptions{Detail: true, NoLimit: true, Filters: map[string][]string{"name": {name}}})
	if err != nil {
		return nil, err
	}
	var found []*servers.Server
	for _, s := range page.Items {
		if s != nil && s.Name == name {
			found = append(found, s)
		}
	}
	switch len(found) {
	case 0:
		return nil, nil
	case 1:
		return toServer(found[0]), nil
	}
	return nil, sdktemporal.NewNonRetryableApplicationError(fmt.Sprintf("temporal: %d servers are named %q: the name is the clone's idempotency key and must be unique", len(found), name), ErrTypeBadRequest, nil)
}

func (a *csAccount) CloneServer(ctx context.Context, uuid, name string) (*Server, error) {
	s, err := a.servers.Clone(ctx, uuid, &servers.CloneRequest{Name: name}, nil)
	if err != nil {
		return nil, err
	}
	return toServer(s), nil
}

func (a *csAccount) DeleteServer(ctx context.Context, uuid string) error {
	return a.servers.Delete(ctx, uuid, &servers.DeleteOptions{Recurse: "all_drives"})
}
