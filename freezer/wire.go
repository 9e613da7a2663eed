package freezer

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
)

// The wire codec keeps unknown keys. Each type has a static table of its
// known keys; a key whose value does not fit its typed field (a newer
// server that changed a type) is kept in the Extra map instead, so
// decoding never loses a byte of meaning and re-encoding gives the same
// document back. A known key that was present with a zero value is
// remembered and written back too.

type kind uint8

const (
	kString kind = iota
	kInt
	kBool
	kOther // decoded with encoding/json
)

type fieldDef[T any] struct {
	name string
	kind kind
	str  func(*T) *string
	num  func(*T) *int64
	flag func(*T) *bool
	// other fields: the pointer to decode into, and whether it is empty.
	ptr   func(*T) any
	empty func(*T) bool
	reset func(*T)
	// trusted decodes already-validated JSON without re-scanning it.
	trusted func(*T, []byte) error
}

func sField[T any](name string, f func(*T) *string) fieldDef[T] {
	return fieldDef[T]{name: name, kind: kString, str: f}
}

func iField[T any](name string, f func(*T) *int64) fieldDef[T] {
	return fieldDef[T]{name: name, kind: kInt, num: f}
}

func (f *fieldDef[T]) isEmpty(v *T) bool {
	switch f.kind {
	case kString:
		return *f.str(v) == ""
	case kInt:
		return *f.num(v) == 0
	case kBool:
		return !*f.flag(v)
	}
	return f.empty(v)
}

// set decodes raw into the field; false when the value does not fit.
func (f *fieldDef[T]) set(v *T, raw []byte) bool {
	switch f.kind {
	case kString:
		if s, ok := plainString(raw); ok {
			*f.str(v) = s
			return true
		}
		return json.Unmarshal(raw, f.str(v)) == nil
	case kInt:
		n, ok := parseInt(raw)
		if ok {
			*f.num(v) = n
		}
		return ok
	case kBool:
		switch string(raw) {
		case "true":
			*f.flag(v) = true
			return true
		case "false":
			*f.flag(v) = false
			return true
		}
		return false
	}
	var err error
	if f.trusted != nil {
		err = f.trusted(v, raw)
	} else {
		err = json.Unmarshal(raw, f.ptr(v))
	}
	if err == nil {
		return true
	}
	f.reset(v)
	return false
}

func (f *fieldDef[T]) encode(v *T, buf *bytes.Buffer) error {
	switch f.kind {
	case kString:
		return writeString(buf, *f.str(v))
	case kInt:
		buf.WriteString(strconv.FormatInt(*f.num(v), 10))
		return nil
	case kBool:
		buf.WriteString(strconv.FormatBool(*f.flag(v)))
		return nil
	}
	data, err := json.Marshal(f.ptr(v))
	if err != nil {
		return err
	}
	buf.Write(data)
	return nil
}

func writeString(buf *bytes.Buffer, s string) error {
	plain := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			plain = false
			break
		}
	}
	if plain {
		buf.WriteByte('"')
		buf.WriteString(s)
		buf.WriteByte('"')
		return nil
	}
	data, err := json.Marshal(s)
	if err != nil {
		return err
	}
	buf.Write(data)
	return nil
}

func isNull(v []byte) bool { return bytes.Equal(bytes.TrimSpace(v), []byte("null")) }

// decodeObject validates data once, then decodes it (see decodeTrusted).
func decodeObject[T any](data []byte, v *T, defs []fieldDef[T], extra *map[string]json.RawMessage) ([]string, error) {
	if !json.Valid(data) {
		var probe any
		return nil, json.Unmarshal(data, &probe) // encoding/json's own syntax error
	}
	return decodeTrusted(data, v, defs, extra)
}

// decodeTrusted fills v's known fields and extra from valid JSON data and
// returns the known keys that were present. A later duplicate key wins, as
// in encoding/json.
func decodeTrusted[T any](data []byte, v *T, defs []fieldDef[T], extra *map[string]json.RawMessage) ([]string, error) {
	if isNull(data) {
		return nil, nil
	}
	*extra = nil
	var present []string
	err := members(data, func(k string, val []byte) {
		i := slices.IndexFunc(defs, func(f fieldDef[T]) bool { return f.name == k })
		if *extra != nil {
			delete(*extra, k)
		}
		if i >= 0 {
			// A duplicate key replaces what an earlier one set.
			present = slices.DeleteFunc(present, func(p string) bool { return p == k })
			if isNull(val) {
				defs[i].zero(v)
				return // null is the zero value, not written back
			}
			if defs[i].set(v, val) {
				present = append(present, k)
				return
			}
		}
		if *extra == nil {
			*extra = make(map[string]json.RawMessage)
		}
		(*extra)[k] = append(json.RawMessage(nil), val...)
	})
	if err != nil {
		return nil, &json.UnmarshalTypeError{Value: "non-object", Type: reflect.TypeFor[T]()}
	}
	slices.Sort(present)
	return present, nil
}

// zero resets a field to its zero value.
func (f *fieldDef[T]) zero(v *T) {
	switch f.kind {
	case kString:
		*f.str(v) = ""
	case kInt:
		*f.num(v) = 0
	case kBool:
		*f.flag(v) = false
	default:
		f.reset(v)
	}
}

func encodeObject[T any](v *T, defs []fieldDef[T], present []string, extra map[string]json.RawMessage) ([]byte, error) {
	var b bytes.Buffer
	b.Grow(256)
	b.WriteByte('{')
	n := 0
	key := func(k string) {
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		_ = writeString(&b, k)
		b.WriteByte(':')
	}
	for i := range defs {
		f := &defs[i]
		if _, shadow := extra[f.name]; shadow {
			continue
		}
		if f.isEmpty(v) {
			if _, found := slices.BinarySearch(present, f.name); !found {
				continue
			}
		}
		key(f.name)
		if err := f.encode(v, &b); err != nil {
			return nil, err
		}
	}
	if len(extra) > 0 {
		keys := make([]string, 0, len(extra))
		for k := range extra {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			val := extra[k]
			if !json.Valid(val) {
				val = []byte("null")
			}
			key(k)
			b.Write(val)
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
