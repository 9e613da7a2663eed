package upload

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/longrun/longrun/internal/redact"
	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/rest"
)

// File is one file part of an upload. Give either Reader or Open.
type File struct {
	// Name is the part's file name. The middleware does not use it, but
	// it shows in its logs.
	Name string
	// Reader is read once, to its end.
	Reader io.Reader
	// Open, when Reader is nil, is called when the part is sent; the
	// ReadCloser is closed after it. FromPath sets it.
	Open func() (io.ReadCloser, error)
	// Size is the exact number of bytes Reader or Open yields, or 0 when
	// it is not known. When every file's size is known the request has a
	// Content-Length (and a reader that yields another count fails the
	// upload); otherwise it is sent chunked.
	Size int64
}

// FromBytes is a File holding b.
func FromBytes(name string, b []byte) File {
	return File{Name: name, Reader: bytes.NewReader(b), Size: int64(len(b))}
}

// FromReader is a File reading r. Its size is known when r has a Len
// method (bytes.Reader, strings.Reader, bytes.Buffer) or is an *os.File
// of a regular file read from its start.
func FromReader(name string, r io.Reader) File {
	f := File{Name: name, Reader: r}
	switch v := r.(type) {
	case interface{ Len() int }:
		f.Size = int64(v.Len())
	case *os.File:
		if st, err := v.Stat(); err == nil && st.Mode().IsRegular() {
			if off, err := v.Seek(0, io.SeekCurrent); err == nil {
				f.Size = st.Size() - off
			}
		}
	}
	return f
}

// FromPath is a File that opens path when it is sent. Its size is read
// now, so the upload has a Content-Length.
func FromPath(path string) (File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return File{}, fmt.Errorf("upload: %w", err)
	}
	if !st.Mode().IsRegular() {
		return File{Name: filepath.Base(path), Open: func() (io.ReadCloser, error) { return os.Open(path) }}, nil
	}
	return File{
		Name: filepath.Base(path),
		Open: func() (io.ReadCloser, error) { return os.Open(path) },
		Size: st.Size(),
	}, nil
}

// Result is what a transfer did.
type Result struct {
	// JobID is the middleware job that consumed or produced the file, as
	// every id at the jobs boundary a string ("" when unknown).
	JobID string
	// Job is the job's last snapshot: its final state after Upload or
	// Download, nil after Send.
	Job *jobs.Job
	// Bytes is how many bytes of file content went through.
	Bytes int64
	// Filename is the download's file name, from Content-Disposition.
	Filename string
}

// Upload sends files to method through POST /_upload and follows the job
// the middleware started to its end. params are the method's positional
// arguments (nil for none). The body is streamed: no file is held in
// memory, and the upload is never retried.
//
// A refusal is a *TransferError matching one of the sentinels
// (ErrBadPartOrder, ErrTooManyFiles, ErrUnauthorized, ...); a job that
// fails is the *jobs.FailedError of jobs.Wait.
//
// The middleware starts the job as soon as the first file part begins and,
// when the request is cut, closes the job's input as if the file had
// ended: it would take a truncated file for a whole one. So when a reader
// fails (the error matches ErrSource) Upload first finds the job
// (core.get_jobs: the newest job of method with these params, in any
// state) and aborts it (core.job_abort) if it still runs, and only then
// cuts the request; when the request is cut under it (ctx ended,
// connection lost: the error matches ErrIncomplete) it does the same.
// A failed upload never reports success: TransferError.JobID and
// Result.Job name the job, and when the server may have committed a short
// file (the job ended SUCCESS on the cut stream, or filesystem.put, which
// writes its destination in place as the bytes arrive, had started) the
// error says so and matches ErrIncomplete (TransferError.Committed).
// The middleware offers no way to write to a temporary name and move it
// into place (filesystem.put takes only append and mode, and there is no
// rename), so write to a scratch path and check it yourself where a short
// destination would hurt.
func (c *Client) Upload(ctx context.Context, method string, params []any, files ...File) (*Result, error) {
	res, err := c.Send(ctx, method, params, files...)
	if err != nil {
		return res, err
	}
	job, err := c.wait(ctx, res.JobID)
	res.Job = job
	if err != nil {
		return res, err
	}
	return res, nil
}

