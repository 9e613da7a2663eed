// Package cloudsigma is the CloudSigma API 2.0 client: the constructor
// (HTTP Basic auth, location URLs), the /jobs/ service, the error list
// CloudSigma answers with, the wire pieces every resource shares (Ref, Time,
// Meta, list options and filters), the generic Resource that drives and
// servers build on, and the async websocket that makes waits push-first.
//
// A Client's jobs service is a jobs.Pusher: jobs.Wait on a clone listens to
// the account's async websocket and polls only as a fallback. Every error
// of a request the server refused is an *Errors (CloudSigma's error list)
// wrapping a *rest.APIError, so errors.Is(err, jobs.ErrNotFound) and
// errors.Is(err, jobs.ErrUnauthorized) hold as they should.
package cloudsigma

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/longrun/longrun/internal/redact"
	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/rest"
)

// Dialect names CloudSigma in jobs.Job.Dialect.
const Dialect jobs.Dialect = "cloudsigma"

// URL returns the API base URL of a CloudSigma location, such as "zrh" or
// "wdc": https://zrh.cloudsigma.com/api/2.0/.
func URL(location string) string {
	return "https://" + location + ".cloudsigma.com/api/2.0/"
}

// Option configures a Client. A bad value makes New fail.
type Option func(*options) error

type options struct {
	hc       *http.Client
	clock    jobs.Clock
	logger   *slog.Logger
	maxDepth int
	batch    int
	rest     []rest.Option
	noPush   bool
}

// WithHTTPClient sends every request through hc. The async websocket dials
// with hc's proxy, dialer and TLS settings when its Transport is an
// *http.Transport, and with the defaults otherwise.
func WithHTTPClient(hc *http.Client) Option {
	return func(o *options) error {
		if hc == nil {
			return errors.New("cloudsigma: WithHTTPClient: nil client")
		}
		o.hc = hc
		return nil
	}
}

// WithClock is the clock status waits (WaitStatus) and Jobs.Wait poll on;
// the fake's clock makes a test's minutes pass at once. Give a bare
// jobs.Wait the same clock with jobs.WithClock.
func WithClock(clk jobs.Clock) Option {
	return func(o *options) error {
		if clk == nil {
			return errors.New("cloudsigma: WithClock: nil clock")
		}
		o.clock = clk
		return nil
	}
}

// WithLogger logs requests and the websocket's connects and drops at debug
// level.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error { o.logger = l; return nil }
}

// WithMaxDepth bounds how many job levels a decoded job document may nest
// (jobs.DefaultMaxDepth by default). A deeper document is refused at
// decode time with an error wrapping jobs.ErrTooDeep.
func WithMaxDepth(n int) Option {
	return func(o *options) error {
		if n <= 0 {
			return fmt.Errorf("cloudsigma: WithMaxDepth(%d): want a positive depth", n)
		}
		o.maxDepth = n
		return nil
	}
}

// WithBatch sets how many uuids one Fetch list call asks for (default 50,
// which keeps the URL near 2 KB); more ids take several calls.
func WithBatch(n int) Option {
	return func(o *options) error {
		if n <= 0 {
			return fmt.Errorf("cloudsigma: WithBatch(%d): want a positive size", n)
		}
		o.batch = n
		return nil
	}
}

// WithRESTOptions passes options to the underlying rest.Client (retries,
// response size limit, extra headers), applied after the client's own.
func WithRESTOptions(opts ...rest.Option) Option {
	return func(o *options) error { o.rest = append(o.rest, opts...); return nil }
}

// WithoutPush turns the async websocket off: the jobs service is then a
// plain jobs.Source and waits poll.
func WithoutPush() Option {
	return func(o *options) error { o.noPush = true; return nil }
}

// Client is a CloudSigma API 2.0 client for one account at one location.
// It is safe for concurrent use. Close ends its websocket.
type Client struct {
	// Jobs is the /jobs/ service.
	Jobs *JobsService

	rest *rest.Client
	opt  options
	hub  *hub
}

