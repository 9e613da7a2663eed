package ftrack

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/longrun/longrun/internal/redact"
	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/rest"
)

// Sentinels a *ServerError matches with errors.Is, by its exception. A
// wrong user or api key (InvalidCredentialsError, FTAuthenticationError)
// and a PermissionError match jobs.ErrUnauthorized; NoResultFoundError (an
// update or delete of a key the server does not know) and a Get of
// nothing match jobs.ErrNotFound.
var (
	// ErrPermissionDenied matches PermissionError (which also matches
	// jobs.ErrUnauthorized).
	ErrPermissionDenied = errors.New("ftrack: permission denied")
	// ErrValidation matches ValidationError: a create or update the
	// server refused (an unknown status, a missing required attribute).
	ErrValidation = errors.New("ftrack: validation error")
	// ErrMalformedResponse is a reply that is not a list of results of the
	// batch's length, nor an error object.
	ErrMalformedResponse = errors.New("ftrack: malformed response")
)

// ServerError is an error the ftrack server reported with its own body:
// {"exception": "ValidationError", "content": "...", "error_code": ...}.
// Without the ftrack-strict-api header the server sends it with status 200;
// with it, with an HTTP error status, and then HTTP holds that response
// (errors.Is(err, rest.ErrUnauthorized) and the like work through Unwrap).
type ServerError struct {
	// Exception is the server's exception name, such as
	// InvalidCredentialsError, ValidationError, PermissionError.
	Exception string `json:"exception"`
	// Content is the server's message (secrets redacted).
	Content string `json:"content"`
	// ErrorCode is the server's error_code, often null.
	ErrorCode json.RawMessage `json:"error_code,omitempty"`
	// StatusCode is the HTTP status of the reply (200 outside strict mode).
	StatusCode int `json:"-"`
	// HTTP is the transport's error when the status was 400 or more.
	HTTP *rest.APIError `json:"-"`
}

// Error reads "ftrack: server reported <exception>: <content>", with the
// error code and HTTP status when there are.
func (e *ServerError) Error() string {
	msg := "ftrack: server reported " + e.Exception
	if e.Content != "" {
		msg += ": " + e.Content
	}
	if code := e.Code(); code != "" {
		msg += " (error_code " + code + ")"
	}
	if e.StatusCode >= 400 {
		msg += " (HTTP " + strconv.Itoa(e.StatusCode) + ")"
	}
	return msg
}

// Code returns error_code as text, empty when null or absent.
func (e *ServerError) Code() string {
	c := bytes.TrimSpace(e.ErrorCode)
	if len(c) == 0 || bytes.Equal(c, []byte("null")) {
		return ""
	}
	var s string
	if json.Unmarshal(c, &s) == nil {
		return s
	}
	return string(c)
}

// Is matches the sentinels by exception name.
func (e *ServerError) Is(target error) bool {
	switch target {
	case jobs.ErrUnauthorized:
		return e.Exception == "InvalidCredentialsError" || e.Exception == "FTAuthenticationError" || e.Exception == "PermissionError"
	case ErrPermissionDenied:
		return e.Exception == "PermissionError"
	case ErrValidation:
		return e.Exception == "ValidationError"
	case jobs.ErrNotFound:
		return e.Exception == "NoResultFoundError"
	}
	return false
}

// Unwrap returns the HTTP error, if there was one.
func (e *ServerError) Unwrap() error {
	if e.HTTP == nil {
		return nil
	}
	return e.HTTP
}

// Temporary reports whether the same request may succeed later (an HTTP
// 429 or 5xx in strict mode).
func (e *ServerError) Temporary() bool { return e.HTTP != nil && e.HTTP.Temporary() }

// decodeServerError reads an error object, or returns nil when body is not
// one (no string "exception").
func decodeServerError(body []byte) *ServerError {
	var w struct {
		Exception json.RawMessage `json:"exception"`
		Content   json.RawMessage `json:"content"`
		ErrorCode json.RawMessage `json:"error_code"`
	}
	if json.Unmarshal(body, &w) != nil || len(w.Exception) == 0 || w.Exception[0] != '"' {
		return nil
	}
	e := &ServerError{ErrorCode: w.ErrorCode, StatusCode: 200}
	_ = json.Unmarshal(w.Exception, &e.Exception)
	if len(w.Content) > 0 {
		if json.Unmarshal(w.Content, &e.Content) != nil {
			e.Content = string(w.Content) // content that is not a string is kept as JSON
		}
	}
	e.Content = redact.String(e.Content)
	return e
}

// errorDecoder fills a rest.APIError from an ftrack error body.
func errorDecoder(e *rest.APIError, body []byte) {
	se := decodeServerError(body)
	if se == nil {
		return
	}
	se.StatusCode = e.StatusCode
	e.Type, e.Message, e.Details = se.Exception, se.Content, se
}

// NotFoundError is returned when the server knows no entity of the type
// with the id.
type NotFoundError struct {
	// EntityType is the type asked for, such as Job.
	EntityType string
	// ID is the id (for a User, the username) asked for.
	ID string
}

// Error reads "ftrack: no <type> with id <id>".
func (e *NotFoundError) Error() string { return "ftrack: no " + e.EntityType + " with id " + e.ID }

// Is matches jobs.ErrNotFound.
func (e *NotFoundError) Is(target error) bool { return target == jobs.ErrNotFound }

// UploadError is a PUT of a component's bytes that failed.
type UploadError struct {
	// ComponentID is the component whose bytes were sent.
	ComponentID string
	StatusCode  int    // 0 when no response came
	URL         string // redacted
	Body        string // the first bytes of the storage's answer
	// Err is the transport's error, or why the upload was short.
	Err error
}

// Error names the component, the redacted URL and what went wrong.
func (e *UploadError) Error() string {
	msg := "ftrack: uploading component " + e.ComponentID + " to " + e.URL
	if e.StatusCode != 0 {
		msg += ": HTTP " + strconv.Itoa(e.StatusCode)
	}
	if e.Body != "" {
		msg += ": " + e.Body
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the cause.
func (e *UploadError) Unwrap() error { return e.Err }

// redact hides the api key and every secret redact knows in s.
func (s *Session) redact(x string) string { return redact.Secret(redact.String(x), s.apiKey) }