// Send is Upload without the wait: it returns once the middleware has
// consumed every file part and answered with the job id.
func (c *Client) Send(ctx context.Context, method string, params []any, files ...File) (*Result, error) {
	fail := func(kind error, err error) (*Result, error) {
		return nil, &TransferError{Op: opUpload, Method: method, Kind: kind, Err: err}
	}
	if method == "" {
		return fail(ErrUnknownMethod, errors.New("empty method name"))
	}
	if c.maxFiles >= 0 {
		if len(files) == 0 {
			return fail(ErrBadPartOrder, errors.New("an upload needs at least one file"))
		}
		if len(files) > c.maxFiles {
			return fail(ErrTooManyFiles, fmt.Errorf("%d files, the middleware takes at most %d", len(files), c.maxFiles))
		}
	}
	for i, f := range files {
		if f.Reader == nil && f.Open == nil {
			return fail(ErrSource, fmt.Errorf("file %d (%q) has neither Reader nor Open", i, f.Name))
		}
	}
	if params == nil {
		params = []any{}
	}
	data, err := json.Marshal(struct {
		Method string `json:"method"`
		Params []any  `json:"params"`
	}{method, params})
	if err != nil {
		return fail(ErrBadRequest, fmt.Errorf("encoding params: %w", err))
	}
	boundary := newBoundary()
	length, total := contentLength(boundary, data, files)

	u := c.base.JoinPath("/_upload")
	pr, pw := io.Pipe()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), pr)
	if err != nil {
		return fail(ErrBadRequest, err)
	}
	req.ContentLength = length
	req.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if err := c.auth(ctx, req); err != nil {
		pr.Close()
		return fail(ErrUnauthorized, err)
	}

	w := &bodyWriter{c: c, ctx: ctx, method: method, data: data, params: params, files: files,
		boundary: boundary, total: total, started: c.clock.Now()}
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.run(pw)
	}()
	c.debug(ctx, "longrun: upload", "method", method, "files", len(files), "bytes", total, "url", redact.URL(u))

	resp, err := c.hc.Do(req)
	if err != nil {
		pr.CloseWithError(err)
		<-done
		if w.srcErr != nil {
			return w.sourceFailure()
		}
		e := &TransferError{Op: opUpload, Method: method, Kind: ErrIncomplete, Err: unwrapURLError(err)}
		if w.fileStarted {
			// The middleware started the job and will take the cut stream
			// for a whole file: abort it if it is still running. ctx may be
			// the reason for the failure, so the abort gets its own.
			actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
			id, job, aerr := c.abortOrphan(actx, method, params, w.started)
			cancel()
			e.Committed = mayHaveCommitted(method, id, job)
			if aerr != nil {
				e.Err = errors.Join(e.Err, fmt.Errorf("finding or aborting the job: %w", aerr))
			}
			if id != 0 {
				e.JobID = idStr(id)
				return &Result{JobID: idStr(id), Job: job, Bytes: w.sent}, e
			}
		}
		return nil, e
	}
	defer resp.Body.Close()
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxReplyBytes))
	// The server has answered: whatever it did not read of the body, it
	// never will. Unblock the writer and wait for it.
	pr.CloseWithError(errAnswered)
	<-done
	if w.srcErr != nil {
		return w.sourceFailure()
	}
	if resp.StatusCode != http.StatusOK {
		apiErr := &rest.APIError{StatusCode: resp.StatusCode, Method: http.MethodPost, URL: redact.URL(u),
			Body: body, Header: resp.Header.Clone()}
		return nil, refusal(opUpload, method, 0, apiErr)
	}
	if rerr != nil {
		return nil, &TransferError{Op: opUpload, Method: method, StatusCode: 0, Kind: ErrIncomplete, Err: rerr}
	}
	reply, err := ParseUploadReply(body)
	if err != nil {
		return nil, &TransferError{Op: opUpload, Method: method, Kind: ErrProtocol, Err: err}
	}
	c.debug(ctx, "longrun: upload sent", "method", method, "job", reply.JobID, "bytes", w.sent)
	return &Result{JobID: idStr(reply.JobID), Bytes: w.sent}, nil
}

// abortTimeout bounds the abort of an interrupted upload's job.
const abortTimeout = 30 * time.Second

var errAnswered = errors.New("upload: server answered before the body was sent")

// bodyWriter produces the multipart body into the pipe.
type bodyWriter struct {
	c        *Client
	ctx      context.Context
	method   string
	data     []byte
	params   []any
	files    []File
	boundary string
	total    int64

	started     time.Time // when the upload began, to tell its job from older ones
	sent        int64
	fileStarted bool  // the first file part has begun: the job exists
	srcErr      error // a caller's reader failed
	job         *jobs.Job
	jobID       int64
	abortE      error
}

