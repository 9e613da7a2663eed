package freezer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/longrun/longrun/internal/redact"
	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/rest"
)

// APIVersion selects the Freezer API: V1 (/v1/jobs, the seed API) or V2
// (/v2/{project_id}/jobs, the only one left upstream).
type APIVersion int

// The API versions.
const (
	V1 APIVersion = 1
	V2 APIVersion = 2
)

// DefaultLimit is the page size the server uses when none is given.
const DefaultLimit = 10

// Dialect names Freezer jobs in a jobs.Job.
const Dialect jobs.Dialect = "freezer"

// Client speaks to the Freezer API's jobs. It is safe for concurrent use and
// is a jobs.Source, so jobs.Wait follows a Freezer job.
type Client struct {
	rc        *rest.Client
	version   APIVersion
	projectID string
	token     string
	source    *tokenSource
	logger    *slog.Logger
	clock     jobs.Clock
}

type options struct {
	version   APIVersion
	projectID string
	token     string
	creds     *Credentials
	rest      []rest.Option
	logger    *slog.Logger
	clock     jobs.Clock
}

// Option configures a Client; a bad value is an error from New.
type Option func(*options) error

// WithClock sets the clock a password token's lifetime and Wait's
// polling are measured on (jobs.WallClock by default; a fake's clock in
// tests, so that a token lasts as long as the fake's expires_at says).
func WithClock(clk jobs.Clock) Option {
	return func(c *options) error {
		if clk == nil {
			return errors.New("freezer: nil clock")
		}
		c.clock = clk
		return nil
	}
}

// WithHTTPClient sends requests (Keystone's too) through hc.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *options) error {
		if hc == nil {
			return errors.New("freezer: nil HTTP client")
		}
		c.rest = append(c.rest, rest.WithHTTPClient(hc))
		return nil
	}
}

// WithToken authenticates with a Keystone token the caller already has
// (sent as X-Auth-Token).
func WithToken(token string) Option {
	return func(c *options) error {
		if token == "" {
			return errors.New("freezer: empty token")
		}
		c.token = token
		return nil
	}
}

// WithPassword authenticates with a token the client obtains from Keystone
// v3 on first use and renews before it expires or when the API refuses it.
func WithPassword(creds Credentials) Option {
	return func(c *options) error {
		if creds.AuthURL == "" {
			return errors.New("freezer: credentials without AuthURL")
		}
		c.creds = &creds
		return nil
	}
}

// WithAPIVersion selects V1 (the default) or V2.
func WithAPIVersion(v APIVersion) Option {
	return func(c *options) error {
		if v != V1 && v != V2 {
			return fmt.Errorf("freezer: unknown API version %d", v)
		}
		c.version = v
		return nil
	}
}

// WithProjectID sets the project of V2 paths. With WithPassword and no
// project id, the token's project is used.
func WithProjectID(id string) Option {
	return func(c *options) error { c.projectID = id; return nil }
}

// WithRESTOptions passes options to the underlying rest.Client (HTTP
// client, retries, user agent).
func WithRESTOptions(opts ...rest.Option) Option {
	return func(c *options) error { c.rest = append(c.rest, opts...); return nil }
}

// WithLogger logs requests at debug level (never a token or password).
func WithLogger(l *slog.Logger) Option {
	return func(c *options) error { c.logger = l; return nil }
}

