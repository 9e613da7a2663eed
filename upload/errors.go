package upload

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/longrun/longrun/internal/redact"
	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/rest"
)

// Sentinel errors, one per refusal of the middleware's file endpoints.
// Every error this package returns for a refused or broken transfer is a
// *TransferError that matches one of them with errors.Is.
var (
	// ErrTokenRejected is a 401 from /_download: the auth_token is missing,
	// unknown, expired (300 s), already used (tokens are single-use), or
	// was issued for another job. The middleware answers all of these the
	// same way, so they cannot be told apart.
	ErrTokenRejected = errors.New("upload: download token rejected (missing, expired, already used or for another job)")
	// ErrJobNotFound is a 404 from /_download: no such job, or a path that
	// does not end in a job id.
	ErrJobNotFound = errors.New("upload: download job not found")
	// ErrDownloadGone is a 410 from /_download: the job is no longer
	// offered for download, because its download already started or
	// because the start deadline passed (60 s unbuffered, 3600 s
	// buffered) and the middleware closed its pipes.
	ErrDownloadGone = errors.New("upload: download gone (already started or start deadline passed)")

	// ErrBadPartOrder is a 405 from /_upload: the first part was not
	// "data", the second was not "file", a later part had another name,
	// or the body had no part at all.
	ErrBadPartOrder = errors.New("upload: multipart parts in the wrong order or with wrong names")
	// ErrTooManyFiles is a 405 from /_upload after MaxFiles file parts, or
	// the client's own refusal to send more than the configured maximum.
	ErrTooManyFiles = errors.New("upload: too many files")
	// ErrBadRequest is a 400 from /_upload: the "data" part is not JSON,
	// or a Basic authorization header could not be decoded.
	ErrBadRequest = errors.New("upload: bad request")
	// ErrUnknownMethod is a 422 from /_upload: "data" names no method, or
	// a method the middleware does not have.
	ErrUnknownMethod = errors.New("upload: unknown method")
	// ErrUnauthorized is a 401 from /_upload: no credentials, a wrong
	// password, an unknown API key, or Basic auth on a box with two-factor
	// authentication on.
	ErrUnauthorized = errors.New("upload: not authenticated")
	// ErrForbidden is a 403 from /_upload: an invalid or used token, a
	// session not allowed to call the method, or API keys refused at the
	// server's security level.
	ErrForbidden = errors.New("upload: forbidden")
	// ErrCallFailed is a 412 from /_upload: the middleware refused the call
	// itself (a CallError other than an unknown method).
	ErrCallFailed = errors.New("upload: method call refused")
	// ErrServer is any other status of 400 or more (the middleware answers
	// 500 to a call whose parameters fail validation).
	ErrServer = errors.New("upload: server error")

	// ErrIncomplete means a transfer ended before all of its bytes went
	// through: a connection cut mid-stream, a body shorter than its
	// Content-Length, a chunked body without its terminator, or a job that
	// failed while it was producing or consuming the stream. A download
	// that returns it wrote a short, unusable copy.
	ErrIncomplete = errors.New("upload: transfer incomplete")
	// ErrSource means one of the caller's readers failed during an upload.
	// The middleware had already started the job; Upload aborts it when it
	// can find it (TransferError.JobID).
	ErrSource = errors.New("upload: reading the file to upload failed")
	// ErrProtocol means the server's answer could not be understood (an
	// upload reply without a job id, a core.download result of the wrong
	// shape).
	ErrProtocol = errors.New("upload: unexpected server answer")
)

// TransferError is a refused, broken or failed transfer.
type TransferError struct {
	// Op is "upload" or "download".
	Op string
	// Method is the middleware method the transfer was for, such as
	// config.upload or config.save.
	Method string
	// JobID is the middleware job, when it is known ("" otherwise).
	JobID string
	// StatusCode is the HTTP status of a refusal (0 for a broken stream).
	StatusCode int
	// Message is the server's own text (the body of a refusal), with any
	// secret redacted.
	Message string
	// Kind is the sentinel this error matches (ErrTokenRejected, ...).
	Kind error
	// Committed reports an upload that failed on the client side while
	// the server may have written a short file: its job ended SUCCESS on
	// the cut stream, or it writes in place (filesystem.put) and had
	// started. The error then also matches ErrIncomplete.
	Committed bool
	// Err is the underlying cause: a *rest.APIError, a transport or read
	// error, the caller's reader error, or a *jobs.FailedError.
	Err error
}