func (w *bodyWriter) run(pw *io.PipeWriter) {
	mw := multipart.NewWriter(pw)
	if err := mw.SetBoundary(w.boundary); err != nil {
		pw.CloseWithError(err)
		return
	}
	part, err := mw.CreateFormField("data")
	if err == nil {
		_, err = part.Write(w.data)
	}
	if err != nil {
		pw.CloseWithError(err)
		return
	}
	buf := make([]byte, copyBufferSize)
	prog := Progress{Op: opUpload, Total: w.total}
	for _, f := range w.files {
		part, err := mw.CreatePart(fileHeader(f.Name))
		if err != nil {
			pw.CloseWithError(err)
			return
		}
		r := f.Reader
		var closer io.Closer
		if r == nil {
			rc, err := f.Open()
			if err != nil {
				w.fail(pw, err)
				return
			}
			r, closer = rc, rc
		}
		prog.Name = f.Name
		w.fileStarted = true
		err = w.copy(part, r, f.Size, buf, &prog)
		if closer != nil {
			closer.Close()
		}
		if err != nil {
			if errors.Is(err, errSink) {
				// The transport stopped reading: the server answered or
				// the connection broke. Do reports it.
				pw.CloseWithError(err)
				return
			}
			w.fail(pw, err)
			return
		}
	}
	if err := mw.Close(); err != nil {
		pw.CloseWithError(err)
		return
	}
	pw.Close()
}

var errSink = errors.New("upload: request body closed")

