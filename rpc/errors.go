package rpc

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/longrun/longrun/jobs"
)

// JSON-RPC error codes the middleware answers with.
const (
	CodeParseError        = -32700 // the server could not parse a frame
	CodeInvalidRequest    = -32600 // the frame was not a valid request
	CodeMethodNotFound    = -32601 // "Method does not exist"
	CodeInvalidParams     = -32602 // validation failed: Data.Extra lists [attribute, message, errno]
	CodeInternalError     = -32603
	CodeTooManyConcurrent = -32000 // more than 20 calls in flight on one connection
	CodeMethodCallError   = -32001 // the method raised: Data.Error is the errno
)

// Middleware errno values outside the system range (truenas_api_client.ErrnoMixin).
const (
	ErrnoMethodNotFound   = 201 // ENOMETHOD
	ErrnoNotAuthenticated = 207 // ENOTAUTHENTICATED
)

// Sentinel errors for errors.Is.
var (
	// ErrClosed: the Conn was closed by Close.
	ErrClosed = errors.New("rpc: connection closed")
	// ErrDisconnected matches a *DisconnectedError: the websocket broke
	// while a call was in flight.
	ErrDisconnected = errors.New("rpc: disconnected")
	// ErrNotAuthenticated matches an *Error with errno 207
	// (ENOTAUTHENTICATED): the call needs a login.
	ErrNotAuthenticated = errors.New("rpc: not authenticated")
	// ErrMethodNotFound matches an *Error with code -32601.
	ErrMethodNotFound = errors.New("rpc: method does not exist")
	// ErrInvalidParams matches an *Error with code -32602 and a
	// *JobError whose exc_info type is VALIDATION.
	ErrInvalidParams = errors.New("rpc: invalid params")
	// ErrTooManyCalls matches an *Error with code -32000.
	ErrTooManyCalls = errors.New("rpc: too many concurrent calls")
	// ErrAuthFailed matches an *AuthError.
	ErrAuthFailed = errors.New("rpc: authentication failed")
	// ErrFrameTooLarge matches a *FrameTooLargeError.
	ErrFrameTooLarge = errors.New("rpc: frame too large")
	// ErrSubscriptionOverflow matches an *OverflowError.
	ErrSubscriptionOverflow = errors.New("rpc: subscription buffer overflow")
	// ErrUnsubscribed: the server ended a subscription (notify_unsubscribed).
	ErrUnsubscribed = errors.New("rpc: unsubscribed by server")
	// ErrProtocol matches a *ProtocolError.
	ErrProtocol = errors.New("rpc: protocol error")
)

// ValidationItem is one entry of a validation error's extra list:
// [attribute, message, errno].
type ValidationItem struct {
	Attribute string // may be empty (null on the wire)
	Message   string
	Errno     int
}

// UnmarshalJSON reads the [attribute, message, errno] triple.
func (v *ValidationItem) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if len(raw) > 0 {
		_ = json.Unmarshal(raw[0], &v.Attribute)
	}
	if len(raw) > 1 {
		_ = json.Unmarshal(raw[1], &v.Message)
	}
	if len(raw) > 2 {
		_ = json.Unmarshal(raw[2], &v.Errno)
	}
	return nil
}

// MarshalJSON writes the triple back.
func (v ValidationItem) MarshalJSON() ([]byte, error) {
	var attr any
	if v.Attribute != "" {
		attr = v.Attribute
	}
	return json.Marshal([]any{attr, v.Message, v.Errno})
}

// String formats the item as "attribute: message".
func (v ValidationItem) String() string {
	if v.Attribute == "" {
		return v.Message
	}
	return v.Attribute + ": " + v.Message
}

// Trace is the server's traceback summary.
type Trace struct {
	Class     string            `json:"class"`
	Frames    []json.RawMessage `json:"frames,omitempty"`
	Formatted string            `json:"formatted"`
	Repr      string            `json:"repr"`
}

