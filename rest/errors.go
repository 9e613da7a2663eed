package rest

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/longrun/longrun/internal/redact"
	"github.com/longrun/longrun/jobs"
)

// Sentinels an *APIError matches with errors.Is, by status code.
var (
	ErrBadRequest   = errors.New("rest: bad request")        // 400
	ErrUnauthorized = errors.New("rest: unauthorized")       // 401
	ErrForbidden    = errors.New("rest: forbidden")          // 403
	ErrNotFound     = errors.New("rest: not found")          // 404
	ErrConflict     = errors.New("rest: conflict")           // 409
	ErrRateLimited  = errors.New("rest: rate limited")       // 429
	ErrServer       = errors.New("rest: server error")       // 5xx
	ErrTooLarge     = errors.New("rest: response too large") // over Client's limit
)

// APIError is a response with a status of 400 or more. The dialect's error
// decoder fills Type, Message and Details from the service's own error body
// (CloudSigma's error list, Freezer's title and description, ftrack's
// exception); Body keeps the raw bytes (the first 64 KiB).
type APIError struct {
	StatusCode int
	Method     string
	URL        string // with secrets in the query redacted
	RequestID  string // X-Request-Id, X-Openstack-Request-Id or the like
	Type       string // the service's error kind: CloudSigma error_type, Freezer title, ftrack exception
	Message    string // the service's own message
	Details    any    // the dialect's decoded error body
	Body       []byte
	Header     http.Header

	retryAfter time.Duration
}

// Error gives the method, redacted URL, status, the service's error type
// and message, and the request id.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %d %s", e.Method, e.URL, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Type != "" {
		b.WriteString(": " + e.Type)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.RequestID != "" {
		b.WriteString(" (request id " + e.RequestID + ")")
	}
	return b.String()
}

// Is matches the status sentinels, and the shared ones of package jobs:
// jobs.ErrNotFound on 404, jobs.ErrUnauthorized on 401 and 403.
func (e *APIError) Is(target error) bool {
	switch target {
	case jobs.ErrNotFound:
		return e.StatusCode == 404
	case jobs.ErrUnauthorized:
		return e.StatusCode == 401 || e.StatusCode == 403
	case ErrBadRequest:
		return e.StatusCode == 400
	case ErrUnauthorized:
		return e.StatusCode == 401
	case ErrForbidden:
		return e.StatusCode == 403
	case ErrNotFound:
		return e.StatusCode == 404
	case ErrConflict:
		return e.StatusCode == 409
	case ErrRateLimited:
		return e.StatusCode == 429
	case ErrServer:
		return e.StatusCode >= 500 && e.StatusCode < 600
	}
	return false
}

// Temporary reports whether the same request may succeed later: 408, 425,
// 429, and 5xx but 501.
func (e *APIError) Temporary() bool {
	switch {
	case e.StatusCode == 408, e.StatusCode == 425, e.StatusCode == 429:
		return true
	case e.StatusCode >= 500 && e.StatusCode != 501 && e.StatusCode < 600:
		return true
	}
	return false
}

// RetryAfter is the server's Retry-After, or 0.
func (e *APIError) RetryAfter() time.Duration { return e.retryAfter }

// RequestError is a request that got no HTTP answer: a refused or dropped
// connection, a timeout, a body that failed to send.
type RequestError struct {
	Method string
	URL    string // redacted
	Err    error

	permanent bool // repeating the request cannot help
}

// Error gives the method, redacted URL and cause.
func (e *RequestError) Error() string { return e.Method + " " + e.URL + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *RequestError) Unwrap() error { return e.Err }

// Temporary reports whether the same request may succeed later: true for a
// network failure, false when the context ended, for a response over the
// size limit, and for what repeating cannot cure (a redirect loop, an
// untrusted certificate, a bad scheme or header).
func (e *RequestError) Temporary() bool {
	return !e.permanent && !errors.Is(e.Err, errCtxCanceled) && !errors.Is(e.Err, errCtxDeadline)
}

// DecodeError is a 2xx response whose body did not decode.
type DecodeError struct {
	StatusCode int
	Method     string
	URL        string
	RequestID  string
	Snippet    string // the first bytes of the body, secret values redacted
	Err        error
}

// Error gives the method, redacted URL, status, decoder error and the
// redacted start of the body.
func (e *DecodeError) Error() string {
	return fmt.Sprintf("%s %s: %d: decoding response: %v (body starts %q)", e.Method, e.URL, e.StatusCode, e.Err, e.Snippet)
}

// Unwrap returns the decoder's error.
func (e *DecodeError) Unwrap() error { return e.Err }

// RedactURL renders u with secret query values and any userinfo password
// replaced by REDACTED (longrun's one redaction rule, internal/redact).
func RedactURL(u *url.URL) string { return redact.URL(u) }

// RedactString redacts URL-query secrets (auth_token=..., apiKey=...),
// secret name=value pairs and JSON members, and userinfo passwords in s.
func RedactString(s string) string { return redact.String(s) }

// maxRetryAfterSeconds bounds a Retry-After so it cannot overflow a Duration.
const maxRetryAfterSeconds = 24 * 60 * 60

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func parseRetryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if s, err := strconv.ParseInt(h, 10, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		switch {
		case s <= 0:
			return 0
		case s > maxRetryAfterSeconds:
			return maxRetryAfterSeconds * time.Second
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// redactSnippet renders the start of a body for an error message, secret
// values redacted (also when the body is cut in the middle of one).
func redactSnippet(data []byte) string { return redact.Body(data) }
