// Package ftrack speaks ftrack's JSON API for Jobs: the feedback a long
// task run through the API shows its user in the web interface's Jobs
// menu, with files attached to download.
//
// Every call is one POST {server}/api carrying a batch of operations
// (create, update, delete, query, query_server_information, query_schemas,
// get_upload_metadata, complete_multipart_upload) and answered by a list
// of results in the same order.
// A Session sends them with the ftrack-user and ftrack-api-key headers:
//
//	s, _ := ftrack.NewSession("https://example.ftrackapp.com", "jane", apiKey)
//	job, _ := s.CreateJob(ctx, ftrack.CreateJobRequest{Description: "Exporting"})
//	_, _ = s.Attach(ctx, job.ID, "export.log", f, size)
//	_, _ = s.SetStatus(ctx, job.ID, ftrack.StatusDone, "Exported")
//
// Attach uploads a file above 16 MiB in parts, as ftrack's JavaScript
// client does; Remove deletes an attachment. List returns one page of
// jobs (a *jobs.Page), All iterates over every page, and Job.ToJob
// converts a job to the shared jobs.Job. A Session is also a jobs.Source,
// so jobs.Wait follows a job another process reports.
//
// The api key never appears in an error or a log line; DownloadURL, which
// must carry it, is the one exception and says so. A not-found matches
// jobs.ErrNotFound, a refused key or permission jobs.ErrUnauthorized.
package ftrack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/longrun/longrun/internal/redact"
	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/rest"
)

// Dialect is the jobs.Dialect of the jobs a Session converts.
const Dialect jobs.Dialect = "ftrack"

// Session is a connection to one ftrack server as one API user. It is safe
// for concurrent use; NewSession never touches the network.
type Session struct {
	server *url.URL
	user   string
	apiKey string
	rc     *rest.Client
	hc     *http.Client
	logger *slog.Logger
	lazy   bool
	clock  jobs.Clock
	upload uploadConfig

	mu      sync.Mutex
	info    *ServerInformation
	schemas []Schema
	userID  string
}

// options are what the Options set before NewSession builds the Session.
type options struct {
	hc      *http.Client
	logger  *slog.Logger
	lazy    bool
	clock   jobs.Clock
	upload  uploadConfig
	restOps []rest.Option
}

// Option configures a Session; a bad value is an error from NewSession.
type Option func(*options) error

// WithStrictAPI sends ftrack-strict-api: true, which makes the server answer
// errors with an HTTP error status instead of 200.
func WithStrictAPI(on bool) Option {
	return func(o *options) error {
		if on {
			o.restOps = append(o.restOps, rest.WithHeader("ftrack-strict-api", "true"))
		}
		return nil
	}
}

// WithHTTPClient sends every request (uploads and downloads too) with hc.
func WithHTTPClient(hc *http.Client) Option {
	return func(o *options) error {
		if hc == nil {
			return errors.New("ftrack: nil *http.Client")
		}
		o.hc = hc
		o.restOps = append(o.restOps, rest.WithHTTPClient(hc))
		return nil
	}
}

// WithLogger logs requests at debug level, without headers or secrets.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return errors.New("ftrack: nil *slog.Logger")
		}
		o.logger = l
		o.restOps = append(o.restOps, rest.WithLogger(l))
		return nil
	}
}

// WithHeader adds a header to every API request.
func WithHeader(name, value string) Option {
	return func(o *options) error { o.restOps = append(o.restOps, rest.WithHeader(name, value)); return nil }
}

// WithRetry sets the transport's retries (see rest.WithRetry). A batch is a
// POST, so it is repeated only on 429 and 503.
func WithRetry(max int, minWait, maxWait time.Duration) Option {
	return func(o *options) error {
		o.restOps = append(o.restOps, rest.WithRetry(max, minWait, maxWait))
		return nil
	}
}

// WithLazyInit controls whether the session's first call also asks for
// query_server_information and query_schemas in the same batch, as the
// reference clients do when they start (default on). Off, they are asked
// only by ServerInformation and Schemas.
func WithLazyInit(on bool) Option { return func(o *options) error { o.lazy = on; return nil } }