// New returns a client for the Freezer API at endpoint, such as
// http://freezer:9090 (the version path is added by the client). It never
// touches the network.
func New(endpoint string, opts ...Option) (*Client, error) {
	cfg := options{version: V1, clock: jobs.WallClock}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.token == "" && cfg.creds == nil {
		return nil, errors.New("freezer: no auth: use WithToken or WithPassword")
	}
	if cfg.version == V2 && cfg.projectID == "" && cfg.creds == nil {
		return nil, errors.New("freezer: V2 needs WithProjectID (or WithPassword, whose token names the project)")
	}
	c := &Client{version: cfg.version, projectID: cfg.projectID, token: cfg.token, logger: cfg.logger, clock: cfg.clock}
	if cfg.creds != nil {
		c.source = newTokenSource(*cfg.creds, cfg.clock, cfg.transport())
	}
	ropts := []rest.Option{rest.WithErrorDecoder(DecodeError), rest.WithAuth(c.authorize), rest.WithUserAgent("longrun-go freezer")}
	if cfg.logger != nil {
		ropts = append(ropts, rest.WithLogger(cfg.logger))
	}
	rc, err := rest.New(endpoint, append(ropts, cfg.rest...)...)
	if err != nil {
		// Whatever the endpoint holds, no token or password is echoed.
		var secrets []string
		if cfg.token != "" {
			secrets = append(secrets, cfg.token)
		}
		if cfg.creds != nil {
			secrets = append(secrets, cfg.creds.Password)
		}
		return nil, &redactedError{msg: "freezer: " + redact.Secret(redact.String(err.Error()), secrets...), err: err}
	}
	c.rc = rc
	return c, nil
}

// Version is the API version the client speaks.
func (c *Client) Version() APIVersion { return c.version }

type tokenKey struct{}

func (c *Client) authorize(r *http.Request) error {
	if c.source == nil {
		r.Header.Set("X-Auth-Token", c.token)
		return nil
	}
	t, err := c.source.token(r.Context())
	if err != nil {
		return err
	}
	if slot, ok := r.Context().Value(tokenKey{}).(**Token); ok {
		*slot = t
	}
	r.Header.Set("X-Auth-Token", t.Value())
	return nil
}

// do sends a request, renewing a password token once when the API answers
// 401.
func (c *Client) do(ctx context.Context, method, path string, q, body, out any) (*rest.Response, error) {
	var used *Token
	ctx2 := context.WithValue(ctx, tokenKey{}, &used)
	resp, err := c.rc.Do(ctx2, method, path, q, body, out)
	if c.source != nil && errors.Is(err, rest.ErrUnauthorized) && used != nil {
		c.source.invalidate(ctx, used)
		resp, err = c.rc.Do(ctx2, method, path, q, body, out)
	}
	return resp, classify(err)
}

// redactedError is an error whose message had secrets taken out; Unwrap
// still gives the cause for errors.Is and errors.As.
type redactedError struct {
	msg string
	err error
}

// Error is the redacted message.
func (e *redactedError) Error() string { return e.msg }

// Unwrap gives the cause.
func (e *redactedError) Unwrap() error { return e.err }

// statusError is an API error that also matches the shared sentinel of
// its kind (jobs.ErrNotFound, jobs.ErrUnauthorized); errors.As still
// finds the *rest.APIError inside.
type statusError struct {
	err      error
	sentinel error
}

// Error is the API error's message.
func (e *statusError) Error() string { return e.err.Error() }

// Unwrap gives the API error and the sentinel it matches.
func (e *statusError) Unwrap() []error { return []error{e.err, e.sentinel} }

// classify makes a 404 match jobs.ErrNotFound and a 401 jobs.ErrUnauthorized.
func classify(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, rest.ErrNotFound) && !errors.Is(err, jobs.ErrNotFound):
		return &statusError{err, jobs.ErrNotFound}
	case errors.Is(err, rest.ErrUnauthorized) && !errors.Is(err, jobs.ErrUnauthorized):
		return &statusError{err, jobs.ErrUnauthorized}
	}
	return err
}

// collection is the jobs path: v1/jobs or v2/{project_id}/jobs.
func (c *Client) collection(ctx context.Context) (string, error) {
	return c.resource(ctx, "jobs")
}

