package cloudsigma

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/longrun/longrun/internal/wire"
	"github.com/longrun/longrun/rest"
)

// Error is one entry of the error list CloudSigma answers with:
// [{"error_point": ..., "error_type": ..., "error_message": ...}].
type Error struct {
	// Point is the field or place the error is about; nil when the server
	// sent null.
	Point *string `json:"error_point"`
	// Type is one of the Type constants (validation, notexist, ...).
	Type string `json:"error_type"`
	// Message is the server's description.
	Message string `json:"error_message"`
	// Extra holds members longrun does not model.
	Extra map[string]json.RawMessage `json:"-"`

	keys wire.Keys
}

type errorAlias struct {
	Point   *string `json:"error_point"`
	Type    string  `json:"error_type"`
	Message string  `json:"error_message"`
}

// UnmarshalJSON keeps unknown members.
func (e *Error) UnmarshalJSON(b []byte) error {
	var a errorAlias
	extra, keys, err := wire.Decode(b, &a)
	if err != nil {
		return err
	}
	*e = Error{Point: a.Point, Type: a.Type, Message: a.Message, Extra: extra, keys: keys}
	return nil
}

// MarshalJSON writes every member back (error_point as null when unset,
// since CloudSigma always sends it).
func (e Error) MarshalJSON() ([]byte, error) {
	keys := e.keys
	if keys == nil {
		keys = wire.Keys{"error_point", "error_type", "error_message"}
	}
	return wire.Encode(errorAlias{e.Point, e.Type, e.Message}, e.Extra, keys)
}

// The error types of CloudSigma's errors.rst.
const (
	TypeValidation  = "validation"
	TypeNotExist    = "notexist"
	TypeBackend     = "backend"
	TypePermission  = "permission"
	TypeDatabase    = "database"
	TypeConcurrency = "concurrency"
	TypeBilling     = "billing"
	TypePayment     = "payment"
)

// ErrMalformed is wrapped by the errors of the decoders for documents that
// are not what CloudSigma sends.
var ErrMalformed = errors.New("cloudsigma: malformed document")

// Errors is a request CloudSigma refused, with the error list it sent.
// errors.As(err, &e) with e *Errors reads the list; it wraps the
// *rest.APIError (status, request id, body), so errors.Is matches
// jobs.ErrNotFound on 404 and jobs.ErrUnauthorized on 401 and 403.
type Errors struct {
	// List is the server's error list (empty when the body held none).
	List []Error
	// API is the HTTP answer.
	API *rest.APIError
}

// Error gives the HTTP error, whose message joins the list's messages.
func (e *Errors) Error() string { return e.API.Error() }

// Unwrap returns the *rest.APIError.
func (e *Errors) Unwrap() error { return e.API }

// Type is the first error's error_type, or "".
func (e *Errors) Type() string {
	if len(e.List) == 0 {
		return ""
	}
	return e.List[0].Type
}

// ErrorsOf returns the error list carried by err (an *Errors, or a
// *rest.APIError that DecodeAPIError filled), or nil.
func ErrorsOf(err error) []Error {
	var e *Errors
	if errors.As(err, &e) {
		return e.List
	}
	var ae *rest.APIError
	if errors.As(err, &ae) {
		list, _ := ae.Details.([]Error)
		return list
	}
	return nil
}

// wrapErr turns a *rest.APIError into an *Errors.
func wrapErr(err error) error {
	var ae *rest.APIError
	if err == nil || !errors.As(err, &ae) {
		return err
	}
	var already *Errors
	if errors.As(err, &already) {
		return err
	}
	list, _ := ae.Details.([]Error)
	return &Errors{List: list, API: ae}
}

// DecodeErrors reads a CloudSigma error body: a JSON list of error objects
// (or, leniently, one object). Entries that are not objects are skipped.
// It never panics; a body that is no such JSON gives an error wrapping
// ErrMalformed.
func DecodeErrors(body []byte) ([]Error, error) {
	if err := wire.Depth(body, 64); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(body, &items); err != nil {
		var one Error
		if err2 := json.Unmarshal(body, &one); err2 != nil || (one.Type == "" && one.Message == "") {
			return nil, fmt.Errorf("%w: error body: %v", ErrMalformed, err)
		}
		return []Error{one}, nil
	}
	out := make([]Error, 0, len(items))
	for _, it := range items {
		var e Error
		if json.Unmarshal(it, &e) == nil && (e.Type != "" || e.Message != "" || e.Point != nil) {
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: error body holds no error objects", ErrMalformed)
	}
	return out, nil
}

// DecodeAPIError is the rest.ErrorDecoder New installs: it sets e.Type to the first
// error's error_type, e.Message to the errors' messages (each prefixed by
// its error_point when there is one), and e.Details to the []Error.
func DecodeAPIError(e *rest.APIError, body []byte) {
	errs, err := DecodeErrors(body)
	if err != nil {
		return
	}
	msgs := make([]string, 0, len(errs))
	for _, x := range errs {
		m := x.Message
		if x.Point != nil && *x.Point != "" {
			m = *x.Point + ": " + m
		}
		msgs = append(msgs, m)
	}
	e.Type = errs[0].Type
	e.Message = strings.Join(msgs, "; ")
	e.Details = errs
}