// WithClock sets the clock finished_at is read from and Wait polls on
// (default the wall clock); pass the fake's clock in tests.
func WithClock(c jobs.Clock) Option {
	return func(o *options) error {
		if c == nil {
			return errors.New("ftrack: nil clock")
		}
		o.clock = c
		return nil
	}
}

// NewSession returns a session for the server at serverURL (such as
// https://example.ftrackapp.com) as user, authenticated by apiKey. Its
// errors never show the api key, nor a password or token the URL holds.
func NewSession(serverURL, user, apiKey string, opts ...Option) (*Session, error) {
	if user == "" || apiKey == "" {
		return nil, errors.New("ftrack: user and api key are required")
	}
	u, err := url.Parse(strings.TrimRight(serverURL, "/"))
	if err != nil {
		return nil, fmt.Errorf("ftrack: server URL %q does not parse", redact.Secret(redact.RawURL(serverURL), apiKey))
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("ftrack: server URL %q must be http(s)://host", redact.Secret(redact.URL(u), apiKey))
	}
	u.RawQuery, u.Fragment, u.User = "", "", nil
	o := options{hc: http.DefaultClient, lazy: true, clock: jobs.WallClock, upload: defaultUpload}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	s := &Session{server: u, user: user, apiKey: apiKey, hc: o.hc, logger: o.logger, lazy: o.lazy, clock: o.clock, upload: o.upload}
	ropts := append([]rest.Option{
		rest.WithAuth(func(r *http.Request) error {
			r.Header.Set("ftrack-user", user)
			r.Header.Set("ftrack-api-key", apiKey)
			return nil
		}),
		rest.WithErrorDecoder(errorDecoder),
		rest.WithUserAgent("longrun-go-ftrack"),
	}, o.restOps...)
	s.rc, err = rest.New(u.String()+"/", ropts...)
	if err != nil {
		return nil, fmt.Errorf("ftrack: %s", redact.Secret(err.Error(), apiKey))
	}
	return s, nil
}

func (s *Session) now() time.Time { return s.clock.Now() }

// ServerURL is the server's URL without a trailing slash.
func (s *Session) ServerURL() string { return s.server.String() }

// User is the API user's name.
func (s *Session) User() string { return s.user }

// Call sends ops as one batch (one POST /api) and returns their results in
// order. A batch either succeeds whole or fails whole: the server answers
// an error object instead of a list, returned as a *ServerError. When lazy
// init is on and the server information is not known yet, the batch also
// carries query_server_information and query_schemas in front; their
// results are kept by the session and not returned.
func (s *Session) Call(ctx context.Context, ops ...Operation) ([]Result, error) {
	if len(ops) == 0 {
		return nil, nil
	}
	s.mu.Lock()
	prefix := s.lazy && s.info == nil
	s.mu.Unlock()
	if prefix {
		ops = append([]Operation{QueryServerInformationOperation{}, QuerySchemasOperation{}}, ops...)
	}
	res, err := s.call(ctx, ops)
	if err != nil {
		return nil, err
	}
	if prefix {
		if err := s.keepInit(res[0], res[1]); err != nil {
			return nil, err
		}
		res = res[2:]
	}
	return res, nil
}

func (s *Session) call(ctx context.Context, ops []Operation) ([]Result, error) {
	for i, op := range ops {
		if op == nil {
			return nil, fmt.Errorf("ftrack: operation %d is nil", i)
		}
	}
	body, err := json.Marshal(ops)
	if err != nil {
		return nil, fmt.Errorf("ftrack: encoding batch: %w", err)
	}
	// A json.RawMessage is sent as it is, with Content-Type application/json.
	resp, err := s.rc.Do(ctx, http.MethodPost, "api", nil, json.RawMessage(body), nil)
	if err != nil {
		return nil, s.wrapErr(err)
	}
	res, err := DecodeResults(resp.Body, len(ops))
	if err != nil {
		var se *ServerError
		if errors.As(err, &se) {
			se.StatusCode = resp.StatusCode
			se.Content = s.redact(se.Content)
			return nil, se
		}
		return nil, &rest.DecodeError{StatusCode: resp.StatusCode, Method: http.MethodPost,
			URL: redact.URL(s.rc.BaseURL().JoinPath("api")), RequestID: resp.RequestID,
			Snippet: s.redact(string(resp.Body[:min(len(resp.Body), 200)])), Err: err}
	}
	return res, nil
}