// resource is a collection's path: v1/{name} or v2/{project_id}/{name}.
func (c *Client) resource(ctx context.Context, name string) (string, error) {
	if c.version == V1 {
		return "v1/" + name, nil
	}
	pid := c.projectID
	if pid == "" {
		t, err := c.source.token(ctx)
		if err != nil {
			return "", err
		}
		if t.ProjectID == "" {
			return "", errors.New("freezer: V2 needs a project id and the token is unscoped")
		}
		pid = t.ProjectID
	}
	return "v2/" + url.PathEscape(pid) + "/" + name, nil
}

func (c *Client) item(ctx context.Context, id string) (string, error) {
	if id == "" || id == "." || id == ".." {
		// "." and ".." would name another resource once the URL is resolved.
		return "", &ValidationError{Field: "job_id", Value: id, Reason: "not a job id"}
	}
	col, err := c.collection(ctx)
	if err != nil {
		return "", err
	}
	return col + "/" + url.PathEscape(id), nil
}

// ListOptions are the query of GET .../jobs: a page (limit, offset) and a
// search document sent in the request body, as python-freezerclient sends it.
type ListOptions struct {
	// Limit is the page size (the server's default is 10).
	Limit int `url:"limit,omitempty"`
	// Offset skips that many jobs.
	Offset int `url:"offset,omitempty"`
	// Search, when not empty, filters the jobs.
	Search *Search `url:"-"`
}

// List fetches one page of the caller's jobs: opts.Limit jobs
// (DefaultLimit when zero) from opts.Offset, filtered by opts.Search. The
// API gives no total: Page.Total is -1, and Page.More reports a full page.
func (c *Client) List(ctx context.Context, opts *ListOptions) (*jobs.Page[*Job], error) {
	col, err := c.collection(ctx)
	if err != nil {
		return nil, err
	}
	var out struct {
		Jobs []*Job `json:"jobs"`
	}
	return listPage(ctx, c, col, opts, &out, func() []*Job { return out.Jobs })
}

// All yields every job matching opts, page after page (opts.Limit jobs a
// page, DefaultLimit when zero), starting at opts.Offset.
func (c *Client) All(ctx context.Context, opts *ListOptions) iter.Seq2[*Job, error] {
	return all(ctx, opts, c.List)
}

// Get fetches one job. A job the server does not know (or that belongs to
// another user) is an *rest.APIError matching jobs.ErrNotFound.
func (c *Client) Get(ctx context.Context, id string) (*Job, error) {
	p, err := c.item(ctx, id)
	if err != nil {
		return nil, err
	}
	var j Job
	if _, err := c.do(ctx, http.MethodGet, p, nil, nil, &j); err != nil {
		return nil, err
	}
	return &j, nil
}

// Create validates job and posts it; it returns the new job's id. The
// server fills user_id, job_id, time_created, and time_started and
// time_ended with -1.
func (c *Client) Create(ctx context.Context, job *Job) (string, error) {
	if err := job.Validate(); err != nil {
		return "", err
	}
	col, err := c.collection(ctx)
	if err != nil {
		return "", err
	}
	var out IDVersion
	if _, err := c.do(ctx, http.MethodPost, col, nil, job.outgoing(), &out); err != nil {
		return "", err
	}
	if out.JobID == "" {
		return "", errors.New("freezer: create answered without a job_id")
	}
	return out.JobID, nil
}

// Update patches job id with the fields set in patch (PATCH). Beware: the
// real server (freezer-api 13) stores an empty job_schedule when the patch
// has none, so send the schedule along to keep it.
func (c *Client) Update(ctx context.Context, id string, patch *Job) (IDVersion, error) {
	if err := patch.ValidatePatch(); err != nil {
		return IDVersion{}, err
	}
	return c.write(ctx, http.MethodPatch, id, patch)
}

// Replace creates or replaces job id with job (POST .../jobs/{id}, 201).
func (c *Client) Replace(ctx context.Context, id string, job *Job) (IDVersion, error) {
	if err := job.Validate(); err != nil {
		return IDVersion{}, err
	}
	return c.write(ctx, http.MethodPost, id, job)
}

