package freezer

import (
	"bytes"
	"encoding/json"
	"slices"
)

// object is a JSON object codec that keeps unknown keys. Each known key
// maps to a pointer into the typed struct; a key whose value does not fit
// its typed field (a newer server that changed a type) is kept in the
// extra map instead, so decoding never loses a byte of meaning and
// re-encoding gives the same document back.
type field struct {
	name  string
	ptr   any
	empty func() bool // reports the typed value is its zero value (omitted)
}

// decodeObject fills fields and extra from data and returns the known keys
// that were present, so that re-encoding keeps a present zero value.
func decodeObject(data []byte, fields []field, extra *map[string]json.RawMessage) ([]string, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	*extra = nil
	var present []string
	for k, v := range raw {
		i := slices.IndexFunc(fields, func(f field) bool { return f.name == k })
		if i >= 0 && !isNull(v) {
			if err := json.Unmarshal(v, fields[i].ptr); err == nil {
				present = append(present, k)
				continue
			}
			resetPtr(fields[i].ptr)
		} else if i >= 0 {
			continue // null is the zero value
		}
		if *extra == nil {
			*extra = make(map[string]json.RawMessage)
		}
		(*extra)[k] = append(json.RawMessage(nil), v...)
	}
	slices.Sort(present)
	return present, nil
}

func isNull(v json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(v), []byte("null")) }

// resetPtr zeroes a typed field after a failed partial decode.
func resetPtr(p any) {
	switch v := p.(type) {
	case *string:
		*v = ""
	case *int:
		*v = 0
	case *int64:
		*v = 0
	case *bool:
		*v = false
	case **bool:
		*v = nil
	case **int:
		*v = nil
	case *[]JobAction:
		*v = nil
	case **FreezerAction:
		*v = nil
	case *FreezerAction:
		*v = FreezerAction{}
	case *JobSchedule:
		*v = JobSchedule{}
	}
}

func encodeObject(fields []field, present []string, extra map[string]json.RawMessage) ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	n := 0
	put := func(k string, v []byte) {
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		b.Write(v)
	}
	for _, f := range fields {
		if _, shadow := extra[f.name]; shadow {
			continue
		}
		if f.empty != nil && f.empty() && !slices.Contains(present, f.name) {
			continue
		}
		v, err := json.Marshal(f.ptr)
		if err != nil {
			return nil, err
		}
		put(f.name, v)
	}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := extra[k]
		if !json.Valid(v) {
			v = []byte("null")
		}
		put(k, v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func str(p *string) field              { return field{ptr: p, empty: func() bool { return *p == "" }} }
func num(p *int64) field               { return field{ptr: p, empty: func() bool { return *p == 0 }} }
func named(name string, f field) field { f.name = name; return f }
