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

// Attach uploads size bytes read from r as a file called name and attaches
// it to the job, the way the reference clients do: one batch creates the
// FileComponent and asks get_upload_metadata, the bytes are PUT to the
// returned URL with its headers (streamed, never held in memory, never
// retried), and a second batch registers a ComponentLocation in
// ftrack.server and creates the JobComponent.
//
// When r is an io.ReadSeeker (an *os.File), Attach first reads it once to
// send its MD5 as checksum (the Content-MD5 the storage verifies) and seeks
// back; any other reader is sent without a checksum. r must yield exactly
// size bytes.
func (s *Session) Attach(ctx context.Context, jobID, name string, r io.Reader, size int64) (*Attachment, error) {
	if size < 0 {
		return nil, fmt.Errorf("ftrack: attach %q: negative size %d", name, size)
	}
	base, ext := splitName(name)
	if base == "" {
		return nil, fmt.Errorf("ftrack: attach: empty file name %q", name)
	}
	checksum := ""
	if rs, ok := r.(io.ReadSeeker); ok {
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
		GetUploadMetadataOperation{ComponentID: compID, FileName: base + ext, FileSize: size, Checksum: checksum},
	)
	if err != nil {
		return nil, err
	}
	var md UploadMetadata
	if err := res[1].Decode(&md); err != nil {
		return nil, err
	}
	if err := s.put(ctx, compID, md, r, size); err != nil {
		return nil, err
	}
	clID := NewID()
	_, err = s.Call(ctx,
		CreateOperation{EntityType: "ComponentLocation", EntityKey: []string{clID}, EntityData: ComponentLocation{
			ID: clID, ComponentID: compID, LocationID: ServerLocationID, ResourceIdentifier: compID}},
		CreateOperation{EntityType: "JobComponent", EntityKey: []string{compID, jobID}, EntityData: JobComponent{
			ComponentID: compID, JobID: jobID}},
	)
	if err != nil {
		return nil, err
	}
	return &Attachment{ComponentID: compID, JobID: jobID, Name: base, FileType: ext, Size: size}, nil
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
	redacted := rest.RedactURL(u)
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
			Body: redactSecret(rest.RedactString(strings.TrimSpace(string(snippet))), s.apiKey)}
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
	redacted := rest.RedactURL(s.downloadURL(componentID, "REDACTED"))
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
		b = []byte(redactSecret(string(b), s.apiKey))
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
