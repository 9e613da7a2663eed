// Package rest is the HTTP transport the REST dialects share (CloudSigma,
// Freezer, ftrack): base URL joining, auth, JSON bodies, query strings from
// structs (go-querystring), retries with jittered backoff that honour
// Retry-After (go-retryablehttp), typed errors, and paging as iterators.
//
// Secrets never reach an error or a log line: auth headers are not logged,
// and query parameters such as auth_token are redacted from every URL
// longrun reports.
package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/google/go-querystring/query"
	"github.com/hashicorp/go-retryablehttp"

	"github.com/longrun/longrun/internal/redact"
)

var (
	errCtxCanceled = context.Canceled
	errCtxDeadline = context.DeadlineExceeded
)

// DefaultMaxResponseBytes bounds how much of a response body Do reads.
const DefaultMaxResponseBytes = 64 << 20

// Client is a REST client for one service. It is safe for concurrent use.
// Build it with New; the constructor never touches the network.
type Client struct {
	base  *url.URL
	retry *retryablehttp.Client
	options
}

// options are what the Options set.
type options struct {
	hc         *http.Client
	userAgent  string
	logger     *slog.Logger
	auth       func(*http.Request) error
	headers    http.Header
	decodeErr  ErrorDecoder
	maxBody    int64
	retryMax   int
	retryMin   time.Duration
	retryLimit time.Duration
}

// ErrorDecoder fills e's Type, Message and Details from a dialect's error
// body. It must not fail: a body it cannot read leaves e as it is.
type ErrorDecoder func(e *APIError, body []byte)

// Option configures a Client; a bad value is an error from New.
type Option func(*options) error

// WithBasicAuth sends HTTP Basic credentials (CloudSigma).
func WithBasicAuth(user, password string) Option {
	return func(c *options) error {
		c.auth = func(r *http.Request) error { r.SetBasicAuth(user, password); return nil }
		return nil
	}
}

// WithAuth sets a function that authenticates each request (a token
// header, a signature). It runs before every attempt.
func WithAuth(fn func(*http.Request) error) Option {
	return func(c *options) error { c.auth = fn; return nil }
}

// WithHeader adds a header to every request.
func WithHeader(name, value string) Option {
	return func(c *options) error { c.headers.Add(name, value); return nil }
}

// WithHTTPClient uses hc for every request (its Transport, Timeout, Jar).
func WithHTTPClient(hc *http.Client) Option {
	return func(c *options) error {
		if hc == nil {
			return errors.New("rest: nil *http.Client")
		}
		c.hc = hc
		return nil
	}
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option { return func(c *options) error { c.userAgent = ua; return nil } }

// WithLogger logs each attempt at debug level (URLs redacted, no headers).
func WithLogger(l *slog.Logger) Option { return func(c *options) error { c.logger = l; return nil } }

// WithRetry sets how many times a failed request is retried (0 disables
// retries) and the bounds of the jittered exponential wait between tries.
// Defaults: 4 retries, 250ms to 15s. A Retry-After header overrides the
// computed wait, up to one minute.
func WithRetry(max int, minWait, maxWait time.Duration) Option {
	return func(c *options) error {
		if max < 0 || minWait < 0 || maxWait < minWait {
			return fmt.Errorf("rest: bad retry settings %d, %v, %v", max, minWait, maxWait)
		}
		c.retryMax, c.retryMin, c.retryLimit = max, minWait, maxWait
		return nil
	}
}

// WithErrorDecoder sets the dialect's error body decoder.
func WithErrorDecoder(d ErrorDecoder) Option {
	return func(c *options) error { c.decodeErr = d; return nil }
}

// WithMaxResponseBytes bounds how much of a response Do reads (default
// DefaultMaxResponseBytes); a longer body is an error wrapping ErrTooLarge.
func WithMaxResponseBytes(n int64) Option {
	return func(c *options) error {
		if n <= 0 {
			return fmt.Errorf("rest: max response bytes %d: must be positive", n)
		}
		c.maxBody = n
		return nil
	}
}

// New returns a client for the service at baseURL. Request paths are
// joined to it: with base https://zrh.cloudsigma.com/api/2.0/ the path
// "jobs/" names https://zrh.cloudsigma.com/api/2.0/jobs/.
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		// net/url quotes a piece of the URL (a port, an escape, a host),
		// which may be a piece of a password: "http://u:pa/ss@h" reads
		// "u:pa" as host and port. Keep its words, not its quotes.
		return nil, fmt.Errorf("rest: base URL: %s", quoted.ReplaceAllString(parseCause(err).Error(), `"`+redact.Mask+`"`))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		// Only the scheme: "user:password@host" parses as scheme "user"
		// with the password in Opaque, "#user:password@host" with it in
		// the fragment, neither of which a URL redaction hides.
		return nil, fmt.Errorf("rest: base URL: scheme %q must be http or https", u.Scheme)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	c := &Client{base: u, options: options{
		hc: &http.Client{}, headers: http.Header{}, maxBody: DefaultMaxResponseBytes,
		userAgent: "longrun-go", retryMax: 4, retryMin: 250 * time.Millisecond, retryLimit: 15 * time.Second,
	}}
	for _, o := range opts {
		if err := o(&c.options); err != nil {
			return nil, err
		}
	}
	rc := retryablehttp.NewClient()
	rc.HTTPClient = c.hc
	rc.Logger = nil
	rc.RetryMax = c.retryMax
	rc.RetryWaitMin = c.retryMin
	rc.RetryWaitMax = c.retryLimit
	rc.CheckRetry = checkRetry
	rc.Backoff = c.backoff
	rc.ErrorHandler = retryablehttp.PassthroughErrorHandler
	rc.RequestLogHook = func(_ retryablehttp.Logger, r *http.Request, attempt int) {
		if c.logger != nil {
			c.logger.DebugContext(r.Context(), "longrun: request", "method", r.Method, "url", RedactURL(r.URL), "attempt", attempt+1)
		}
	}
	c.retry = rc
	return c, nil
}