// write sends job to job id's own path and reads the id and version back.
func (c *Client) write(ctx context.Context, method, id string, job *Job) (IDVersion, error) {
	p, err := c.item(ctx, id)
	if err != nil {
		return IDVersion{}, err
	}
	var out IDVersion
	_, err = c.do(ctx, method, p, nil, job.outgoing(), &out)
	return out, err
}

// Delete removes job id (204). The v1 API answers 404 for an unknown job;
// v2 answers 204 either way.
func (c *Client) Delete(ctx context.Context, id string) error {
	p, err := c.item(ctx, id)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, http.MethodDelete, p, nil, nil, nil)
	return err
}

// SendEvent posts {"<event>": null} to .../jobs/{id}/event (202).
func (c *Client) SendEvent(ctx context.Context, id string, ev Event) (EventResult, error) {
	if ev != EventStart && ev != EventStop && ev != EventAbort {
		return EventResult{}, &ValidationError{Field: "event", Value: string(ev), Reason: "want start, stop or abort"}
	}
	p, err := c.item(ctx, id)
	if err != nil {
		return EventResult{}, err
	}
	var out EventResult
	_, err = c.do(ctx, http.MethodPost, p+"/event", nil, map[string]any{string(ev): nil}, &out)
	return out, err
}

// Start asks the agent to run job id now; its status and result are reset.
func (c *Client) Start(ctx context.Context, id string) (EventResult, error) {
	return c.SendEvent(ctx, id, EventStart)
}

// Stop asks the agent to stop scheduling job id.
func (c *Client) Stop(ctx context.Context, id string) (EventResult, error) {
	return c.SendEvent(ctx, id, EventStop)
}

// Abort asks the agent to kill job id's run.
func (c *Client) Abort(ctx context.Context, id string) (EventResult, error) {
	return c.SendEvent(ctx, id, EventAbort)
}

// FetchConcurrency bounds the GETs one Fetch runs at once.
const FetchConcurrency = 8

