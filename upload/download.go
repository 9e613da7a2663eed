package upload

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/longrun/longrun/internal/redact"
	"github.com/longrun/longrun/rest"
)

// DownloadOption changes one download.
type DownloadOption func(*downloadConfig)

type downloadConfig struct {
	buffered bool
	progress ProgressFunc
}

// Buffered asks the middleware to buffer the job's output in a file
// (core.download's buffered argument) instead of a pipe. The job then runs
// without waiting for the GET, and the download begins only once the job
// has ended: the middleware serves a buffered file as far as it is written,
// so an earlier GET would get a short file. A token that aged past its
// 300 s while the job ran is replaced with a fresh one.
func Buffered() DownloadOption { return func(c *downloadConfig) { c.buffered = true } }

// OnProgress reports this download's bytes to fn (in addition to the
// client's WithProgress).
func OnProgress(fn ProgressFunc) DownloadOption {
	return func(c *downloadConfig) { c.progress = fn }
}

// Download calls method through core.download, GETs its output at once
// and copies it to w, then follows the job to its end. filename is the
// name the middleware puts in Content-Disposition; args are the method's
// positional arguments.
//
// The download is complete only when err is nil: a cut connection, a body
// shorter than announced, or a job that failed while writing all give an
// error matching ErrIncomplete, and whatever w received is then a short
// copy. A refusal of the GET is a *TransferError matching
// ErrTokenRejected, ErrJobNotFound or ErrDownloadGone.
func (c *Client) Download(ctx context.Context, method string, args []any, filename string, w io.Writer, opts ...DownloadOption) (*Result, error) {
	s, err := c.OpenDownload(ctx, method, args, filename, opts...)
	if err != nil {
		return s.resultOrNil(), err
	}
	return s.copyTo(w)
}

// DownloadFile is Download into the file at path. The data goes to a
// temporary file next to it, renamed to path only when the download and
// its job succeeded, so path never holds a short copy.
func (c *Client) DownloadFile(ctx context.Context, method string, args []any, filename, path string, opts ...DownloadOption) (*Result, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".part-*")
	if err != nil {
		return nil, fmt.Errorf("upload: %w", err)
	}
	res, err := c.Download(ctx, method, args, filename, tmp, opts...)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return res, err
	}
	return res, nil
}

// OpenDownload calls method through core.download and starts the GET at
// once. The caller reads the file from the returned Stream and must Close
// it. The Stream's Read returns io.EOF only after the job succeeded; a
// failed job or a cut connection is an error matching ErrIncomplete.
func (c *Client) OpenDownload(ctx context.Context, method string, args []any, filename string, opts ...DownloadOption) (*Stream, error) {
	var cfg downloadConfig
	for _, o := range opts {
		o(&cfg)
	}
	if args == nil {
		args = []any{}
	}
	var raw json.RawMessage
	if err := c.conn.Call(ctx, "core.download", []any{method, args, filename, cfg.buffered}, &raw); err != nil {
		return nil, fmt.Errorf("upload: core.download %s: %w", method, err)
	}
	t, err := ParseDownloadTicket(raw)
	if err != nil {
		return nil, &TransferError{Op: opDownload, Method: method, Kind: ErrProtocol, Err: err}
	}
	return c.open(ctx, method, t, filename, cfg, c.clock.Now())
}

// OpenTicket starts the GET of a ticket obtained elsewhere (from
// core.download or core.job_download_logs called by the caller). issued
// is when the ticket was obtained; it matters only with Buffered.
func (c *Client) OpenTicket(ctx context.Context, t DownloadTicket, issued time.Time, opts ...DownloadOption) (*Stream, error) {
	var cfg downloadConfig
	for _, o := range opts {
		o(&cfg)
	}
	if _, err := jobIDFromPath(t.Path); err != nil {
		return nil, &TransferError{Op: opDownload, JobID: idStr(t.JobID), Kind: ErrProtocol, Err: err}
	}
	return c.open(ctx, "", t, "", cfg, issued)
}