// BaseURL returns a copy of the base URL.
func (c *Client) BaseURL() *url.URL { u := *c.base; return &u }

// HTTPClient is the underlying *http.Client (for streams that must not be
// retried or buffered).
func (c *Client) HTTPClient() *http.Client { return c.hc }

// URL joins path and an optional query (a struct with `url` tags for
// go-querystring, url.Values, or nil) to the base URL.
func (c *Client) URL(path string, q any) (*url.URL, error) {
	rel, err := url.Parse(strings.TrimPrefix(path, "/"))
	if err != nil {
		return nil, fmt.Errorf("rest: path %q: %w", RedactString(path), parseCause(err))
	}
	u := c.base.ResolveReference(rel)
	if q != nil {
		var vals url.Values
		switch v := q.(type) {
		case url.Values:
			vals = v
		default:
			vals, err = query.Values(q)
			if err != nil {
				return nil, fmt.Errorf("rest: query: %w", err)
			}
		}
		if len(vals) > 0 {
			extra := vals.Encode()
			if u.RawQuery != "" {
				u.RawQuery += "&" + extra
			} else {
				u.RawQuery = extra
			}
		}
	}
	return u, nil
}

// Response is what Do got back, with the body already read and closed.
type Response struct {
	*http.Response
	RequestID string
	Body      []byte // the raw body (also decoded into out when given)
}

// ctxKey marks a request's method for the retry policy.
type ctxKey struct{}

// Do sends a request and decodes a JSON answer into out (when out is not
// nil and the body is not empty). body is JSON-encoded, except a []byte,
// string, *bytes.Reader, *strings.Reader or *bytes.Buffer, which are sent
// as they are; any other io.Reader is streamed once and never retried (use
// Stream for that). Retries follow the client's policy: idempotent methods
// on transport errors, 408, 425, 429 and 5xx but 501; POST and PATCH only
// on 429 and 503, which say the server did not act. A Retry-After that
// would outlast ctx's deadline ends the retries at once with that
// *APIError, whose RetryAfter the caller can act on.
func (c *Client) Do(ctx context.Context, method, path string, q, body, out any) (*Response, error) {
	u, err := c.URL(path, q)
	if err != nil {
		return nil, err
	}
	var raw any
	contentType := ""
	switch b := body.(type) {
	case nil:
	case []byte:
		raw = b
	case string:
		raw = []byte(b)
	case *bytes.Reader, *strings.Reader, *bytes.Buffer:
		data, err := io.ReadAll(b.(io.Reader))
		if err != nil {
			return nil, err
		}
		raw = data
	case io.Reader:
		resp, err := c.Stream(ctx, method, u, "application/octet-stream", b)
		if err != nil {
			return nil, err
		}
		return c.finish(resp, u, method, out)
	default:
		data, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("rest: encoding %s body: %w", method, err)
		}
		raw, contentType = data, "application/json"
	}
	ctx = context.WithValue(ctx, ctxKey{}, method)
	req, err := retryablehttp.NewRequestWithContext(ctx, method, u.String(), raw)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if err := c.prepare(req.Request); err != nil {
		return nil, err
	}
	resp, err := c.retry.Do(req)
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		return nil, newRequestError(method, u, err)
	}
	return c.finish(resp, u, method, out)
}

// Stream sends body once, without buffering it and without retries, and
// returns the raw response with its body open: the caller reads and closes
// it. A status of 400 or more is returned as an *APIError (body closed).
func (c *Client) Stream(ctx context.Context, method string, u *url.URL, contentType string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, err
	}
	if contentType != "" && body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	if err := c.prepare(req); err != nil {
		return nil, err
	}
	if c.logger != nil {
		c.logger.DebugContext(ctx, "longrun: stream", "method", method, "url", RedactURL(u))
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, newRequestError(method, u, err)
	}
	if resp.StatusCode >= 400 {
		_, err := c.finish(resp, u, method, nil)
		return nil, err
	}
	return resp, nil
}