// wrapErr turns a transport error that carries an ftrack error body into a
// *ServerError wrapping it, and keeps the api key out of messages.
func (s *Session) wrapErr(err error) error {
	var ae *rest.APIError
	if errors.As(err, &ae) {
		ae.Message = s.redact(ae.Message)
		ae.Body = []byte(s.redact(string(ae.Body)))
		if se, ok := ae.Details.(*ServerError); ok {
			se.HTTP = ae
			se.Content = s.redact(se.Content)
			return se
		}
	}
	return err
}

func (s *Session) keepInit(infoRes, schemaRes Result) error {
	var info ServerInformation
	if err := infoRes.Decode(&info); err != nil {
		return err
	}
	var schemas []Schema
	if err := schemaRes.Decode(&schemas); err != nil {
		return err
	}
	s.mu.Lock()
	s.info, s.schemas = &info, schemas
	s.mu.Unlock()
	return nil
}

// Init asks the server for its information and schemas in one batch, as the
// reference clients do when they start, and keeps them. It also checks the
// credentials.
func (s *Session) Init(ctx context.Context) error {
	res, err := s.call(ctx, []Operation{QueryServerInformationOperation{}, QuerySchemasOperation{}})
	if err != nil {
		return err
	}
	return s.keepInit(res[0], res[1])
}

// ServerInformation returns the server's information, asking once.
func (s *Session) ServerInformation(ctx context.Context) (*ServerInformation, error) {
	info, _, err := s.initialised(ctx)
	if err != nil {
		return nil, err
	}
	c := *info
	return &c, nil
}

// Schemas returns the server's entity schemas, asking once.
func (s *Session) Schemas(ctx context.Context) ([]Schema, error) {
	_, sc, err := s.initialised(ctx)
	if err != nil {
		return nil, err
	}
	return append([]Schema(nil), sc...), nil
}

// initialised returns what Init keeps, calling Init first when nothing is
// kept yet.
func (s *Session) initialised(ctx context.Context) (*ServerInformation, []Schema, error) {
	s.mu.Lock()
	info, sc := s.info, s.schemas
	s.mu.Unlock()
	if info != nil {
		return info, sc, nil
	}
	if err := s.Init(ctx); err != nil {
		return nil, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.info, s.schemas, nil
}

// Query runs one query expression and returns its page: the entities are
// decoded into a list of T (a typed entity or map[string]any).
func Query[T any](ctx context.Context, s *Session, expression string) ([]T, *QueryMetadata, error) {
	res, err := s.Call(ctx, QueryOperation{Expression: expression})
	if err != nil {
		return nil, nil, err
	}
	var out []T
	if err := res[0].Decode(&out); err != nil {
		return nil, nil, err
	}
	md := res[0].Metadata
	if md == nil {
		md = &QueryMetadata{}
	}
	return out, md, nil
}

// CurrentUser returns the API user's User entity (asked once).
func (s *Session) CurrentUser(ctx context.Context) (*User, error) {
	users, _, err := Query[User](ctx, s, "select id, username, first_name, last_name, email from User where username is "+Quote(s.user))
	if err != nil {
		return nil, err
	}
	if len(users) == 0 {
		return nil, &NotFoundError{EntityType: "User", ID: s.user}
	}
	s.mu.Lock()
	s.userID = users[0].ID
	s.mu.Unlock()
	return &users[0], nil
}

func (s *Session) currentUserID(ctx context.Context) (string, error) {
	s.mu.Lock()
	id := s.userID
	s.mu.Unlock()
	if id != "" {
		return id, nil
	}
	u, err := s.CurrentUser(ctx)
	if err != nil {
		return "", err
	}
	return u.ID, nil
}
