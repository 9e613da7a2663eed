package freezer

import (
	"encoding/json"
	"errors"
	"unicode/utf8"
)

// errSyntax is what parse answers for a document that is not JSON.
var errSyntax = errors.New("freezer: invalid JSON")

// scanner parses one JSON document into the values parse promises (objects
// as *jobject in key order, arrays as []any, numbers as json.Number,
// strings, bools, nil) in one pass over the bytes: encoding/json's Token
// API costs several allocations a token, and job listings are large.
type scanner struct {
	data  []byte
	i     int
	depth int
}

func (s *scanner) space() {
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) value() (any, error) {
	s.space()
	if s.i >= len(s.data) {
		return nil, errSyntax
	}
	switch c := s.data[s.i]; {
	case c == '{':
		return s.object()
	case c == '[':
		return s.array()
	case c == '"':
		return s.str()
	case c == 't':
		return true, s.word("true")
	case c == 'f':
		return false, s.word("false")
	case c == 'n':
		return nil, s.word("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	}
	return nil, errSyntax
}

func (s *scanner) word(w string) error {
	if len(s.data)-s.i < len(w) || string(s.data[s.i:s.i+len(w)]) != w {
		return errSyntax
	}
	s.i += len(w)
	return nil
}

func (s *scanner) enter() error {
	s.depth++
	if s.depth > maxDepth {
		return errors.New("freezer: JSON nested too deep")
	}
	return nil
}

func (s *scanner) object() (any, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer func() { s.depth-- }()
	s.i++ // {
	o := &jobject{vals: map[string]any{}}
	s.space()
	if s.i < len(s.data) && s.data[s.i] == '}' {
		s.i++
		return o, nil
	}
	for {
		s.space()
		if s.i >= len(s.data) || s.data[s.i] != '"' {
			return nil, errSyntax
		}
		k, err := s.str()
		if err != nil {
			return nil, err
		}
		s.space()
		if s.i >= len(s.data) || s.data[s.i] != ':' {
			return nil, errSyntax
		}
		s.i++
		v, err := s.value()
		if err != nil {
			return nil, err
		}
		if _, dup := o.vals[k]; !dup {
			o.keys = append(o.keys, k)
		}
		o.vals[k] = v
		s.space()
		if s.i >= len(s.data) {
			return nil, errSyntax
		}
		switch s.data[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			return o, nil
		default:
			return nil, errSyntax
		}
	}
}

func (s *scanner) array() (any, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer func() { s.depth-- }()
	s.i++ // [
	list := []any{}
	s.space()
	if s.i < len(s.data) && s.data[s.i] == ']' {
		s.i++
		return list, nil
	}
	for {
		v, err := s.value()
		if err != nil {
			return nil, err
		}
		list = append(list, v)
		s.space()
		if s.i >= len(s.data) {
			return nil, errSyntax
		}
		switch s.data[s.i] {
		case ',':
			s.i++
		case ']':
			s.i++
			return list, nil
		default:
			return nil, errSyntax
		}
	}
}

// str reads a string; one without escapes or invalid UTF-8 is taken as it
// is, any other is decoded by encoding/json (escapes, surrogates, U+FFFD).
func (s *scanner) str() (string, error) {
	start := s.i
	s.i++ // "
	plain := true
	for s.i < len(s.data) {
		c := s.data[s.i]
		switch {
		case c == '"':
			s.i++
			raw := s.data[start:s.i]
			if plain && utf8.Valid(raw) {
				return string(raw[1 : len(raw)-1]), nil
			}
			var out string
			if err := json.Unmarshal(raw, &out); err != nil {
				return "", errSyntax
			}
			return out, nil
		case c == '\\':
			plain = false
			s.i += 2
		case c < 0x20:
			return "", errSyntax
		default:
			s.i++
		}
	}
	return "", errSyntax
}

// number reads a number with JSON's grammar, kept as its text.
func (s *scanner) number() (any, error) {
	start := s.i
	digits := func() int {
		n := 0
		for s.i < len(s.data) && s.data[s.i] >= '0' && s.data[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	if s.data[s.i] == '-' {
		s.i++
	}
	if s.i < len(s.data) && s.data[s.i] == '0' {
		s.i++
	} else if digits() == 0 {
		return nil, errSyntax
	}
	if s.i < len(s.data) && s.data[s.i] == '.' {
		s.i++
		if digits() == 0 {
			return nil, errSyntax
		}
	}
	if s.i < len(s.data) && (s.data[s.i] == 'e' || s.data[s.i] == 'E') {
		s.i++
		if s.i < len(s.data) && (s.data[s.i] == '+' || s.data[s.i] == '-') {
			s.i++
		}
		if digits() == 0 {
			return nil, errSyntax
		}
	}
	return json.Number(s.data[start:s.i]), nil
}
