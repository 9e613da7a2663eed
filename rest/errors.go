package rest

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
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

// Is matches the status sentinels.
func (e *APIError) Is(target error) bool {
	switch target {
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

// secretParams are query parameters whose values never reach an error or a
// log line.
var secretParams = map[string]bool{
	"auth_token": true, "token": true, "apikey": true, "api_key": true, "password": true,
	"secret": true, "signature": true, "x-amz-signature": true, "key": true, "sig": true,
	"x-auth-token": true, "access_token": true,
}

// RedactURL renders u with secret query values and any userinfo password
// replaced by REDACTED.
func RedactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	if c.User != nil {
		if _, has := c.User.Password(); has {
			c.User = url.UserPassword(c.User.Username(), "REDACTED")
		}
	}
	if c.RawQuery != "" {
		q, err := url.ParseQuery(c.RawQuery)
		if err != nil {
			c.RawQuery = "REDACTED"
		} else {
			changed := false
			for k := range q {
				if secretParams[strings.ToLower(k)] {
					q[k] = []string{"REDACTED"}
					changed = true
				}
			}
			if changed {
				c.RawQuery = q.Encode()
			}
		}
	}
	return c.String()
}

// RedactString redacts URL-query secrets (auth_token=..., apiKey=...) in s,
// for messages that echo a URL.
func RedactString(s string) string {
	lower := asciiLower(s) // byte for byte, so indexes into s stay valid
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '?' && s[i] != '&' {
			continue
		}
		eq := strings.IndexByte(lower[i+1:], '=')
		if eq < 0 {
			break
		}
		name := lower[i+1 : i+1+eq]
		if !secretParams[name] {
			continue
		}
		start := i + 1 + eq + 1
		end := start
		for end < len(s) && !strings.ContainsRune("& \"'<>\n", rune(s[end])) {
			end++
		}
		b.WriteString(s[last:start])
		b.WriteString("REDACTED")
		last = end
		i = end - 1
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

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

// asciiLower lowers ASCII letters only, keeping every byte where it was
// (strings.ToLower rewrites invalid UTF-8 and shifts offsets).
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// secretKeyParts mark a JSON member whose value is a secret
// ("vnc_password", "auth_token", "api_key", "client_secret").
var secretKeyParts = []string{"password", "passwd", "secret", "token", "apikey", "api_key", "api-key"}

// redactSnippet renders the start of a body for an error message: the
// values of JSON members with a secret-looking name are replaced by
// REDACTED (also when the body is cut in the middle of one), and so are
// URL-query secrets.
func redactSnippet(data []byte) string {
	s := string(data)
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); {
		if s[i] != '"' {
			i++
			continue
		}
		end, closed := jsonStringEnd(s, i)
		if !closed {
			break
		}
		key := asciiLower(s[i+1 : end-1])
		j := skipSpace(s, end)
		if j >= len(s) || s[j] != ':' || !secretKey(key) {
			i = end
			continue
		}
		j = skipSpace(s, j+1)
		var start, stop, next int
		if j < len(s) && s[j] == '"' {
			vend, vclosed := jsonStringEnd(s, j)
			start, stop, next = j+1, vend, vend
			if vclosed {
				stop = vend - 1 // keep the closing quote
			}
		} else {
			start, stop = j, j
			for stop < len(s) && strings.IndexByte(",}] \t\r\n", s[stop]) < 0 {
				stop++
			}
			next = stop
		}
		b.WriteString(s[last:start])
		b.WriteString("REDACTED")
		last, i = stop, next
	}
	if last == 0 {
		return RedactString(s)
	}
	b.WriteString(s[last:])
	return RedactString(b.String())
}

// jsonStringEnd returns the index just past the JSON string that opens at
// s[i] (a quote) and true, or len(s) and false when it is not closed.
func jsonStringEnd(s string, i int) (int, bool) {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			return j + 1, true
		}
	}
	return len(s), false
}

func skipSpace(s string, i int) int {
	for i < len(s) && strings.IndexByte(" \t\r\n", s[i]) >= 0 {
		i++
	}
	return i
}

func secretKey(key string) bool {
	if secretParams[key] {
		return true
	}
	for _, p := range secretKeyParts {
		if strings.Contains(key, p) {
			return true
		}
	}
	return false
}
