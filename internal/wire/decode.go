package wire

import (
	"encoding"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// maxNesting is encoding/json's nesting limit, which Decode keeps.
const maxNesting = 10000

// Decode decodes the JSON object data into v, a pointer to a struct of an
// alias type (one without UnmarshalJSON), and returns the members v does
// not model (private copies of their bytes) and the names of all members
// present, each once. A JSON null leaves v as it is and returns nils.
//
// It reads data once: each member's value goes straight into its field
// (matched by name as encoding/json matches, exactly, else without regard
// to case), and what v does not model is validated as it is passed over.
// The result, errors included, is what json.Unmarshal into v and into a
// map of raw members gives: bad input is handed to encoding/json to say
// what is wrong, and types the one-pass reader does not cover (embedded
// fields, ",string" options) are decoded that way too.
func Decode(data []byte, v any) (extra map[string]json.RawMessage, keys Keys, err error) {
	rv := reflect.ValueOf(v)
	p := planFor(reflect.TypeOf(v))
	if p == nil || rv.IsNil() {
		return decodeTwice(data, v)
	}
	extra, keys, err = p.decode(data, rv.Elem())
	if err != nil {
		return decodeTwice(data, v)
	}
	return extra, keys, nil
}

// kind says how a field's value is decoded.
type kind uint8

const (
	kOther          kind = iota // json.Unmarshal on the value's bytes
	kString                     // a string
	kInt                        // a signed integer
	kBool                       // a bool
	kUnmarshaler                // T whose *T has UnmarshalJSON: called for every value, null too
	kPtrUnmarshaler             // *T with UnmarshalJSON: null sets nil
	kPtr                        // *P of a kString, kInt or kBool P: null sets nil
	kSlice                      // []E of a kString, kUnmarshaler or kPtrUnmarshaler E: null sets nil
)

// field is one member a struct models.
type field struct {
	name  string // the JSON name
	index int    // in the struct
	kind  kind
	elem  kind          // of a kPtr's or kSlice's elements
	empty reflect.Value // kSlice: an empty non-nil slice, what [] decodes to
}

// plan is how Decode fills one struct type.
type plan struct {
	fields []field
	exact  map[string]int      // JSON name -> index in fields
	known  map[string]struct{} // lowercased names: members not here are kept as extra
}

var (
	plans               sync.Map // reflect.Type (a pointer to a struct) -> *plan (nil: decodeTwice)
	unmarshalerType     = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func planFor(t reflect.Type) *plan {
	if t == nil {
		return nil
	}
	if p, ok := plans.Load(t); ok {
		return p.(*plan)
	}
	p := makePlan(t)
	plans.Store(t, p)
	return p
}

// makePlan returns t's plan, or nil for a type whose decoding it leaves to
// encoding/json.
func makePlan(t reflect.Type) *plan {
	if t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct ||
		t.Implements(unmarshalerType) || t.Implements(textUnmarshalerType) {
		return nil
	}
	st := t.Elem()
	p := &plan{exact: map[string]int{}, known: fieldNames(st)}
	for i := range st.NumField() {
		sf := st.Field(i)
		if sf.Anonymous {
			return nil
		}
		tag := sf.Tag.Get("json")
		if !sf.IsExported() || tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if strings.Contains(opts, "string") || !plainName(name) {
			return nil
		}
		if name == "" {
			name = sf.Name
		}
		if _, dup := p.exact[name]; dup {
			return nil // encoding/json's rules for clashing names are not worth copying
		}
		f := field{name: name, index: i, kind: kindOf(sf.Type)}
		switch f.kind {
		case kPtr:
			f.elem = kindOf(sf.Type.Elem())
		case kSlice:
			f.elem = kindOf(sf.Type.Elem())
			f.empty = reflect.MakeSlice(sf.Type, 0, 0)
		}
		p.exact[name] = len(p.fields)
		p.fields = append(p.fields, f)
	}
	return p
}

// plainName reports whether a tag's name is one encoding/json takes as it
// is (it has rules for other punctuation this package does not need).
func plainName(name string) bool {
	for _, c := range name {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func kindOf(t reflect.Type) kind {
	if t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(unmarshalerType) {
		return kUnmarshaler
	}
	if t.Kind() == reflect.Pointer && t.Name() == "" && t.Implements(unmarshalerType) {
		return kPtrUnmarshaler
	}
	if t.Implements(textUnmarshalerType) || reflect.PointerTo(t).Implements(textUnmarshalerType) {
		return kOther
	}
	switch t.Kind() {
	case reflect.String:
		return kString
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return kInt
	case reflect.Bool:
		return kBool
	case reflect.Pointer:
		if t.Name() == "" {
			switch kindOf(t.Elem()) {
			case kString, kInt, kBool:
				return kPtr
			}
		}
	case reflect.Slice:
		if t.Elem().Kind() != reflect.Uint8 {
			switch kindOf(t.Elem()) {
			case kString, kUnmarshaler, kPtrUnmarshaler:
				return kSlice
			}
		}
	}
	return kOther
}

// span is an unknown member's value in the document.
type span struct {
	key        string
	start, end int
}

func (p *plan) decode(data []byte, rv reflect.Value) (map[string]json.RawMessage, Keys, error) {
	s := Scanner{Data: data, MaxDepth: maxNesting}
	if s.Null() {
		return nil, nil, s.End()
	}
	if err := s.Open('{'); err != nil {
		return nil, nil, err
	}
	keys := make(Keys, 0, len(p.fields)+1)
	var seen uint64 // fields whose exact name has come
	var spanBuf [4]span
	spans := spanBuf[:0]
	if !s.Close('}') {
		for {
			s.WS()
			kb, esc, err := s.RawString()
			if err != nil {
				return nil, nil, err
			}
			if err := s.Colon(); err != nil {
				return nil, nil, err
			}
			fi, exact := -1, false
			var k string
			if !esc {
				if i, ok := p.exact[string(kb)]; ok {
					fi, k, exact = i, p.fields[i].name, true
				}
			}
			if !exact {
				k = Key(kb, esc)
				if i, ok := p.exact[k]; ok {
					fi, exact = i, true
				} else {
					fi = p.fold(k)
				}
			}
			var dup bool
			if exact && fi < 64 {
				dup = seen&(1<<fi) != 0
				seen |= 1 << fi
			} else {
				dup = slices.Contains(keys, k)
			}
			if !dup {
				keys = append(keys, k)
			}
			start := s.Pos
			if fi >= 0 {
				f := &p.fields[fi]
				err = f.decode(&s, rv.Field(f.index))
			} else {
				_, err = s.Skip()
			}
			if err != nil {
				return nil, nil, err
			}
			if !exact {
				if _, ok := p.known[strings.ToLower(k)]; !ok {
					spans = keep(spans, dup, span{k, start, s.Pos})
				}
			}
			done, err := s.Next('}')
			if err != nil {
				return nil, nil, err
			}
			if done {
				break
			}
		}
	}
	if err := s.End(); err != nil {
		return nil, nil, err
	}
	if len(spans) == 0 {
		return nil, keys, nil
	}
	// One private copy holds every unknown member's bytes.
	n := 0
	for _, sp := range spans {
		n += sp.end - sp.start
	}
	buf := make([]byte, 0, n)
	extra := make(map[string]json.RawMessage, len(spans))
	for _, sp := range spans {
		at := len(buf)
		buf = append(buf, data[sp.start:sp.end]...)
		extra[sp.key] = buf[at:len(buf):len(buf)]
	}
	return extra, keys, nil
}

// keep adds an unknown member, replacing the value of an earlier one of
// the same name (the last wins, as in a map).
func keep(spans []span, dup bool, sp span) []span {
	if dup {
		for i := range spans {
			if spans[i].key == sp.key {
				spans[i] = sp
				return spans
			}
		}
	}
	return append(spans, sp)
}

// fold finds the field whose name matches k without regard to case, the
// first in the struct's order as in encoding/json, or -1.
func (p *plan) fold(k string) int {
	for i := range p.fields {
		if strings.EqualFold(p.fields[i].name, k) {
			return i
		}
	}
	return -1
}

// decode reads the value at s into fv as encoding/json would.
func (f *field) decode(s *Scanner, fv reflect.Value) error {
	switch f.kind {
	case kString, kInt, kBool:
		return decodePrim(s, f.kind, fv)
	case kUnmarshaler:
		raw, err := s.Skip()
		if err != nil {
			return err
		}
		return fv.Addr().Interface().(json.Unmarshaler).UnmarshalJSON(raw)
	case kPtrUnmarshaler:
		return decodePtrUnmarshaler(s, fv)
	case kPtr:
		if s.Null() {
			fv.SetZero()
			return nil
		}
		if fv.IsNil() {
			fv.Set(reflect.New(fv.Type().Elem()))
		}
		return decodePrim(s, f.elem, fv.Elem())
	case kSlice:
		return f.decodeSlice(s, fv)
	}
	return decodeOther(s, fv)
}

// decodeOther lets encoding/json decode the value at s into fv.
func decodeOther(s *Scanner, fv reflect.Value) error {
	raw, err := s.Skip()
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, fv.Addr().Interface())
}

// decodePrim reads a string, integer or bool; null leaves fv as it is.
// Anything else (a mismatch, an escaped string, a number that is not a
// small integer) goes to encoding/json.
func decodePrim(s *Scanner, k kind, fv reflect.Value) error {
	s.WS()
	if s.Pos >= len(s.Data) {
		return s.Errf("want a value")
	}
	switch c := s.Data[s.Pos]; {
	case c == 'n':
		_, err := s.Skip()
		return err
	case k == kString && c == '"':
		start := s.Pos
		raw, esc, err := s.RawString()
		if err != nil {
			return err
		}
		if !esc && utf8.Valid(raw) {
			fv.SetString(string(raw))
			return nil
		}
		return json.Unmarshal(s.Data[start:s.Pos], fv.Addr().Interface())
	case k == kInt && (c == '-' || '0' <= c && c <= '9'):
		num, err := s.Number()
		if err != nil {
			return err
		}
		if n, ok := smallInt(num); ok && !fv.OverflowInt(n) {
			fv.SetInt(n)
			return nil
		}
		return json.Unmarshal(num, fv.Addr().Interface())
	case k == kBool && (c == 't' || c == 'f'):
		raw, err := s.Skip()
		if err != nil {
			return err
		}
		fv.SetBool(raw[0] == 't')
		return nil
	}
	return decodeOther(s, fv)
}

// smallInt parses an integer of at most 18 digits.
func smallInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// decodePtrUnmarshaler reads into a pointer whose type has UnmarshalJSON:
// null sets it nil, anything else goes to the (allocated if nil) pointee.
func decodePtrUnmarshaler(s *Scanner, fv reflect.Value) error {
	if s.Null() {
		fv.SetZero()
		return nil
	}
	raw, err := s.Skip()
	if err != nil {
		return err
	}
	if fv.IsNil() {
		fv.Set(reflect.New(fv.Type().Elem()))
	}
	return fv.Interface().(json.Unmarshaler).UnmarshalJSON(raw)
}

// decodeSlice reads an array into a slice as encoding/json does: into
// the elements already there, growing it as needed, and cutting it to the
// array's length ([] gives an empty slice, null a nil one).
func (f *field) decodeSlice(s *Scanner, fv reflect.Value) error {
	if s.Null() {
		fv.SetZero()
		return nil
	}
	if s.Pos >= len(s.Data) || s.Data[s.Pos] != '[' {
		return decodeOther(s, fv)
	}
	if err := s.Open('['); err != nil {
		return err
	}
	i := 0
	if !s.Close(']') {
		for {
			s.WS()
			if i >= fv.Cap() {
				fv.Grow(1)
			}
			if i >= fv.Len() {
				fv.SetLen(i + 1)
			}
			ev := fv.Index(i)
			var err error
			switch f.elem {
			case kString:
				err = decodePrim(s, kString, ev)
			case kUnmarshaler:
				var raw json.RawMessage
				if raw, err = s.Skip(); err == nil {
					err = ev.Addr().Interface().(json.Unmarshaler).UnmarshalJSON(raw)
				}
			default:
				err = decodePtrUnmarshaler(s, ev)
			}
			if err != nil {
				return err
			}
			i++
			done, err := s.Next(']')
			if err != nil {
				return err
			}
			if done {
				break
			}
		}
	}
	if i < fv.Len() {
		fv.SetLen(i)
	}
	if i == 0 {
		fv.Set(f.empty)
	}
	return nil
}
