package freezer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strconv"
)

// The wire codec keeps unknown keys. A document is parsed once into plain
// values (numbers kept as their literal text); each type then takes the
// keys it models from its object. A key whose value does not fit its
// typed field (a newer server that changed a type) is kept, re-encoded,
// in the Extra map instead, so decoding never loses meaning and
// re-encoding gives the same document back. A known key that was present
// with a zero value is remembered and written back too; a null one is
// the zero value and is not.

// field is one key a wire type models and a pointer to its Go field.
type field struct {
	name string
	ptr  any
}

// parse reads one JSON document, numbers as json.Number.
func parse(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("freezer: data after the JSON document")
	}
	return v, nil
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
// returns the known keys that were present and the other keys, raw.
func fill(v any, fields []field) (present []string, extra map[string]json.RawMessage, err error) {
	if v == nil {
		return nil, nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, nil, fmt.Errorf("freezer: want a JSON object, got %T", v)
	}
	for k, val := range m {
		i := slices.IndexFunc(fields, func(f field) bool { return f.name == k })
		if i >= 0 && val == nil {
			continue
		}
		if i >= 0 && set(fields[i].ptr, val) {
			present = append(present, k)
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
	slices.Sort(present)
	return present, extra, nil
}

// set stores v in the field p points to; false (the field left zero) when
// v does not fit.
func set(p, v any) bool {
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

func setString[T ~string](p *T, v any) bool {
	s, ok := v.(string)
	*p = T(s)
	return ok
}

func object(v any) bool { _, ok := v.(map[string]any); return ok }

// encode writes the fields that are set or were present, then the extra
// keys in order; an extra key shadows a field of the same name.
func encode(fields []field, present []string, extra map[string]json.RawMessage) ([]byte, error) {
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
	for _, f := range fields {
		if _, shadow := extra[f.name]; shadow {
			continue
		}
		if reflect.ValueOf(f.ptr).Elem().IsZero() && !slices.Contains(present, f.name) {
			continue
		}
		v, err := json.Marshal(f.ptr)
		if err != nil {
			return nil, err
		}
		put(f.name, v)
	}
	for _, k := range slices.Sorted(maps.Keys(extra)) {
		if !json.Valid(extra[k]) {
			return nil, fmt.Errorf("freezer: Extra[%q] is not valid JSON", k)
		}
		put(k, extra[k])
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
