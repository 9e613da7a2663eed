package freezer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
)

// The wire codec keeps unknown keys, nulls and key order. A document is
// parsed once into plain values (numbers kept as their literal text);
// each type then takes the keys it models from its object. A key whose
// value does not fit its typed field (a newer server that changed a type),
// or is null, is kept raw in the Extra map as well, so decoding never loses
// meaning and re-encoding gives the same document back, keys in the order
// they came: a null stays null until the field is set, and a known key
// that was present with a zero value is written back too.

// field is one key a wire type models and a pointer to its Go field.
type field struct {
	name string
	ptr  any
}

// parse reads one JSON document, numbers as json.Number.
func parse(data []byte) (any, error) {
	s := &scanner{data: data}
	v, err := s.value()
	if err != nil {
		return nil, err
	}
	s.space()
	if s.i != len(data) {
		return nil, errors.New("freezer: data after the JSON document")
	}
	return v, nil
}

// maxDepth bounds the nesting parse follows (the stack of an untrusted
// document).
const maxDepth = 10000

// jobject is a JSON object that remembers its key order.
type jobject struct {
	keys []string
	vals map[string]any
}

// MarshalJSON writes the object in its key order.
func (o *jobject) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(o.vals[k])
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// unmarshal parses data and hands it to a wire type's fromValue.
func unmarshal(data []byte, fromValue func(any) error) error {
	v, err := parse(data)
	if err != nil {
		return err
	}
	return fromValue(v)
}

// fill sets fields from the object v (nil: JSON null, all zero) and
// returns every key in document order and the keys kept raw (unknown
// keys, nulls, and known keys whose value does not fit).
func fill(v any, fields []field) (keys []string, extra map[string]json.RawMessage, err error) {
	if v == nil {
		return nil, nil, nil
	}
	m, ok := v.(*jobject)
	if !ok {
		return nil, nil, fmt.Errorf("freezer: want a JSON object, got %s", kindOf(v))
	}
	for _, k := range m.keys {
		val := m.vals[k]
		keys = append(keys, k)
		i := slices.IndexFunc(fields, func(f field) bool { return f.name == k })
		if i >= 0 && val != nil && set(fields[i].ptr, val) {
			continue
		}
		raw, err := json.Marshal(val)
		if err != nil {
			return nil, nil, err
		}
		if extra == nil {
			extra = map[string]json.RawMessage{}
		}
		extra[k] = raw
	}
	return keys, extra, nil
}

// set stores v in the field p points to; false (the field left zero) when
// v does not fit.
func set(p, v any) bool {
	if d, ok := p.(decoder); ok {
		// A nested wire type (the ones listed below as well).
		return object(v) && d.fromValue(v) == nil
	}
	switch p := p.(type) {
	case *string:
		return setString(p, v)
	case *Event:
		return setString(p, v)
	case *Status:
		return setString(p, v)
	case *Result:
		return setString(p, v)
	case *bool:
		b, ok := v.(bool)
		*p = b
		return ok
	case *int64:
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		i, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil {
			return false
		}
		*p = i
		return true
	case *JobSchedule:
		return object(v) && p.fromValue(v) == nil
	case *FreezerAction:
		return object(v) && p.fromValue(v) == nil
	case **FreezerAction:
		f := &FreezerAction{}
		if !object(v) || f.fromValue(v) != nil {
			return false
		}
		*p = f
		return true
	case *map[string]SessionJob:
		o, ok := v.(*jobject)
		if !ok {
			return false
		}
		m := make(map[string]SessionJob, len(o.keys))
		for _, k := range o.keys {
			var sj SessionJob
			if !object(o.vals[k]) || sj.fromValue(o.vals[k]) != nil {
				return false
			}
			m[k] = sj
		}
		*p = m
		return true
	case *[]JobAction:
		list, ok := v.([]any)
		if !ok {
			return false
		}
		acts := make([]JobAction, len(list))
		for i := range list {
			if !object(list[i]) || acts[i].fromValue(list[i]) != nil {
				return false
			}
		}
		*p = acts
		return true
	}
	return false
}

// decoder is a wire type that reads itself from a parsed object.
type decoder interface{ fromValue(v any) error }

func setString[T ~string](p *T, v any) bool {
	s, ok := v.(string)
	*p = T(s)
	return ok
}

func object(v any) bool { _, ok := v.(*jobject); return ok }

// kindOf names a parsed JSON value's kind for an error.
func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	}
	return "an object"
}

// encode writes the document back: first the keys it came with, in their
// order (a field's current value, or the raw value kept for the key: a
// null is written as null only while its field is still zero), then set
// fields it did not have, then new Extra keys in sorted order. An Extra
// key that is not null shadows the field of the same name.
func encode(fields []field, keys []string, extra map[string]json.RawMessage) ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	put := func(k string, v []byte) {
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		b.Write(v)
	}
	done := map[string]bool{}
	write := func(k string, listed bool) error {
		if done[k] {
			return nil
		}
		i := slices.IndexFunc(fields, func(f field) bool { return f.name == k })
		raw, hasRaw := extra[k]
		if hasRaw && !json.Valid(raw) {
			return fmt.Errorf("freezer: Extra[%q] is not valid JSON", k)
		}
		switch {
		case i < 0 && hasRaw:
			put(k, raw)
		case i < 0:
			return nil
		case hasRaw && (!isNull(raw) || reflect.ValueOf(fields[i].ptr).Elem().IsZero()):
			put(k, raw)
		case !listed && reflect.ValueOf(fields[i].ptr).Elem().IsZero():
			return nil
		default:
			v, err := json.Marshal(fields[i].ptr)
			if err != nil {
				return err
			}
			put(k, v)
		}
		done[k] = true
		return nil
	}
	for _, k := range keys {
		if err := write(k, true); err != nil {
			return nil, err
		}
	}
	for _, f := range fields {
		if err := write(f.name, false); err != nil {
			return nil, err
		}
	}
	for _, k := range slices.Sorted(maps.Keys(extra)) {
		if err := write(k, false); err != nil {
			return nil, err
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }
