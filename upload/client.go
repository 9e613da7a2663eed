// Package upload moves files in and out of TrueNAS middleware jobs: the
// multipart upload streamer for POST /_upload (config.upload,
// filesystem.put, ...) and the download streamer for core.download and
// GET /_download (config.save, filesystem.get, core.job_download_logs).
//
// Both directions stream in constant memory: an upload body is produced by
// a multipart.Writer into an io.Pipe while the HTTP transport sends it, a
// download is copied from the response body to the caller's writer with
// one fixed buffer. Neither is ever retried, since a stream cannot be
// replayed and a retried call would start a second job.
//
// The middleware's job behind a transfer is followed over the JSON-RPC
// connection (package rpc, or anything that satisfies Conn) with
// jobs.Wait, like any other job, and its final state is part of the
// result: a download whose job failed half-way is an error, never a short
// file taken for a whole one.
//
// The download token (auth_token in the URL core.download returns) is a
// single-use credential: it never appears in an error or a log line.
package upload

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/longrun/longrun/internal/redact"
	"github.com/longrun/longrun/jobs"
)

// Caller makes one JSON-RPC call: params are the positional arguments and
// the result is decoded into result (a pointer, or nil to discard it).
type Caller interface {
	Call(ctx context.Context, method string, params []any, result any) error
}

// Conn is the middleware connection a Client needs: calls (core.download,
// auth.generate_token, core.get_jobs, core.job_abort) and job snapshots
// for jobs.Wait. An *rpc.Conn satisfies it (on either protocol).
type Conn interface {
	Caller
	jobs.Source
}

// MaxFiles is the real middleware's limit on file parts in one upload
// (MAX_UPLOADED_FILES in apps/file_app.py).
const MaxFiles = 5

// DownloadStartDeadline is how long the middleware keeps an unbuffered
// download job waiting for its GET before it closes the job's pipes.
const DownloadStartDeadline = 60 * time.Second

// BufferedKeep is how long the middleware keeps a buffered download.
const BufferedKeep = 3600 * time.Second

// TokenTTL is the lifetime of the token core.download issues.
const TokenTTL = 300 * time.Second

// copyBufferSize is the one buffer a transfer allocates.
const copyBufferSize = 256 << 10

// Client moves files to and from one TrueNAS box. It is safe for
// concurrent use. Build it with New; the constructor never touches the
// network.
type Client struct {
	base *url.URL
	conn Conn
	options
}

// options are what the Options set.
type options struct {
	auth     func(ctx context.Context, r *http.Request) error
	logger   *slog.Logger
	progress ProgressFunc
	waitOpts []jobs.Option
	clock    jobs.Clock
	maxFiles int
	tokenFn  func(ctx context.Context) (string, error)

	hc        *http.Client
	userAgent string
}

// Option configures a Client.
type Option func(*options) error

// WithAPIKey authenticates uploads with "Authorization: Bearer <key>", as
// the middleware accepts API keys.
func WithAPIKey(key string) Option {
	return func(o *options) error {
		if key == "" {
			return errors.New("upload: empty API key")
		}
		o.auth = func(_ context.Context, r *http.Request) error {
			r.Header.Set("Authorization", "Bearer "+key)
			return nil
		}
		return nil
	}
}

// WithBasicAuth authenticates uploads with a user name and password. The
// middleware refuses it (401) on a box with two-factor authentication on.
func WithBasicAuth(user, password string) Option {
	return func(o *options) error {
		cred := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
		o.auth = func(_ context.Context, r *http.Request) error {
			r.Header.Set("Authorization", "Basic "+cred)
			return nil
		}
		return nil
	}
}

// WithTokenSource authenticates each upload with "Authorization: Token
// <t>", calling fn for a fresh token per upload.
func WithTokenSource(fn func(ctx context.Context) (string, error)) Option {
	return func(o *options) error {
		o.tokenFn = fn
		o.auth = nil
		return nil
	}
}

// WithHTTPClient sets the HTTP client (for TLS settings, proxies). Its
// Timeout must be zero, or it would cut long transfers: use the context.
func WithHTTPClient(hc *http.Client) Option {
	return func(o *options) error {
		if hc == nil {
			return errors.New("upload: nil HTTP client")
		}
		o.hc = hc
		return nil
	}
}

// WithUserAgent sets the User-Agent of the HTTP requests.
func WithUserAgent(ua string) Option { return func(o *options) error { o.userAgent = ua; return nil } }

// WithLogger logs each transfer's start and end at debug level. Tokens,
// passwords and API keys are never logged.
func WithLogger(l *slog.Logger) Option { return func(o *options) error { o.logger = l; return nil } }

// WithProgress reports the bytes of every transfer to fn.
func WithProgress(fn ProgressFunc) Option {
	return func(o *options) error { o.progress = fn; return nil }
}

