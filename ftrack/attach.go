package ftrack

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/longrun/longrun/internal/redact"
	"github.com/longrun/longrun/rest"
)

// NewID returns a random (version 4) uuid, the form of ftrack entity ids.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hex = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hex[c>>4], hex[c&0x0f])
	}
	return string(out)
}

// Attachment is a file attached to a job: a FileComponent in the
// ftrack.server location linked by a JobComponent.
type Attachment struct {
	// ComponentID is the FileComponent's id, which Download and
	// DownloadURL take.
	ComponentID string
	// JobID is the job the file is attached to.
	JobID string
	// Name is the component's name, FileType its extension with the dot.
	Name     string
	FileType string
	// Size is the file's size in bytes.
	Size int64
}

// FileName is Name followed by FileType.
func (a Attachment) FileName() string { return a.Name + a.FileType }

// splitName splits "build.log" into "build" and ".log".
func splitName(name string) (string, string) {
	base := path.Base(strings.ReplaceAll(name, `\`, "/"))
	ext := path.Ext(base)
	if ext == base {
		ext = ""
	}
	return strings.TrimSuffix(base, ext), ext
}

// uploadConfig is how Attach splits a file into parts.
type uploadConfig struct {
	parallel int                        // parts in flight at once
	partSize func(int64) (int64, error) // part size for a file size
}

// defaultUpload is the JavaScript client's: up to 6 parts in flight, its
// part sizes.
var defaultUpload = uploadConfig{parallel: 6, partSize: PartSize}

// MaxUploadSize is the largest file a multipart upload takes: 10,000 parts
// of 128 MiB (1,280 GB), as ftrack's JavaScript client computes it.
const MaxUploadSize = 10000 * 128 << 20

// PartSize is the part size ftrack's JavaScript client uploads a file of
// size bytes in: 8 MiB up to 128 MiB, 16 MiB up to 1 GiB, 32 MiB up to
// 8 GiB, 64 MiB up to 64 GiB, 128 MiB above; a file larger than
// MaxUploadSize is an error. A file of at most two parts (16 MiB and less)
// goes up in one PUT.
func PartSize(size int64) (int64, error) {
	const mib, gib = 1 << 20, 1 << 30
	switch {
	case size > MaxUploadSize:
		return 0, fmt.Errorf("ftrack: a file of %d bytes is larger than the maximum allowed (1,280 GB)", size)
	case size > 64*gib:
		return 128 * mib, nil
	case size > 8*gib:
		return 64 * mib, nil
	case size > 1*gib:
		return 32 * mib, nil
	case size > 128*mib:
		return 16 * mib, nil
	}
	return 8 * mib, nil
}

// WithUploadParallelism sets how many parts of a multipart upload from an
// io.ReaderAt are sent at once (default 6, as the JavaScript client; 1 to
// 64).
func WithUploadParallelism(n int) Option {
	return func(o *options) error {
		if n < 1 || n > 64 {
			return fmt.Errorf("ftrack: upload parallelism %d is not within 1..64", n)
		}
		o.upload.parallel = n
		return nil
	}
}

// WithPartSize makes Attach upload in parts of n bytes (at least 5 MiB, the
// storage's minimum) instead of the JavaScript client's sizes; a file of at
// most two parts still goes up in one PUT.
func WithPartSize(n int64) Option {
	return func(o *options) error {
		if n < 5<<20 {
			return fmt.Errorf("ftrack: part size %d is below the storage's minimum of 5 MiB", n)
		}
		o.upload.partSize = func(size int64) (int64, error) {
			if (size+n-1)/n > 10000 {
				return 0, fmt.Errorf("ftrack: a file of %d bytes needs more than 10,000 parts of %d bytes", size, n)
			}
			return n, nil
		}
		return nil
	}
}

// Attach uploads size bytes read from r as a file called name and attaches
// it to the job, the way ftrack's own clients do: one batch creates the
// FileComponent and asks get_upload_metadata, the bytes go to the returned
// URLs, and a last batch (completing a multipart upload) registers a
// ComponentLocation in ftrack.server and creates the JobComponent.
//
// A file of up to two parts (16 MiB with the default part sizes, see
// PartSize) is one PUT, streamed. A larger one is a multipart upload, as
// the JavaScript client makes it: when r is an io.ReaderAt (an *os.File,
// a bytes.Reader) its parts go up several at once (see
// WithUploadParallelism), each read straight from r; from any other
// reader they go up one after the other, each streamed. Either way
// nothing is buffered: memory stays constant whatever the size. Nothing
// is retried or resumed: if any PUT or batch fails, Attach deletes the
// FileComponent it created (which drops what the storage holds of it) and
// returns the error.
//
// A single-PUT file read from an io.ReadSeeker is read once first to send
// its MD5 as checksum (the Content-MD5 the storage verifies). r must yield
// exactly size bytes.
func (s *Session) Attach(ctx context.Context, jobID, name string, r io.Reader, size int64) (*Attachment, error) {
	if size < 0 {
		return nil, fmt.Errorf("ftrack: attach %q: negative size %d", name, size)
	}
	base, ext := splitName(name)
	if base == "" {
		return nil, fmt.Errorf("ftrack: attach: empty file name %q", name)
	}
	partSize, err := s.upload.partSize(size)
	if err != nil {
		return nil, err
	}
	parts := int((size + partSize - 1) / partSize)
	if parts <= 2 {
		parts = 0
	}
	checksum := ""
	if rs, ok := r.(io.ReadSeeker); ok && parts == 0 {
		sum, err := md5Of(rs, size)
		if err != nil {
			return nil, fmt.Errorf("ftrack: attach %q: checksum: %w", name, err)
		}
		checksum = sum
	}
	compID := NewID()
	sz := size
	comp := FileComponent{ID: compID, Name: base, FileType: ext, Size: &sz, SystemType: "file"}
	res, err := s.Call(ctx,
		CreateOperation{EntityType: "FileComponent", EntityKey: []string{compID}, EntityData: comp},
		GetUploadMetadataOperation{ComponentID: compID, FileName: base + ext, FileSize: size, Checksum: checksum, Parts: parts},
	)
	if err != nil {
		return nil, err
	}
	var ops []Operation
	if parts == 0 {
		var md UploadMetadata
		if err := res[1].Decode(&md); err != nil {
			return nil, s.cleanup(ctx, compID, err)
		}
		if err := s.put(ctx, compID, md, r, size); err != nil {
			return nil, s.cleanup(ctx, compID, err)
		}
	} else {
		var md MultipartUploadMetadata
		if err := res[1].Decode(&md); err != nil {
			return nil, s.cleanup(ctx, compID, err)
		}
		done, err := s.putParts(ctx, compID, md, r, size, partSize, parts)
		if err != nil {
			return nil, s.cleanup(ctx, compID, err)
		}
		ops = append(ops, CompleteMultipartUploadOperation{ComponentID: compID, UploadID: md.UploadID, Parts: done})
	}
	clID := NewID()
	ops = append(ops,
		CreateOperation{EntityType: "ComponentLocation", EntityKey: []string{clID}, EntityData: ComponentLocation{
			ID: clID, ComponentID: compID, LocationID: ServerLocationID, ResourceIdentifier: compID}},
		CreateOperation{EntityType: "JobComponent", EntityKey: []string{compID, jobID}, EntityData: JobComponent{
			ComponentID: compID, JobID: jobID}},
	)
	if _, err := s.Call(ctx, ops...); err != nil {
		return nil, s.cleanup(ctx, compID, err)
	}
	return &Attachment{ComponentID: compID, JobID: jobID, Name: base, FileType: ext, Size: size}, nil
}

// cleanup deletes the FileComponent of a failed upload, as the JavaScript
// client's uploader does, even when ctx has ended, and returns err (with
// the clean-up's own failure joined to it).
func (s *Session) cleanup(ctx context.Context, compID string, err error) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if _, derr := s.Call(cctx, DeleteOperation{EntityType: "FileComponent", EntityKey: []string{compID}}); derr != nil {
		return errors.Join(err, fmt.Errorf("ftrack: cleaning up component %s: %w", compID, derr))
	}
	return err
}

// putParts sends the parts of a multipart upload, parallel at once, and
// returns them in ascending order with their ETags.
func (s *Session) putParts(ctx context.Context, compID string, md MultipartUploadMetadata, r io.Reader, size, partSize int64, parts int) ([]UploadedPart, error) {
	urls := make([]string, parts+1)
	for _, u := range md.URLs {
		if u.PartNumber < 1 || u.PartNumber > parts || urls[u.PartNumber] != "" {
			return nil, fmt.Errorf("%w: get_upload_metadata answered part number %d for %d parts", ErrMalformedResponse, u.PartNumber, parts)
		}
		urls[u.PartNumber] = u.SignedURL
	}
	if len(md.URLs) != parts || md.UploadID == "" {
		return nil, fmt.Errorf("%w: get_upload_metadata answered %d part URLs and upload id %q for %d parts", ErrMalformedResponse, len(md.URLs), md.UploadID, parts)
	}
	done := make([]UploadedPart, parts)
	ra, isAt := r.(io.ReaderAt)
	if !isAt {
		// One part after the other, each streamed from r: memory stays
		// constant whatever the size.
		for n := 1; n <= parts; n++ {
			length := min(partSize, size-int64(n-1)*partSize)
			etag, err := s.putPart(ctx, compID, urls[n], n, io.LimitReader(r, length), length)
			if err != nil {
				return nil, err
			}
			done[n-1] = UploadedPart{PartNumber: n, ETag: etag}
		}
		return done, nil
	}
	var origin int64
	if sk, ok := r.(io.Seeker); ok {
		if off, err := sk.Seek(0, io.SeekCurrent); err == nil {
			origin = off
		}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	var once sync.Once
	var firstErr error
	for range min(s.upload.parallel, parts) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range next {
				off := int64(n-1) * partSize
				length := min(partSize, size-off)
				etag, err := s.putPart(ctx, compID, urls[n], n, io.NewSectionReader(ra, origin+off, length), length)
				if err != nil {
					once.Do(func() { firstErr = err; cancel(err) })
					continue
				}
				done[n-1] = UploadedPart{PartNumber: n, ETag: etag}
			}
		}()
	}
feed:
	for n := 1; n <= parts; n++ {
		select {
		case next <- n:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	return done, nil
}

// putPart sends one part and returns the ETag the storage answered.
func (s *Session) putPart(ctx context.Context, compID, rawURL string, n int, body io.Reader, size int64) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return "", &UploadError{ComponentID: compID, URL: "(unusable part URL)", Err: fmt.Errorf("part %d: get_upload_metadata returned no http(s) URL", n)}
	}
	redacted := redact.URL(u)
	cr := &countReader{r: body}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u.String(), cr)
	if err != nil {
		return "", &UploadError{ComponentID: compID, URL: redacted, Err: err}
	}
	req.ContentLength = size
	if s.logger != nil {
		s.logger.DebugContext(ctx, "longrun: ftrack upload part", "component_id", compID, "part", n, "url", redacted, "size", size)
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", &UploadError{ComponentID: compID, URL: redacted, Err: fmt.Errorf("part %d: %w", n, err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return "", &UploadError{ComponentID: compID, URL: redacted, StatusCode: resp.StatusCode,
			Body: s.redact(strings.TrimSpace(string(snippet))), Err: fmt.Errorf("part %d", n)}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if cr.n != size {
		return "", &UploadError{ComponentID: compID, URL: redacted, Err: fmt.Errorf("part %d: sent %d of %d bytes", n, cr.n, size)}
	}
	etag := strings.Trim(resp.Header.Get("ETag"), `"`)
	if etag == "" {
		return "", &UploadError{ComponentID: compID, URL: redacted, StatusCode: resp.StatusCode, Err: fmt.Errorf("part %d: the storage answered no ETag", n)}
	}
	return etag, nil
}

// Remove deletes an attachment: its bytes in ftrack.server (GET
// /component/remove, as ftrack_api's server accessor does; a component
// with no stored bytes is fine) and its FileComponent, with which the
// server drops the component's JobComponents and ComponentLocations. A
// component the server does not know matches jobs.ErrNotFound.
func (s *Session) Remove(ctx context.Context, componentID string) error {
	u := s.server.JoinPath("component", "remove")
	q := url.Values{}
	q.Set("id", componentID)
	q.Set("username", s.user)
	q.Set("apiKey", s.apiKey)
	u.RawQuery = q.Encode()
	redacted := redact.URL(s.server.JoinPath("component", "remove")) + "?id=" + url.QueryEscape(componentID)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return &rest.RequestError{Method: http.MethodGet, URL: redacted, Err: errors.New("bad request")}
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return &rest.RequestError{Method: http.MethodGet, URL: redacted, Err: err}
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode >= 400 && resp.StatusCode != http.StatusNotFound {
		b = []byte(s.redact(string(b)))
		e := &rest.APIError{StatusCode: resp.StatusCode, Method: http.MethodGet, URL: redacted, Body: b, Header: resp.Header.Clone()}
		errorDecoder(e, b)
		if se, ok := e.Details.(*ServerError); ok {
			se.HTTP = e
			return se
		}
		return e
	}
	_, err = s.Call(ctx, DeleteOperation{EntityType: "FileComponent", EntityKey: []string{componentID}})
	return err
}

func md5Of(rs io.ReadSeeker, size int64) (string, error) {
	start, err := rs.Seek(0, io.SeekCurrent)
	if err != nil {
		return "", err
	}
	h := md5.New()
	n, err := io.Copy(h, io.LimitReader(rs, size))
	if err != nil {
		return "", err
	}
	if n != size {
		return "", fmt.Errorf("reader holds %d bytes, not %d", n, size)
	}
	if _, err := rs.Seek(start, io.SeekStart); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(h.Sum(nil)), nil
}

// countReader counts what the transport read.
type countReader struct {
	r io.Reader
	n int64
}

// Read reads from the underlying reader and counts the bytes.
func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// put streams the bytes to the upload URL. The request carries none of the
// session's headers: the URL is usually a signed storage URL, and the api
// key must not travel there.
func (s *Session) put(ctx context.Context, compID string, md UploadMetadata, r io.Reader, size int64) error {
	u, err := url.Parse(md.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return &UploadError{ComponentID: compID, URL: "(unusable upload URL)", Err: errors.New("get_upload_metadata returned no http(s) URL")}
	}
	if !u.IsAbs() {
		u = s.server.ResolveReference(u)
	}
	redacted := redact.URL(u)
	body := &countReader{r: io.LimitReader(r, size)}
	var rb io.Reader = body
	if size == 0 {
		rb = http.NoBody
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u.String(), rb)
	if err != nil {
		return &UploadError{ComponentID: compID, URL: redacted, Err: err}
	}
	req.ContentLength = size
	for k, v := range md.Headers {
		if strings.EqualFold(k, "Content-Length") {
			continue
		}
		req.Header.Set(k, v)
	}
	if s.logger != nil {
		s.logger.DebugContext(ctx, "longrun: ftrack upload", "component_id", compID, "url", redacted, "size", size)
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return &UploadError{ComponentID: compID, URL: redacted, Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return &UploadError{ComponentID: compID, URL: redacted, StatusCode: resp.StatusCode,
			Body: s.redact(strings.TrimSpace(string(snippet)))}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if body.n != size {
		return &UploadError{ComponentID: compID, URL: redacted, Err: fmt.Errorf("sent %d of %d bytes", body.n, size)}
	}
	return nil
}

// Attachments lists the files attached to a job.
func (s *Session) Attachments(ctx context.Context, jobID string) ([]Attachment, error) {
	list, _, err := Query[JobComponent](ctx, s, "select component_id, job_id, component.name, component.file_type, component.size from JobComponent where job_id is "+Quote(jobID))
	if err != nil {
		return nil, err
	}
	out := make([]Attachment, 0, len(list))
	for _, jc := range list {
		a := Attachment{ComponentID: jc.ComponentID, JobID: jc.JobID}
		if c := jc.Component; c != nil {
			a.Name, a.FileType = c.Name, c.FileType
			if c.Size != nil {
				a.Size = *c.Size
			}
		}
		out = append(out, a)
	}
	return out, nil
}

// DownloadURL is where a browser or curl downloads a component stored in
// ftrack.server: {server}/component/get?id=...&username=...&apiKey=....
// It carries the api key in clear, as the server requires: treat it as a
// secret, never log it; RedactedDownloadURL is the form to show.
func (s *Session) DownloadURL(componentID string) string {
	return s.downloadURL(componentID, s.apiKey).String()
}

// RedactedDownloadURL is DownloadURL with the api key replaced by REDACTED.
func (s *Session) RedactedDownloadURL(componentID string) string {
	return s.downloadURL(componentID, "REDACTED").String()
}

func (s *Session) downloadURL(componentID, key string) *url.URL {
	u := s.server.JoinPath("component", "get")
	q := url.Values{}
	q.Set("id", componentID)
	q.Set("username", s.user)
	q.Set("apiKey", key)
	u.RawQuery = q.Encode()
	return u
}

// Download streams a component's bytes from the server location. The
// caller reads and closes the body; its length is in the response's
// ContentLength when the server sent one. Errors show the URL redacted.
func (s *Session) Download(ctx context.Context, componentID string) (io.ReadCloser, int64, error) {
	u := s.downloadURL(componentID, s.apiKey)
	redacted := redact.URL(s.downloadURL(componentID, "REDACTED"))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, 0, &rest.RequestError{Method: http.MethodGet, URL: redacted, Err: errors.New("bad request")}
	}
	if s.logger != nil {
		s.logger.DebugContext(ctx, "longrun: ftrack download", "component_id", componentID, "url", redacted)
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, 0, &rest.RequestError{Method: http.MethodGet, URL: redacted, Err: err}
	}
	if resp.StatusCode >= 400 {
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		b = []byte(s.redact(string(b)))
		e := &rest.APIError{StatusCode: resp.StatusCode, Method: http.MethodGet, URL: redacted, Body: b, Header: resp.Header.Clone()}
		errorDecoder(e, b)
		if se, ok := e.Details.(*ServerError); ok {
			se.HTTP = e
			return nil, 0, se
		}
		return nil, 0, e
	}
	return resp.Body, resp.ContentLength, nil
}
