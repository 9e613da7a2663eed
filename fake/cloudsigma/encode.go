package cloudsigma

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// This file writes the documents the fake serves most often (jobs, in
// lists, alone and in websocket frames) straight into a byte slice, with
// no map and no reflection. Every byte is what encoding/json writes for
// jobDoc's map: keys in sorted order, HTML characters escaped, raw
// documents compacted (TestAppendJobIsJSONMarshal holds the two equal).

// appendString appends s as encoding/json writes a string.
func appendString(buf []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			raw, _ := json.Marshal(s) // a string always encodes
			return append(buf, raw...)
		}
	}
	buf = append(buf, '"')
	buf = append(buf, s...)
	return append(buf, '"')
}

// appendTime appends t as fmtTime writes it, quoted.
func appendTime(buf []byte, t time.Time) []byte {
	buf = append(buf, '"')
	buf = t.UTC().AppendFormat(buf, TimeLayout)
	return append(buf, '"')
}

// appendRaw appends a raw document as encoding/json embeds a
// json.RawMessage: compacted, HTML characters escaped; an invalid
// document is an error, as it is for json.Marshal.
func appendRaw(buf []byte, raw json.RawMessage) ([]byte, error) {
	out, err := json.Marshal(raw)
	if err != nil {
		return buf, err
	}
	return append(buf, out...), nil
}

// encKey is what a leaf job's document depends on beyond what never
// changes (uuid, operation, created, resources): while it is the same,
// the cached encoding is the document.
type encKey struct {
	progress       int
	modified       int64
	state, message string
}

// appendJob appends job j's document (jobDoc's map, encoded) at depth.
// A leaf's encoding is cached until one of the fields it shows changes.
func (b *Backend) appendJob(buf []byte, j *job, now time.Time, depth int) ([]byte, error) {
	progress := b.progressLocked(j, now, depth)
	modified := b.modifiedLocked(j, now, depth)
	var key encKey
	leaf := len(j.children) == 0
	if leaf {
		key = encKey{progress, modified.UnixNano(), j.state, j.message}
		if j.enc != nil && j.encKey == key {
			return append(buf, j.enc...), nil
		}
	}
	start := len(buf)
	buf = append(buf, `{"children":[`...)
	n := 0
	for _, c := range j.children {
		if raw, ok := b.overrides[c]; ok {
			if n > 0 {
				buf = append(buf, ',')
			}
			var err error
			if buf, err = appendRaw(buf, raw); err != nil {
				return buf, err
			}
			n++
			continue
		}
		if cj := b.jobs[c]; cj != nil && depth < 32 {
			if n > 0 {
				buf = append(buf, ',')
			}
			var err error
			if buf, err = b.appendJob(buf, cj, now, depth+1); err != nil {
				return buf, err
			}
			n++
		}
	}
	buf = append(buf, `],"created":`...)
	buf = appendTime(buf, j.created)
	buf = append(buf, `,"data":{`...)
	if j.message != "" {
		buf = append(buf, `"error_message":`...)
		buf = appendString(buf, j.message)
		buf = append(buf, ',')
	}
	buf = append(buf, `"progress":`...)
	buf = strconv.AppendInt(buf, int64(progress), 10)
	buf = append(buf, `},"last_modified":`...)
	buf = appendTime(buf, modified)
	buf = append(buf, `,"operation":`...)
	buf = appendString(buf, j.operation)
	buf = append(buf, `,"resource_uri":`...)
	buf = appendString(buf, Prefix+"jobs/"+j.uuid+"/")
	buf = append(buf, `,"resources":[`...)
	for i, r := range j.resources {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendString(buf, r)
	}
	buf = append(buf, `],"state":`...)
	buf = appendString(buf, j.state)
	buf = append(buf, `,"uuid":`...)
	buf = appendString(buf, j.uuid)
	buf = append(buf, '}')
	if leaf {
		j.enc, j.encKey = append(j.enc[:0], buf[start:]...), key
	}
	return buf, nil
}

// encodeJob is job j's document, encoded, as served alone.
func (b *Backend) encodeJob(j *job) ([]byte, error) {
	return b.appendJob(make([]byte, 0, 512), j, b.now(), 0)
}

// appendFrame appends one websocket frame, as encoding/json writes Frame:
// object appends the resource's encoded document, or is nil for a
// resource that is gone.
func appendFrame(buf []byte, kind, uuid string, object func(buf []byte) ([]byte, error)) ([]byte, error) {
	buf = append(buf, `{"resource_type":`...)
	buf = appendString(buf, kind)
	buf = append(buf, `,"resource_uri":`...)
	buf = appendString(buf, Prefix+kind+"/"+uuid+"/")
	if object != nil {
		buf = append(buf, `,"object":`...)
		var err error
		if buf, err = object(buf); err != nil {
			return nil, err
		}
	}
	return append(buf, '}'), nil
}

// listBuffers holds the buffers lists are encoded into, for the next
// list: a page of 1,000 jobs is about a megabyte.
// Buffers larger than maxPooledList (a limit=0 list of everything) are
// left to the garbage collector.
var listBuffers = sync.Pool{New: func() any { return new([]byte) }}

const maxPooledList = 8 << 20

// writeRaw writes an encoded JSON answer; a nil body is the error
// writeJSON answers when encoding fails.
func writeRaw(w http.ResponseWriter, status int, body []byte) {
	if body == nil {
		status, body = http.StatusInternalServerError, []byte(encodingFailed)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