// WithWaitOptions passes options to the jobs.Wait that follows each
// transfer's job (jobs.WithOnProgress, jobs.WithClock, ...).
func WithWaitOptions(opts ...jobs.Option) Option {
	return func(o *options) error { o.waitOpts = append(o.waitOpts, opts...); return nil }
}

// WithClock sets the clock used to age download tokens (a fake's clock in
// tests). It is also passed to jobs.Wait.
func WithClock(clk jobs.Clock) Option {
	return func(o *options) error {
		if clk == nil {
			return errors.New("upload: nil clock")
		}
		o.clock = clk
		o.waitOpts = append(o.waitOpts, jobs.WithClock(clk))
		return nil
	}
}

// WithMaxFiles sets how many files Upload sends at most (default MaxFiles,
// the middleware's limit). A negative n turns the client-side check off,
// leaving the refusal to the server.
func WithMaxFiles(n int) Option { return func(o *options) error { o.maxFiles = n; return nil } }

// New returns a client for the box at baseURL: http(s)://host[:port], or
// the websocket URL of its API (ws(s)://host/api/current), from which the
// HTTP base is derived. conn is the JSON-RPC connection used for
// core.download and to follow jobs; it must be logged in as the same user.
//
// Without WithAPIKey, WithBasicAuth or WithTokenSource, each upload is
// authenticated with a fresh single-use token from auth.generate_token
// over conn.
func New(baseURL string, conn Conn, opts ...Option) (*Client, error) {
	if conn == nil {
		return nil, errors.New("upload: nil connection")
	}
	// Errors name no part of the URL but its scheme: a URL that does not
	// parse, or an opaque one, can hold a secret anywhere.
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, errors.New("upload: base URL does not parse (control character, bad escape or bad host)")
	}
	switch u.Scheme {
	case "ws":
		u.Scheme = "http"
	case "wss":
		u.Scheme = "https"
	case "http", "https":
	default:
		return nil, fmt.Errorf("upload: base URL scheme must be http, https, ws or wss, not %q", redact.String(u.Scheme))
	}
	if u.Host == "" || u.Opaque != "" {
		return nil, errors.New("upload: base URL has no host")
	}
	// The websocket API lives under /api/... or at /websocket; the file
	// endpoints at the root.
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/websocket")
	if i := strings.Index(u.Path, "/api/"); i >= 0 || strings.HasSuffix(u.Path, "/api") {
		if i < 0 {
			i = len(u.Path) - len("/api")
		}
		u.Path = u.Path[:i]
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawQuery, u.Fragment, u.User = "", "", nil
	c := &Client{base: u, conn: conn, options: options{clock: jobs.WallClock, maxFiles: MaxFiles}}
	for _, o := range opts {
		if err := o(&c.options); err != nil {
			return nil, err
		}
	}
	if c.auth == nil {
		if c.tokenFn == nil {
			c.tokenFn = c.generateToken
		}
		fn := c.tokenFn
		c.auth = func(ctx context.Context, r *http.Request) error {
			tok, err := fn(ctx)
			if err != nil {
				return err
			}
			r.Header.Set("Authorization", "Token "+tok)
			return nil
		}
	}
	if c.hc == nil {
		c.hc = &http.Client{}
	}
	if c.userAgent == "" {
		c.userAgent = "longrun-go"
	}
	return c, nil
}

// generateToken asks the middleware for a single-use token to authenticate
// one upload: auth.generate_token(ttl, attrs {}, match_origin, single_use).
func (c *Client) generateToken(ctx context.Context) (string, error) {
	// (ttl, attrs, match_origin, single_use) since 25.04; 24.10 takes the
	// first three and CORE 13 the first two, and both answer "Too many
	// arguments" to more: the token is then not single-use, only short.
	args := []any{int(TokenTTL / time.Second), map[string]any{}, true, true}
	var tok string
	for {
		err := c.conn.Call(ctx, "auth.generate_token", args, &tok)
		if err != nil && strings.Contains(err.Error(), "Too many arguments") && len(args) > 2 {
			args = args[:len(args)-1]
			continue
		}
		if err != nil {
			return "", fmt.Errorf("upload: auth.generate_token: %w", err)
		}
		break
	}
	if tok == "" {
		return "", fmt.Errorf("%w: auth.generate_token returned an empty token", ErrProtocol)
	}
	return tok, nil
}

// BaseURL is the HTTP base the file endpoints hang off.
func (c *Client) BaseURL() *url.URL { u := *c.base; return &u }

// wait follows a transfer's job to its end.
func (c *Client) wait(ctx context.Context, id string) (*jobs.Job, error) {
	return jobs.Wait(ctx, c.conn, id, c.waitOpts...)
}

// idStr is a wire job id as the jobs boundary spells it ("" for none).
func idStr(id int64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}

func (c *Client) debug(ctx context.Context, msg string, args ...any) {
	if c.logger != nil {
		c.logger.DebugContext(ctx, msg, args...)
	}
}