func (c *Client) prepare(r *http.Request) error {
	for k, vs := range c.headers {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	if r.Header.Get("Accept") == "" {
		r.Header.Set("Accept", "application/json")
	}
	if c.userAgent != "" {
		r.Header.Set("User-Agent", c.userAgent)
	}
	if c.auth != nil {
		if err := c.auth(r); err != nil {
			return fmt.Errorf("rest: auth: %w", err)
		}
	}
	return nil
}

// finish reads and closes the body, and turns it into out or an error.
func (c *Client) finish(resp *http.Response, u *url.URL, method string, out any) (*Response, error) {
	defer resp.Body.Close()
	r := &Response{Response: resp, RequestID: requestID(resp.Header)}
	limit := c.maxBody
	if limit <= 0 {
		limit = DefaultMaxResponseBytes
	}
	// A body whose length is declared is read into one buffer of that
	// size (io.ReadAll would grow one step by step: about five times the
	// body in garbage for a megabyte list page).
	var body bytes.Buffer
	if n := resp.ContentLength; n > 0 && n <= limit {
		body.Grow(int(n) + bytes.MinRead)
	}
	_, err := body.ReadFrom(io.LimitReader(resp.Body, limit+1))
	data := body.Bytes()
	if data == nil {
		data = []byte{} // as io.ReadAll answers an empty body
	}
	if err != nil {
		return r, &RequestError{Method: method, URL: RedactURL(u), Err: fmt.Errorf("reading response: %w", err)}
	}
	if int64(len(data)) > limit {
		return r, &RequestError{Method: method, URL: RedactURL(u), Err: fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit), permanent: true}
	}
	r.Body = data
	if resp.StatusCode >= 400 {
		e := &APIError{
			StatusCode: resp.StatusCode, Method: method, URL: RedactURL(u), RequestID: r.RequestID,
			Header: resp.Header.Clone(), retryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
		}
		e.Body = data[:min(len(data), 64<<10)]
		if c.decodeErr != nil {
			c.decodeErr(e, data)
		}
		e.Message = RedactString(e.Message)
		return r, e
	}
	if out != nil && len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return r, &DecodeError{StatusCode: resp.StatusCode, Method: method, URL: RedactURL(u),
				RequestID: r.RequestID, Snippet: redactSnippet(data[:min(len(data), 200)]), Err: err}
		}
	}
	return r, nil
}

func requestID(h http.Header) string {
	for _, k := range []string{"X-Request-Id", "X-Openstack-Request-Id", "X-Compute-Request-Id", "Request-Id", "X-Amzn-Requestid"} {
		if v := h.Get(k); v != "" {
			return v
		}
	}
	return ""
}

// parseCause drops the *url.Error url.Parse wraps its error in: it quotes
// the whole URL, password and query secrets included.
// quoted matches a Go-quoted string inside an error message.
var quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

func parseCause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// newRequestError reports a request that got no answer. The *url.Error
// net/http wraps it in is dropped: it names the unredacted URL.
func newRequestError(method string, u *url.URL, err error) *RequestError {
	e := &RequestError{Method: method, URL: RedactURL(u), Err: err, permanent: isPermanent(err)}
	var ue *url.Error
	if errors.As(err, &ue) {
		e.Err = ue.Err
	}
	return e
}

// isPermanent reports a transport error that repeating the request cannot
// cure: a redirect loop, a bad scheme or header, an untrusted certificate
// (go-retryablehttp's own classification).
func isPermanent(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ue *url.Error
	if !errors.As(err, &ue) {
		return false
	}
	retry, _ := retryablehttp.DefaultRetryPolicy(context.Background(), nil, ue)
	return !retry
}

// checkRetry is the retry policy (see Do).
func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	method, _ := ctx.Value(ctxKey{}).(string)
	idempotent := method != http.MethodPost && method != http.MethodPatch
	if err != nil {
		if isPermanent(err) {
			return false, nil
		}
		// A request that may have reached the server is repeated only
		// when repeating it is harmless.
		return idempotent || isDialError(err), nil
	}
	if ra := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ra > 0 {
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < min(ra, time.Minute) {
			// The server asks for a pause past the caller's deadline:
			// hand its answer back now rather than sleep into a timeout.
			return false, nil
		}
	}
	switch code := resp.StatusCode; {
	case code == 429 || code == 503:
		return true, nil
	case !idempotent:
		return false, nil
	case code == 408 || code == 425:
		return true, nil
	case code >= 500 && code != 501 && code < 600:
		return true, nil
	}
	return false, nil
}

func isDialError(err error) bool {
	s := err.Error()
	return strings.Contains(s, "dial tcp") || strings.Contains(s, "connection refused")
}

// backoff is exponential with full jitter, or the server's Retry-After
// (capped at one minute).
func (c *Client) backoff(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil {
		if ra := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ra > 0 {
			return min(ra, time.Minute)
		}
	}
	d := minWait << min(attempt, 30)
	if d <= 0 || d > maxWait {
		d = maxWait
	}
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}