// Error describes the failure without any token, password or API key.
func (e *TransferError) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	if e.Method != "" {
		b.WriteString(" " + e.Method)
	}
	if e.JobID != "" {
		fmt.Fprintf(&b, " (job %s)", e.JobID)
	}
	b.WriteString(": ")
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, "%d %s: ", e.StatusCode, http.StatusText(e.StatusCode))
	}
	kind := "failed"
	if e.Kind != nil {
		kind = strings.TrimPrefix(e.Kind.Error(), "upload: ")
	}
	b.WriteString(kind)
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	} else if e.Err != nil && e.StatusCode == 0 {
		b.WriteString(": " + redact.String(e.Err.Error()))
	}
	if e.Committed {
		b.WriteString("; the server may have committed a short file")
	}
	return b.String()
}

// Is matches jobs.ErrNotFound for a job the middleware does not know
// (ErrJobNotFound) and jobs.ErrUnauthorized for every refused credential
// (ErrTokenRejected, ErrUnauthorized, ErrForbidden).
func (e *TransferError) Is(target error) bool {
	switch target {
	case jobs.ErrNotFound:
		return e.Kind == ErrJobNotFound
	case jobs.ErrUnauthorized:
		return e.Kind == ErrTokenRejected || e.Kind == ErrUnauthorized || e.Kind == ErrForbidden
	}
	return false
}

// Unwrap gives errors.Is and errors.As both the sentinel and the cause.
func (e *TransferError) Unwrap() []error {
	var out []error
	if e.Kind != nil {
		out = append(out, e.Kind)
	}
	if e.Committed && e.Kind != ErrIncomplete {
		out = append(out, ErrIncomplete)
	}
	if e.Err != nil {
		out = append(out, e.Err)
	}
	return out
}

// maxMessage bounds how much of a refusal body an error keeps.
const maxMessage = 512

// refusal turns an HTTP refusal of /_upload or /_download into a
// *TransferError with the matching sentinel.
func refusal(op, method string, jobID int64, apiErr *rest.APIError) *TransferError {
	msg := strings.TrimSpace(string(apiErr.Body))
	if len(msg) > maxMessage {
		msg = msg[:maxMessage] + "..."
	}
	msg = redact.String(msg)
	e := &TransferError{Op: op, Method: method, JobID: idStr(jobID), StatusCode: apiErr.StatusCode, Message: msg, Err: apiErr}
	if op == opDownload {
		e.Kind = downloadKind(apiErr.StatusCode)
	} else {
		e.Kind = uploadKind(apiErr.StatusCode, msg)
	}
	return e
}

// downloadKind maps a /_download status to its sentinel.
func downloadKind(status int) error {
	switch status {
	case http.StatusUnauthorized:
		return ErrTokenRejected
	case http.StatusNotFound:
		return ErrJobNotFound
	case http.StatusGone:
		return ErrDownloadGone
	}
	return ErrServer
}

// uploadKind maps a /_upload status (and, for 405, its body) to its
// sentinel.
func uploadKind(status int, body string) error {
	switch status {
	case http.StatusBadRequest:
		return ErrBadRequest
	case http.StatusUnauthorized:
		return ErrUnauthorized
	case http.StatusForbidden:
		return ErrForbidden
	case http.StatusMethodNotAllowed:
		if strings.Contains(strings.ToLower(body), "too many") {
			return ErrTooManyFiles
		}
		return ErrBadPartOrder
	case http.StatusUnprocessableEntity:
		return ErrUnknownMethod
	case http.StatusPreconditionFailed:
		return ErrCallFailed
	}
	return ErrServer
}

const (
	opUpload   = "upload"
	opDownload = "download"
)