// DownloadJobLogs copies the log of job id to w, through
// core.job_download_logs (which runs filesystem.get on the log file).
func (c *Client) DownloadJobLogs(ctx context.Context, jobID string, filename string, w io.Writer, opts ...DownloadOption) (*Result, error) {
	id, err := strconv.ParseInt(jobID, 10, 64)
	if err != nil || id <= 0 {
		return nil, &TransferError{Op: opDownload, Method: "core.job_download_logs", Kind: ErrJobNotFound,
			Err: fmt.Errorf("job id %q is not a TrueNAS job number", jobID)}
	}
	var cfg downloadConfig
	for _, o := range opts {
		o(&cfg)
	}
	var raw json.RawMessage
	if err := c.conn.Call(ctx, "core.job_download_logs", []any{id, filename, cfg.buffered}, &raw); err != nil {
		return nil, fmt.Errorf("upload: core.job_download_logs %d: %w", id, err)
	}
	t, err := ParseDownloadTicket(raw)
	if err != nil {
		return nil, &TransferError{Op: opDownload, Method: "core.job_download_logs", Kind: ErrProtocol, Err: err}
	}
	s, err := c.open(ctx, "filesystem.get", t, filename, cfg, c.clock.Now())
	if err != nil {
		return s.resultOrNil(), err
	}
	return s.copyTo(w)
}

func (c *Client) open(ctx context.Context, method string, t DownloadTicket, filename string, cfg downloadConfig, issued time.Time) (*Stream, error) {
	s := &Stream{c: c, ctx: ctx, method: method, progress: cfg.progress,
		res: &Result{JobID: idStr(t.JobID), Filename: filename}, total: -1}
	if cfg.buffered {
		// A buffered file is served as far as it is written: wait for the
		// job to end before asking for it.
		job, err := c.wait(ctx, idStr(t.JobID))
		s.res.Job = job
		if err != nil {
			return s, &TransferError{Op: opDownload, Method: method, JobID: idStr(t.JobID), Kind: ErrIncomplete, Err: err}
		}
		if c.clock.Now().Sub(issued) > TokenTTL-30*time.Second {
			path, err := c.renewTicket(ctx, t.JobID, filename)
			if err != nil {
				return s, err
			}
			t.Path = path
		}
		s.jobDone = true
	}
	u, err := c.base.Parse(c.base.Path + t.Path)
	if err != nil {
		return s, &TransferError{Op: opDownload, Method: method, JobID: idStr(t.JobID), Kind: ErrProtocol, Err: errors.New("download path does not parse")}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return s, &TransferError{Op: opDownload, Method: method, JobID: idStr(t.JobID), Kind: ErrProtocol, Err: errors.New("bad download request")}
	}
	req.Header.Set("User-Agent", c.userAgent)
	c.debug(ctx, "longrun: download", "method", method, "job", t.JobID, "url", redact.URL(u))
	resp, err := c.hc.Do(req)
	if err != nil {
		return s, &TransferError{Op: opDownload, Method: method, JobID: idStr(t.JobID), Kind: ErrIncomplete, Err: unwrapURLError(err)}
	}
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxReplyBytes))
		resp.Body.Close()
		apiErr := &rest.APIError{StatusCode: resp.StatusCode, Method: http.MethodGet, URL: redact.URL(u),
			Body: body, Header: resp.Header.Clone()}
		return s, refusal(opDownload, method, t.JobID, apiErr)
	}
	if name, ok := ParseDisposition(resp.Header.Get("Content-Disposition")); ok {
		s.res.Filename = name
	}
	s.body = resp.Body
	s.total = resp.ContentLength
	return s, nil
}

// renewTicket mints a fresh single-use download token for a job whose
// first token expired: auth.generate_token(300, {"filename", "job"}, ...).
func (c *Client) renewTicket(ctx context.Context, id int64, filename string) (string, error) {
	var tok string
	attrs := map[string]any{"filename": filename, "job": id}
	if err := c.conn.Call(ctx, "auth.generate_token", []any{int(TokenTTL / time.Second), attrs, true, true}, &tok); err != nil {
		return "", &TransferError{Op: opDownload, JobID: idStr(id), Kind: ErrTokenRejected, Err: fmt.Errorf("renewing the download token: %w", err)}
	}
	if tok == "" {
		return "", &TransferError{Op: opDownload, JobID: idStr(id), Kind: ErrProtocol, Err: errors.New("auth.generate_token returned an empty token")}
	}
	return "/_download/" + strconv.FormatInt(id, 10) + "?auth_token=" + tok, nil
}

