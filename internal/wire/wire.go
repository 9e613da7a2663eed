// Package wire holds the JSON plumbing the CloudSigma wire types share:
// decoding an object into a typed struct in one pass while keeping the
// members the struct does not model, re-encoding it without losing any of
// them, the one-pass validating Scanner both that and the CloudSigma job
// decoder read with, and a cheap nesting-depth check that runs before
// encoding/json sees a document.
package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
)

// Keys remembers which members a decoded object carried, so that a member
// the server sent as null, false, 0 or [] is sent back as such, while a
// value built in Go leaves its zero fields out.
type Keys []string

// Encode encodes v (an alias struct whose tags carry no omitempty) and adds
// extra. A member that was not among keys is left out when its value is
// zero (null, false, 0, "", [] or {}).
func Encode(v any, extra map[string]json.RawMessage, keys Keys) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	present := make(map[string]bool, len(keys))
	for _, k := range keys {
		present[k] = true
	}
	for k, raw := range m {
		if !present[k] && isZero(raw) {
			delete(m, k)
		}
	}
	for k, raw := range extra {
		if _, ok := m[k]; !ok && json.Valid(raw) {
			m[k] = raw
		}
	}
	return json.Marshal(m)
}

// decodeTwice is what Decode did before it read documents once: one
// json.Unmarshal into a map of raw members and one into v. Decode falls
// back on it for types its plan does not cover and for bad input (so
// errors stay encoding/json's own), and the fuzz test holds Decode to it.
func decodeTwice(data []byte, v any) (extra map[string]json.RawMessage, keys Keys, err error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, nil, err
	}
	if m == nil {
		return nil, nil, nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return nil, nil, err
	}
	known := fieldNames(reflect.TypeOf(v).Elem())
	keys = make(Keys, 0, len(m))
	for k, raw := range m {
		keys = append(keys, k)
		if _, ok := known[strings.ToLower(k)]; ok {
			continue
		}
		if extra == nil {
			extra = make(map[string]json.RawMessage)
		}
		extra[k] = append(json.RawMessage(nil), raw...)
	}
	return extra, keys, nil
}

func isZero(raw json.RawMessage) bool {
	switch string(bytes.TrimSpace(raw)) {
	case "null", "false", "0", `""`, "[]", "{}":
		return true
	}
	return false
}

var fieldCache sync.Map // reflect.Type -> map[string]struct{}

func fieldNames(t reflect.Type) map[string]struct{} {
	if v, ok := fieldCache.Load(t); ok {
		return v.(map[string]struct{})
	}
	names := map[string]struct{}{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		names[strings.ToLower(name)] = struct{}{}
	}
	fieldCache.Store(t, names)
	return names
}

// ErrTooDeep is wrapped by the error Depth returns.
var ErrTooDeep = errors.New("wire: JSON nests too deep")

// Depth checks that data nests no deeper than max arrays and objects,
// scanning it once without decoding. It does not validate the JSON. It is
// what keeps a hostile, deeply nested document from ever reaching the
// recursive decoders.
func Depth(data []byte, max int) error {
	depth := 0
	inString := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
			if depth > max {
				return fmt.Errorf("%w: more than %d levels at byte %d", ErrTooDeep, max, i)
			}
		case '}', ']':
			depth--
		}
	}
	return nil
}

// IsDepthError reports whether err is encoding/json's own nesting limit.
func IsDepthError(err error) bool {
	return err != nil && strings.Contains(err.Error(), "exceeded max depth")
}