// copy moves one file into its part, telling reader failures (returned as
// they are) from pipe failures (wrapped in errSink).
// A file whose Size is set must yield exactly that many bytes: a short or
// long reader is a reader failure, caught before the transport would cut
// the request and leave the middleware with a truncated file.
func (w *bodyWriter) copy(dst io.Writer, src io.Reader, size int64, buf []byte, prog *Progress) error {
	var got int64
	for {
		n, rerr := src.Read(buf)
		if n > 0 {
			got += int64(n)
			if size > 0 && got > size {
				return fmt.Errorf("reader yields more than the %d bytes of its Size", size)
			}
			if _, err := dst.Write(buf[:n]); err != nil {
				return fmt.Errorf("%w: %w", errSink, err)
			}
			w.sent += int64(n)
			prog.Done = w.sent
			if w.c.progress != nil {
				w.c.progress(*prog)
			}
		}
		if rerr == io.EOF {
			if size > 0 && got != size {
				return fmt.Errorf("reader ended after %d of the %d bytes of its Size: %w", got, size, io.ErrUnexpectedEOF)
			}
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}

// fail handles a caller's reader failure: the middleware has started the
// job (it does so when the first file part begins) and would take the
// truncated stream for a whole file once the connection closes, so find
// the job and abort it first, then cut the request.
func (w *bodyWriter) fail(pw *io.PipeWriter, err error) {
	w.srcErr = err
	actx, cancel := context.WithTimeout(context.WithoutCancel(w.ctx), abortTimeout)
	defer cancel()
	w.jobID, w.job, w.abortE = w.c.abortOrphan(actx, w.method, w.params, w.started)
	pw.CloseWithError(fmt.Errorf("%w: %w", ErrSource, err))
}

func (w *bodyWriter) sourceFailure() (*Result, error) {
	e := &TransferError{Op: opUpload, Method: w.method, JobID: idStr(w.jobID), Kind: ErrSource, Err: w.srcErr,
		Committed: mayHaveCommitted(w.method, w.jobID, w.job)}
	if w.abortE != nil {
		e.Err = errors.Join(w.srcErr, fmt.Errorf("aborting the job: %w", w.abortE))
	}
	var res *Result
	if w.jobID != 0 {
		res = &Result{JobID: idStr(w.jobID), Job: w.job, Bytes: w.sent}
	}
	return res, e
}

// inPlaceMethods write their destination as the bytes arrive, so a cut
// stream leaves it short even when the job is aborted (filesystem.put
// opens the path "wb+" before it copies the pipe).
var inPlaceMethods = map[string]bool{"filesystem.put": true}

// mayHaveCommitted reports whether a failed upload's job may have left a
// short file behind: it succeeded on the cut stream, or it writes in
// place and had started.
func mayHaveCommitted(method string, id int64, job *jobs.Job) bool {
	if id == 0 {
		// The job was not found: it may have run to its end on the
		// short stream for all the client knows, when a file part began.
		return inPlaceMethods[method]
	}
	if job != nil && job.State == jobs.StateSucceeded {
		return true
	}
	return inPlaceMethods[method]
}

// skew is how much earlier than the client's start an upload's job may
// say it started (clocks of client and server differ).
const skew = 2 * time.Minute

// abortOrphan finds the job an interrupted upload started and ends it:
// core.get_jobs for the newest job of method with these arguments (in any
// state: on a cut stream it may already have ended, SUCCESS on a short
// file), core.job_abort when it still runs, then a wait for its end. The
// job may not be registered yet when the reader fails at once, so the
// lookup is tried a few times. A job that ended before since (less the
// clock skew) is an older upload's, not this one's.
func (c *Client) abortOrphan(ctx context.Context, method string, params []any, since time.Time) (int64, *jobs.Job, error) {
	want, _ := json.Marshal(params)
	filters := []any{[]any{"method", "=", method}}
	opts := map[string]any{"order_by": []string{"-id"}, "limit": 16}
	var (
		id    int64
		state string
	)
	delay := 50 * time.Millisecond
	for attempt := 0; attempt < 8 && id == 0; attempt++ {
		if attempt > 0 {
			// Wall time, not the client's clock: this waits for the
			// server to register the job, which takes real time even
			// against a fake whose clock jumps.
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return 0, nil, ctx.Err()
			}
			delay *= 2
		}
		var found []struct {
			ID          int64           `json:"id"`
			Arguments   json.RawMessage `json:"arguments"`
			State       string          `json:"state"`
			TimeStarted *struct {
				Date *float64 `json:"$date"`
			} `json:"time_started"`
		}
		if err := c.conn.Call(ctx, "core.get_jobs", []any{filters, opts}, &found); err != nil {
			return 0, nil, fmt.Errorf("core.get_jobs: %w", err)
		}
		for _, j := range found {
			if !sameJSON(j.Arguments, want) {
				continue
			}
			active := j.State != "SUCCESS" && j.State != "FAILED" && j.State != "ABORTED"
			recent := j.TimeStarted == nil || j.TimeStarted.Date == nil ||
				!time.UnixMilli(int64(*j.TimeStarted.Date)).Before(since.Add(-skew))
			if active || recent {
				id, state = j.ID, j.State
			}
			break // the newest matching job is the only candidate
		}
	}
	if id == 0 {
		return 0, nil, errors.New("the job the upload started was not found")
	}
	if state != "SUCCESS" && state != "FAILED" && state != "ABORTED" {
		if err := c.conn.Call(ctx, "core.job_abort", []any{id}, nil); err != nil {
			return id, nil, fmt.Errorf("core.job_abort: %w", err)
		}
	}
	job, err := c.wait(ctx, idStr(id))
	if err != nil && !errors.Is(err, jobs.ErrJobAborted) && !errors.Is(err, jobs.ErrJobFailed) {
		return id, job, err
	}
	return id, job, nil
}

// sameJSON compares two JSON documents by value.
func sameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}

func fileHeader(name string) textproto.MIMEHeader {
	h := make(textproto.MIMEHeader, 2)
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename="%s"`, escapeQuotes(name)))
	h.Set("Content-Type", "application/octet-stream")
	return h
}

var quoteEscaper = strings.NewReplacer("\\", "\\\\", `"`, "\\\"", "\r", "", "\n", "")

func escapeQuotes(s string) string { return quoteEscaper.Replace(s) }

func newBoundary() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return "longrun-" + hex.EncodeToString(b[:])
}

// contentLength computes the exact size of the multipart body when every
// file's size is known (length -1 otherwise), and the files' total (-1
// when unknown).
func contentLength(boundary string, data []byte, files []File) (length, total int64) {
	var cw countWriter
	mw := multipart.NewWriter(&cw)
	_ = mw.SetBoundary(boundary)
	part, _ := mw.CreateFormField("data")
	_, _ = part.Write(data)
	for _, f := range files {
		if f.Size <= 0 {
			total = -1
		} else if total >= 0 {
			total += f.Size
		}
		_, _ = mw.CreatePart(fileHeader(f.Name))
	}
	_ = mw.Close()
	if total < 0 {
		return -1, -1
	}
	return cw.n + total, total
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