// Fetch implements jobs.Source. Freezer has no batch get, so it sends one
// GET per id, at most FetchConcurrency at a time (a jobs.Watcher hands it
// every watched id in one call); a job the server does not know is left
// out. The first error cancels the GETs still running and is returned;
// every GET has ended when Fetch returns.
func (c *Client) Fetch(ctx context.Context, ids ...string) ([]*jobs.Job, error) {
	got := make([]*jobs.Job, len(ids))
	get := func(ctx context.Context, i int) error {
		j, err := c.Get(ctx, ids[i])
		if errors.Is(err, jobs.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		got[i] = j.ToJob()
		return nil
	}
	if len(ids) == 1 {
		if err := get(ctx, 0); err != nil {
			return nil, err
		}
	} else if err := c.fetchAll(ctx, len(ids), get); err != nil {
		return nil, err
	}
	out := make([]*jobs.Job, 0, len(ids))
	for _, j := range got {
		if j != nil {
			out = append(out, j)
		}
	}
	return out, nil
}

// fetchAll runs get(ctx, i) for i in [0, n) on at most FetchConcurrency
// goroutines and waits for all of them; the first error cancels the rest.
func (c *Client) fetchAll(ctx context.Context, n int, get func(context.Context, int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(n, FetchConcurrency) {
		wg.Go(func() {
			for i := range next {
				if err := get(ctx, i); err != nil {
					cancel(err)
				}
			}
		})
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return context.Cause(ctx)
}

// Wait follows job id until the run under way (or requested by Start)
// ends; it is jobs.Wait on this client. A fail result is a
// *jobs.FailedError matching jobs.ErrJobFailed, an aborted one also
// matches jobs.ErrJobAborted.
func (c *Client) Wait(ctx context.Context, id string, opts ...jobs.Option) (*jobs.Job, error) {
	return jobs.Wait(ctx, c, id, append([]jobs.Option{jobs.WithClock(c.clock)}, opts...)...)
}

// Run starts job id and waits for that run's result.
func (c *Client) Run(ctx context.Context, id string, opts ...jobs.Option) (*jobs.Job, error) {
	if _, err := c.Start(ctx, id); err != nil {
		return nil, err
	}
	return c.Wait(ctx, id, opts...)
}

// ToJob turns a Freezer job into a *jobs.Job. The state comes from
// job_schedule: a start requested but not yet picked up, or a job
// scheduled for its next run, is queued; running or aborting is running;
// then the result decides (success, fail, aborted); a job stopped or
// removed with no result is aborted. RawState is "status" or
// "status/result".
func (j *Job) ToJob() *jobs.Job {
	s := j.JobSchedule
	out := &jobs.Job{ID: j.JobID, Dialect: Dialect}
	out.RawState = string(s.Status)
	if s.Result != "" {
		out.RawState += "/" + string(s.Result)
	}
	if s.Event != "" {
		out.Progress.Description = "event " + string(s.Event) + " requested"
	}
	for _, a := range j.JobActions {
		if a.FreezerAction.Action != "" {
			if out.Operation != "" {
				out.Operation += ","
			}
			out.Operation += a.FreezerAction.Action
		}
	}
	switch {
	case s.Status == StatusRunning || s.Status == StatusAborting:
		out.State = jobs.StateRunning
	case s.Event == EventStart && s.Result == "":
		out.State = jobs.StateQueued
	case s.Result == ResultSuccess:
		out.State = jobs.StateSucceeded
	case s.Result == ResultFail:
		out.State = jobs.StateFailed
		out.Message = "backup job failed"
	case s.Result == ResultAborted:
		out.State = jobs.StateAborted
		out.Message = "backup job aborted"
	case s.Result != "":
		out.State = jobs.StateUnknown
	case s.Status == StatusStop || s.Status == StatusRemoved:
		out.State = jobs.StateAborted
		out.Message = "job " + string(s.Status) + " before it ran"
	case s.Status == StatusCompleted:
		out.State = jobs.StateFailed
		out.Message = "job completed without a result"
	case s.Status == StatusScheduled || s.Status == StatusNone:
		out.State = jobs.StateQueued
	default:
		out.State = jobs.StateUnknown
	}
	if out.State.Terminal() {
		out.Progress = jobs.Progress{Percent: 100, Known: true, Description: out.Progress.Description}
	}
	if s.TimeCreated > 0 {
		out.Created = time.Unix(s.TimeCreated, 0).UTC()
	}
	if t := max(s.TimeEnded, s.TimeStarted); t > 0 {
		out.Updated = time.Unix(t, 0).UTC()
	}
	if raw, err := json.Marshal(j); err == nil {
		out.Raw = raw
	}
	return out
}

// ErrorBody is the API's error document: falcon's {"title", "description"}
// from freezer-api, or {"error": {"code", "title", "message"}} from
// Keystone and its auth middleware.
type ErrorBody struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	// Code is Keystone's error.code (0 for freezer-api errors).
	Code int `json:"code,omitempty"`
}

// DecodeError is the rest.ErrorDecoder for Freezer and Keystone: it fills
// Type with the title, Message with the description and Details with an
// *ErrorBody. A body it cannot read leaves e as it is.
func DecodeError(e *rest.APIError, body []byte) {
	var doc struct {
		Title       *string `json:"title"`
		Description *string `json:"description"`
		Error       *struct {
			Code    int    `json:"code"`
			Title   string `json:"title"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &doc) != nil {
		return
	}
	var b ErrorBody
	switch {
	case doc.Error != nil:
		b = ErrorBody{Title: doc.Error.Title, Description: doc.Error.Message, Code: doc.Error.Code}
	case doc.Title != nil || doc.Description != nil:
		if doc.Title != nil {
			b.Title = *doc.Title
		}
		if doc.Description != nil {
			b.Description = *doc.Description
		}
	default:
		return
	}
	e.Type, e.Message, e.Details = b.Title, b.Description, &b
}
