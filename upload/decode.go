package upload

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/url"
	"strconv"
	"strings"
)

// UploadReply is the body /_upload answers once the job has consumed every
// file part: {"job_id": N}. Fields the server adds later are kept in Extra.
type UploadReply struct {
	JobID int64 `json:"job_id"`
	// Extra holds any other member of the reply, unmodified.
	Extra map[string]json.RawMessage `json:"-"`
}

// maxReplyBytes bounds the /_upload reply this package reads.
const maxReplyBytes = 64 << 10

// ParseUploadReply decodes the body of a 200 answer from /_upload. A body
// that is not a JSON object with a positive integer job_id is an error
// matching ErrProtocol.
func ParseUploadReply(body []byte) (UploadReply, error) {
	var members map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&members); err != nil {
		return UploadReply{}, fmt.Errorf("%w: upload reply is not a JSON object: %v", ErrProtocol, err)
	}
	if dec.More() {
		return UploadReply{}, fmt.Errorf("%w: trailing data after the upload reply", ErrProtocol)
	}
	raw, ok := members["job_id"]
	if !ok {
		return UploadReply{}, fmt.Errorf("%w: upload reply has no job_id", ErrProtocol)
	}
	id, err := parseJobID(raw)
	if err != nil {
		return UploadReply{}, fmt.Errorf("%w: upload reply: %v", ErrProtocol, err)
	}
	delete(members, "job_id")
	r := UploadReply{JobID: id}
	if len(members) > 0 {
		r.Extra = members
	}
	return r, nil
}

// MarshalJSON re-encodes the reply with its extra members.
func (r UploadReply) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(r.Extra)+1)
	for k, v := range r.Extra {
		m[k] = v
	}
	m["job_id"] = r.JobID
	return json.Marshal(m)
}

// parseJobID reads a positive integer job id from a JSON number.
func parseJobID(raw json.RawMessage) (int64, error) {
	s := strings.TrimSpace(string(raw))
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("job id %.40q is not a positive integer", s)
	}
	return id, nil
}

// DownloadTicket is the result of core.download: the job that produces the
// file and the path to GET it from, "/_download/<job>?auth_token=<token>".
// Its String method hides the token.
type DownloadTicket struct {
	JobID int64
	// Path is the server-relative URL, auth_token included. Treat it as a
	// secret: it is a single-use credential for five minutes.
	Path string
}

// String renders the ticket with its token redacted.
func (t DownloadTicket) String() string {
	return fmt.Sprintf("job %d at %s", t.JobID, redactPath(t.Path))
}

// ParseDownloadTicket decodes the result of core.download: the JSON array
// [job_id, "/_download/<job_id>?auth_token=..."]. core.job_download_logs
// returns the path alone; pass jobID 0 and a JSON string for that form and
// the job id is read from the path.
func ParseDownloadTicket(result []byte) (DownloadTicket, error) {
	result = bytes.TrimSpace(result)
	var t DownloadTicket
	if len(result) > 0 && result[0] == '"' {
		if err := json.Unmarshal(result, &t.Path); err != nil {
			return DownloadTicket{}, fmt.Errorf("%w: download path: %v", ErrProtocol, err)
		}
	} else {
		var pair []json.RawMessage
		if err := json.Unmarshal(result, &pair); err != nil {
			return DownloadTicket{}, fmt.Errorf("%w: core.download result is not [job_id, path]: %v", ErrProtocol, errors.Unwrap(err))
		}
		if len(pair) != 2 {
			return DownloadTicket{}, fmt.Errorf("%w: core.download result has %d members, want 2", ErrProtocol, len(pair))
		}
		id, err := parseJobID(pair[0])
		if err != nil {
			return DownloadTicket{}, fmt.Errorf("%w: core.download: %v", ErrProtocol, err)
		}
		if err := json.Unmarshal(pair[1], &t.Path); err != nil {
			return DownloadTicket{}, fmt.Errorf("%w: core.download path is not a string", ErrProtocol)
		}
		t.JobID = id
	}
	id, err := jobIDFromPath(t.Path)
	if err != nil {
		return DownloadTicket{}, err
	}
	if t.JobID == 0 {
		t.JobID = id
	} else if id != t.JobID {
		return DownloadTicket{}, fmt.Errorf("%w: core.download returned job %d but a path for job %d", ErrProtocol, t.JobID, id)
	}
	return t, nil
}

// jobIDFromPath reads the job id from "/_download/<id>?auth_token=...".
func jobIDFromPath(p string) (int64, error) {
	u, err := url.Parse(p)
	if err != nil {
		return 0, fmt.Errorf("%w: download path does not parse", ErrProtocol)
	}
	if u.Scheme != "" || u.Host != "" || !strings.HasPrefix(u.Path, "/_download/") {
		return 0, fmt.Errorf("%w: download path %q is not /_download/<job>", ErrProtocol, redactPath(p))
	}
	last := u.Path[strings.LastIndexByte(u.Path, '/')+1:]
	id, err := strconv.ParseInt(last, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%w: download path %q does not end in a job id", ErrProtocol, redactPath(p))
	}
	return id, nil
}

// redactPath hides the auth_token of a download path.
func redactPath(p string) string {
	i := strings.IndexByte(p, '?')
	if i < 0 {
		return p
	}
	u, err := url.Parse(p)
	if err != nil {
		return p[:i] + "?REDACTED"
	}
	q := u.Query()
	for k := range q {
		q[k] = []string{"REDACTED"}
	}
	return u.Path + "?" + q.Encode()
}

// ParseDisposition reads the file name from a Content-Disposition header
// such as `attachment; filename="freenas.db"`. The middleware writes the
// name between quotes without escaping, so a name that mime cannot parse
// is read by hand. Only the base name is returned, never a path.
func ParseDisposition(header string) (string, bool) {
	if header == "" {
		return "", false
	}
	name := ""
	if _, params, err := mime.ParseMediaType(header); err == nil {
		name = params["filename"]
	} else {
		i := indexFold(header, "filename=")
		if i < 0 {
			return "", false
		}
		v := strings.TrimSpace(header[i+len("filename="):])
		if strings.HasPrefix(v, `"`) {
			v = v[1:]
			if j := strings.LastIndexByte(v, '"'); j >= 0 {
				v = v[:j]
			}
		} else if j := strings.IndexByte(v, ';'); j >= 0 {
			v = v[:j]
		}
		name = v
	}
	name = safeBase(name)
	return name, name != ""
}

// indexFold is strings.Index ignoring ASCII case, with indexes into s
// itself (lower-casing s first could change its length).
func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}

// safeBase strips directories, control characters and dot names from a
// server-supplied file name.
func safeBase(name string) string {
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, name)
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.TrimSpace(name)
	if name == "." || name == ".." {
		return ""
	}
	return name
}