// New returns a client for the CloudSigma API at baseURL (see URL),
// authenticating with HTTP Basic (the account's email and password). A
// baseURL with no path (http://127.0.0.1:8088) gets /api/2.0/ appended. It
// never touches the network, and no error it returns holds the password,
// whatever baseURL holds.
func New(baseURL, email, password string, opts ...Option) (*Client, error) {
	o := options{clock: jobs.WallClock, maxDepth: jobs.DefaultMaxDepth, batch: 50}
	for _, fn := range opts {
		if err := fn(&o); err != nil {
			return nil, err
		}
	}
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, safeErr(fmt.Sprintf("cloudsigma: base URL %s does not parse", quoteURL(redact.RawURL(baseURL), password)), password)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, safeErr(fmt.Sprintf("cloudsigma: base URL %s: scheme must be http or https", quoteURL(redact.URL(u), password)), password)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/api/2.0/"
	}
	all := []rest.Option{
		rest.WithBasicAuth(email, password),
		rest.WithErrorDecoder(DecodeAPIError),
		rest.WithUserAgent("longrun-go (cloudsigma)"),
	}
	if o.hc != nil {
		all = append(all, rest.WithHTTPClient(o.hc))
	}
	if o.logger != nil {
		all = append(all, rest.WithLogger(o.logger))
	}
	rc, err := rest.New(u.String(), append(all, o.rest...)...)
	if err != nil {
		return nil, safeErr(redact.Secret(err.Error(), password), password)
	}
	c := &Client{rest: rc, opt: o}
	c.Jobs = &JobsService{c: c}
	if !o.noPush {
		c.hub = newHub(c)
	}
	return c, nil
}

// badURL is the message of a base URL error that cannot be shown safely.
const badURL = "cloudsigma: bad base URL (not shown: it holds the password)"

// safeErr returns msg as an error, or badURL when msg still holds the
// password (one too short for redact.Secret to mask).
func safeErr(msg, password string) error {
	if password != "" && strings.Contains(msg, password) {
		return errors.New(badURL)
	}
	return errors.New(msg)
}

// quoteURL quotes a redacted URL for an error message, or leaves it out
// when it still holds the password (one too short for redact.Secret to
// mask, found elsewhere in the URL).
func quoteURL(redacted, password string) string {
	redacted = redact.Secret(redacted, password)
	q := fmt.Sprintf("%q", redacted)
	if password != "" && (strings.Contains(redacted, password) || strings.Contains(q, password)) {
		return "(not shown: it holds the password)"
	}
	return q
}

// REST is the underlying REST client.
func (c *Client) REST() *rest.Client { return c.rest }

// Clock is the client's clock (WithClock).
func (c *Client) Clock() jobs.Clock { return c.opt.clock }

// Close closes the async websocket, if one is open, and ends the pushes of
// every wait on it (they go on polling). The client stays usable.
func (c *Client) Close() error {
	if c.hub != nil {
		c.hub.close()
	}
	return nil
}

// Do sends one request to path (relative to the base URL) and decodes the
// JSON answer into out. A refusal is an *Errors wrapping the *rest.APIError.
func (c *Client) Do(ctx context.Context, method, path string, q url.Values, body, out any) (*rest.Response, error) {
	var qa any
	if q != nil {
		qa = q
	}
	resp, err := c.rest.Do(ctx, method, path, qa, body, out)
	return resp, wrapErr(err)
}

// get sends a GET and returns the raw answer, for decoders of their own.
func (c *Client) get(ctx context.Context, path string, q url.Values) (*rest.Response, error) {
	return c.Do(ctx, http.MethodGet, path, q, nil, nil)
}

// decodeErr wraps a body that did not decode into a *rest.DecodeError.
func decodeErr(resp *rest.Response, err error) error {
	de := &rest.DecodeError{StatusCode: resp.StatusCode, RequestID: resp.RequestID, Err: err,
		Snippet: redact.Body(resp.Body[:min(len(resp.Body), 200)])}
	if resp.Request != nil {
		de.Method = resp.Request.Method
		de.URL = redact.URL(resp.Request.URL)
	}
	return de
}

// path joins a resource and a uuid: drives/<uuid>/.
func path(resource, uuid string) (string, error) {
	if uuid == "" {
		return "", fmt.Errorf("cloudsigma: empty %s uuid", strings.TrimSuffix(resource, "s"))
	}
	return resource + "/" + url.PathEscape(uuid) + "/", nil
}