// Stream is an open download. Read it to its end, then Close it. Read
// returns io.EOF only when the whole body arrived and the job succeeded.
// Closing it early makes the middleware's job fail on a broken pipe.
type Stream struct {
	c        *Client
	ctx      context.Context
	method   string
	body     io.ReadCloser
	total    int64
	n        int64
	progress ProgressFunc
	jobDone  bool
	res      *Result
	err      error
}

// JobID is the job producing the file.
func (s *Stream) JobID() string { return s.res.JobID }

// Filename is the file name the server sent (or the one asked for).
func (s *Stream) Filename() string { return s.res.Filename }

// Size is the body's length, or -1 for a chunked body (the middleware
// always sends chunked).
func (s *Stream) Size() int64 { return s.total }

// Result is the transfer's outcome so far; after Read returned io.EOF its
// Job is the job's final state.
func (s *Stream) Result() *Result { r := *s.res; r.Bytes = s.n; return &r }

func (s *Stream) resultOrNil() *Result {
	if s == nil || s.res == nil || s.res.JobID == "" {
		return nil
	}
	return s.Result()
}

// Read reads the file.
func (s *Stream) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if s.body == nil {
		s.err = errors.New("upload: read from a closed download")
		return 0, s.err
	}
	n, err := s.body.Read(p)
	if n > 0 {
		s.n += int64(n)
		s.report()
	}
	switch {
	case err == nil:
	case err == io.EOF:
		s.err = s.finish()
	default:
		s.err = &TransferError{Op: opDownload, Method: s.method, JobID: s.res.JobID, Kind: ErrIncomplete,
			Err: fmt.Errorf("after %d bytes: %w", s.n, err)}
	}
	return n, s.err
}

func (s *Stream) report() {
	if s.progress == nil && s.c.progress == nil {
		return
	}
	p := Progress{Op: opDownload, Name: s.res.Filename, Done: s.n, Total: s.total}
	if s.progress != nil {
		s.progress(p)
	}
	if s.c.progress != nil {
		s.c.progress(p)
	}
}

// finish checks a body that ended: its length, then the job's final state
// (a job that failed half-way closes its pipe and the body ends cleanly).
func (s *Stream) finish() error {
	if s.total >= 0 && s.n != s.total {
		return &TransferError{Op: opDownload, Method: s.method, JobID: s.res.JobID, Kind: ErrIncomplete,
			Err: fmt.Errorf("got %d of %d bytes: %w", s.n, s.total, io.ErrUnexpectedEOF)}
	}
	if !s.jobDone {
		job, err := s.c.wait(s.ctx, s.res.JobID)
		s.res.Job = job
		s.jobDone = true
		if err != nil {
			return &TransferError{Op: opDownload, Method: s.method, JobID: s.res.JobID, Kind: ErrIncomplete, Err: err}
		}
	}
	s.c.debug(s.ctx, "longrun: download done", "method", s.method, "job", s.res.JobID, "bytes", s.n)
	return io.EOF
}

// Close ends the download.
func (s *Stream) Close() error {
	if s.body == nil {
		return nil
	}
	err := s.body.Close()
	s.body = nil
	if s.err == nil {
		s.err = errors.New("upload: read from a closed download")
	}
	return err
}

// copyTo drains the stream into w with one buffer and closes it.
func (s *Stream) copyTo(w io.Writer) (*Result, error) {
	defer s.Close()
	buf := make([]byte, copyBufferSize)
	for {
		n, err := s.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return s.Result(), fmt.Errorf("upload: writing the download: %w", werr)
			}
		}
		if err == io.EOF {
			return s.Result(), nil
		}
		if err != nil {
			return s.Result(), err
		}
	}
}
