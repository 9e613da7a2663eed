package truenas

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"unsafe"
)

// getJobs is core.get_jobs(filters, options). Each job's entry is encoded
// once per change and decoded (for the filters) once per change, outside
// the global lock; the answer reuses the encoded entries, so it keeps the
// middleware's key order and costs no re-encoding.
func (b *Backend) getJobs(cred *Credentials, filters, options json.RawMessage) (any, error) {
	type todo struct {
		j   *Job
		raw json.RawMessage
		at  int
	}
	b.mu.Lock()
	docs := make([]any, 0, len(b.jobs))
	raws := make([]json.RawMessage, 0, len(b.jobs))
	var pending []todo
	for _, id := range b.order {
		j := b.jobs[id]
		if j == nil || !(cred.FullAdmin() || (j.cred != nil && j.cred.User.Name == cred.User.Name)) {
			continue
		}
		raw := j.encodeLocked()
		if j.doc == nil {
			pending = append(pending, todo{j, raw, len(docs)})
		}
		docs = append(docs, j.doc)
		raws = append(raws, raw)
	}
	b.mu.Unlock()
	for i := range pending {
		var doc any
		dec := json.NewDecoder(bytes.NewReader(pending[i].raw))
		dec.UseNumber()
		if dec.Decode(&doc) != nil {
			doc = map[string]any{}
		}
		docs[pending[i].at] = normNumbers(doc)
	}
	if len(pending) > 0 {
		b.mu.Lock()
		for _, p := range pending {
			// Keep the decoded form only if the job has not changed since.
			if len(p.j.raw) > 0 && len(p.raw) > 0 && &p.j.raw[0] == &p.raw[0] {
				p.j.doc = docs[p.at]
			}
		}
		b.mu.Unlock()
	}
	byDoc := make(map[unsafe.Pointer]json.RawMessage, len(docs))
	for i, d := range docs {
		if m, ok := d.(map[string]any); ok {
			byDoc[reflect.ValueOf(m).UnsafePointer()] = raws[i]
		}
	}
	res, err := filterList(docs, filters, options, queryModel(b.release().queryArgs))
	if err != nil {
		return nil, err
	}
	rawOf := func(d any) (json.RawMessage, bool) {
		m, ok := d.(map[string]any)
		if !ok {
			return nil, false
		}
		r, ok := byDoc[reflect.ValueOf(m).UnsafePointer()]
		return r, ok
	}
	switch r := res.(type) {
	case []any:
		var sb strings.Builder
		n := 2
		for _, d := range r {
			if raw, ok := rawOf(d); ok {
				n += len(raw) + 1
			}
		}
		sb.Grow(n)
		sb.WriteByte('[')
		for i, d := range r {
			if i > 0 {
				sb.WriteByte(',')
			}
			if raw, ok := rawOf(d); ok {
				sb.Write(raw)
			} else {
				sb.Write(encodeJSON(d))
			}
		}
		sb.WriteByte(']')
		return trustedJSON(sb.String()), nil
	case map[string]any:
		if raw, ok := rawOf(r); ok {
			return trustedJSON(raw), nil
		}
	}
	return res, nil
}