// ErrorData is the middleware's error.data object.
type ErrorData struct {
	Errno   int    `json:"error"`
	Errname string `json:"errname"`
	// Type is "VALIDATION" for validation errors (legacy protocol only;
	// JSON-RPC says so with code -32602).
	Type   string          `json:"type,omitempty"`
	Reason string          `json:"reason"`
	Trace  *Trace          `json:"trace"`
	Extra  json.RawMessage `json:"extra"`
	// PyException is a pickled exception, sent only with py_exceptions.
	PyException string `json:"py_exception,omitempty"`
}

// Error is a JSON-RPC error response: {code, message, data}.
type Error struct {
	Code    int        `json:"code"`
	Message string     `json:"message"`
	Data    *ErrorData `json:"data,omitempty"`
	// Method is the method that was called (filled by the client).
	Method string `json:"-"`
}

// Error implements error.
func (e *Error) Error() string {
	var sb strings.Builder
	sb.WriteString("rpc: ")
	if e.Method != "" {
		sb.WriteString(e.Method)
		sb.WriteString(": ")
	}
	sb.WriteString(e.Message)
	fmt.Fprintf(&sb, " (%d)", e.Code)
	if e.Data != nil {
		if items := e.Validation(); len(items) > 0 {
			for i, it := range items {
				if i == 0 {
					sb.WriteString(": ")
				} else {
					sb.WriteString("; ")
				}
				sb.WriteString(it.String())
			}
		} else if e.Data.Reason != "" {
			sb.WriteString(": ")
			sb.WriteString(e.Data.Reason)
		}
	}
	return sb.String()
}

// Errno is data.error, or 0.
func (e *Error) Errno() int {
	if e.Data == nil {
		return 0
	}
	return e.Data.Errno
}

// Validation decodes data.extra as validation items (for -32602).
func (e *Error) Validation() []ValidationItem {
	if e.Data == nil || e.Code != CodeInvalidParams {
		return nil
	}
	var items []ValidationItem
	if json.Unmarshal(e.Data.Extra, &items) != nil {
		return nil
	}
	return items
}

// Is matches the sentinels by code and errno: jobs.ErrUnauthorized and
// ErrNotAuthenticated for errno 207 (ENOTAUTHENTICATED), jobs.ErrNotFound
// for errno 2 (ENOENT: no such job, file or object).
func (e *Error) Is(target error) bool {
	switch target {
	case ErrNotAuthenticated, jobs.ErrUnauthorized:
		return e.Errno() == ErrnoNotAuthenticated
	case jobs.ErrNotFound:
		return e.Errno() == errnoENOENT
	case ErrMethodNotFound:
		return e.Code == CodeMethodNotFound
	case ErrInvalidParams:
		return e.Code == CodeInvalidParams
	case ErrTooManyCalls:
		return e.Code == CodeTooManyConcurrent
	}
	return false
}

// Temporary reports errors a caller may retry: too many concurrent calls.
func (e *Error) Temporary() bool { return e.Code == CodeTooManyConcurrent }

// DisconnectedError reports a call cut short by a broken websocket. The
// call may or may not have run on the server.
type DisconnectedError struct {
	Method string
	Cause  error
}

// Error implements error.
func (e *DisconnectedError) Error() string {
	msg := "rpc: connection lost"
	if e.Method != "" {
		msg += " during " + e.Method
	}
	if e.Cause != nil {
		msg += ": " + e.Cause.Error()
	}
	return msg
}

// Unwrap returns the cause.
func (e *DisconnectedError) Unwrap() error { return e.Cause }

// Is matches ErrDisconnected.
func (e *DisconnectedError) Is(target error) bool { return target == ErrDisconnected }

// Temporary is true: a later call may succeed on the reconnected socket.
func (e *DisconnectedError) Temporary() bool { return true }

// FrameTooLargeError reports a frame above the read limit; the frame is
// never read into memory and the connection is closed.
type FrameTooLargeError struct {
	Limit int64
}

// Error implements error.
func (e *FrameTooLargeError) Error() string {
	return fmt.Sprintf("rpc: server sent a frame larger than the read limit of %d bytes", e.Limit)
}

// Is matches ErrFrameTooLarge.
func (e *FrameTooLargeError) Is(target error) bool { return target == ErrFrameTooLarge }

// AuthError is a login that the server refused: the response_type of
// auth.login_ex other than SUCCESS, or false from a legacy login method.
type AuthError struct {
	// ResponseType is AUTH_ERR, EXPIRED, DENIED, OTP_REQUIRED, REDIRECT
	// or, for the legacy methods, AUTH_ERR.
	ResponseType string
	// Mechanism is PASSWORD_PLAIN, API_KEY_PLAIN or TOKEN_PLAIN (or the
	// legacy method name).
	Mechanism string
	// URLs are the redirect targets for REDIRECT.
	URLs []string
	// Reason is the client's own reason, when it refused first (a SCRAM
	// server signature that did not verify, no SCRAM offered).
	Reason string
}

// Error implements error.
func (e *AuthError) Error() string {
	msg := "rpc: login with " + e.Mechanism + " refused: " + e.ResponseType
	switch e.ResponseType {
	case "AUTH_ERR":
		msg += " (wrong or unknown credentials)"
	case "EXPIRED":
		msg += " (credentials expired)"
	case "DENIED":
		msg += " (account has no API access)"
	case "OTP_REQUIRED":
		msg += " (two-factor authentication required)"
	case "REDIRECT":
		msg += " (log in on the active controller: " + strings.Join(e.URLs, ", ") + ")"
	}
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg
}

// Is matches ErrAuthFailed and jobs.ErrUnauthorized.
func (e *AuthError) Is(target error) bool {
	return target == ErrAuthFailed || target == jobs.ErrUnauthorized
}

// DialError is a websocket handshake that failed: no connection, or an
// HTTP answer instead of the upgrade. It never holds a secret of the URL.
type DialError struct {
	URL        string // without secrets
	StatusCode int    // the HTTP status, or 0
	Msg        string // the cause, secrets removed
}

// Error implements error.
func (e *DialError) Error() string {
	if e.StatusCode != 0 {
		return fmt.Sprintf("rpc: dial %s: %s (HTTP %d)", e.URL, e.Msg, e.StatusCode)
	}
	return "rpc: dial " + e.URL + ": " + e.Msg
}

// Is matches jobs.ErrUnauthorized for an HTTP 401 or 403 and
// jobs.ErrNotFound for a 404 (no API at that path).
func (e *DialError) Is(target error) bool {
	switch target {
	case jobs.ErrUnauthorized:
		return e.StatusCode == 401 || e.StatusCode == 403
	case jobs.ErrNotFound:
		return e.StatusCode == 404
	}
	return false
}

// Temporary reports a dial that may work later (no HTTP answer, or 5xx).
func (e *DialError) Temporary() bool { return e.StatusCode == 0 || e.StatusCode >= 500 }

// OverflowError ends a subscription whose reader fell behind by more
// than the buffer.
type OverflowError struct {
	Collection string
	Buffer     int
}

// Error implements error.
func (e *OverflowError) Error() string {
	return fmt.Sprintf("rpc: subscription to %s dropped: reader fell %d events behind", e.Collection, e.Buffer)
}

// Is matches ErrSubscriptionOverflow.
func (e *OverflowError) Is(target error) bool { return target == ErrSubscriptionOverflow }

// ProtocolError is a frame the client could not make sense of.
type ProtocolError struct {
	Reason string
	Frame  string // at most 256 bytes of the frame
}

// Error implements error.
func (e *ProtocolError) Error() string {
	return "rpc: protocol error: " + e.Reason
}

// Is matches ErrProtocol.
func (e *ProtocolError) Is(target error) bool { return target == ErrProtocol }
