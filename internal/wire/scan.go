package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// ErrSyntax is wrapped by the errors a Scanner returns for bad JSON when
// its Malformed is nil.
var ErrSyntax = errors.New("wire: malformed JSON")

// Scanner reads a JSON document in one pass. It validates what it reads
// and skips as encoding/json would, hands out the raw bytes of values as
// slices of Data (no copy), and counts nesting as it goes, so a hostile,
// deeply nested document ends in an error before any recursion runs deep.
type Scanner struct {
	// Data is the document; Pos is the offset of the next byte to read.
	Data []byte
	Pos  int
	// Depth is the current JSON nesting; passing MaxDepth is an error
	// (TooDeep's when set, else one wrapping ErrTooDeep).
	Depth    int
	MaxDepth int
	// Malformed is the sentinel syntax errors wrap (ErrSyntax when nil).
	Malformed error
	// TooDeep, when set, builds the error for passing MaxDepth.
	TooDeep func(max, at int) error
}

// Errf returns a syntax error at the current offset, wrapping Malformed.
func (s *Scanner) Errf(format string, args ...any) error {
	sentinel := s.Malformed
	if sentinel == nil {
		sentinel = ErrSyntax
	}
	return fmt.Errorf("%w: "+format+" at byte %d", append([]any{sentinel}, append(args, s.Pos)...)...)
}

// WS skips white space.
func (s *Scanner) WS() {
	for s.Pos < len(s.Data) {
		switch s.Data[s.Pos] {
		case ' ', '\t', '\n', '\r':
			s.Pos++
		default:
			return
		}
	}
}

// End checks that nothing but white space follows the document.
func (s *Scanner) End() error {
	s.WS()
	if s.Pos != len(s.Data) {
		return s.Errf("data after the document")
	}
	return nil
}

// push enters an array or object.
func (s *Scanner) push() error {
	s.Depth++
	if s.Depth > s.MaxDepth {
		if s.TooDeep != nil {
			return s.TooDeep(s.MaxDepth, s.Pos)
		}
		return fmt.Errorf("%w: more than %d levels at byte %d", ErrTooDeep, s.MaxDepth, s.Pos)
	}
	return nil
}

// Null consumes a null literal if one comes next.
func (s *Scanner) Null() bool {
	s.WS()
	if s.Pos+4 <= len(s.Data) && string(s.Data[s.Pos:s.Pos+4]) == "null" {
		s.Pos += 4
		return true
	}
	return false
}

// Object reads the members of an object, calling member for each key (the
// bytes between its quotes, and whether they hold escapes) with the
// scanner at the start of its value; member must consume the value. It
// reports false for a null.
func (s *Scanner) Object(member func(key []byte, escaped bool) error) (bool, error) {
	if s.Null() {
		return false, nil
	}
	if err := s.Open('{'); err != nil {
		return false, err
	}
	if s.Close('}') {
		return true, nil
	}
	for {
		s.WS()
		key, esc, err := s.RawString()
		if err != nil {
			return false, err
		}
		if err := s.Colon(); err != nil {
			return false, err
		}
		if err := member(key, esc); err != nil {
			return false, err
		}
		if done, err := s.Next('}'); done || err != nil {
			return err == nil, err
		}
	}
}

// Array reads the elements of an array, calling elem at each with the
// scanner at its start; it reports false for a null.
func (s *Scanner) Array(elem func() error) (bool, error) {
	if s.Null() {
		return false, nil
	}
	if err := s.Open('['); err != nil {
		return false, err
	}
	if s.Close(']') {
		return true, nil
	}
	for {
		s.WS()
		if err := elem(); err != nil {
			return false, err
		}
		if done, err := s.Next(']'); done || err != nil {
			return err == nil, err
		}
	}
}

// Open consumes the opening brace or bracket c, which must come next.
func (s *Scanner) Open(c byte) error {
	s.WS()
	if s.Pos >= len(s.Data) || s.Data[s.Pos] != c {
		if c == '{' {
			return s.Errf("want an object")
		}
		return s.Errf("want an array")
	}
	if err := s.push(); err != nil {
		return err
	}
	s.Pos++
	return nil
}

// Close consumes the closing c of an empty object or array if it comes
// next (right after Open).
func (s *Scanner) Close(c byte) bool {
	s.WS()
	if s.Pos < len(s.Data) && s.Data[s.Pos] == c {
		s.Pos++
		s.Depth--
		return true
	}
	return false
}

// Colon consumes the colon after a member's key and the white space after
// it.
func (s *Scanner) Colon() error {
	s.WS()
	if s.Pos >= len(s.Data) || s.Data[s.Pos] != ':' {
		return s.Errf("want a colon")
	}
	s.Pos++
	s.WS()
	return nil
}

// Next consumes the comma after a member or element, reporting false, or
// the closing c of its object or array, reporting true.
func (s *Scanner) Next(c byte) (bool, error) {
	s.WS()
	if s.Pos >= len(s.Data) {
		return false, s.Errf("unterminated object or array")
	}
	switch s.Data[s.Pos] {
	case ',':
		s.Pos++
		return false, nil
	case c:
		s.Pos++
		s.Depth--
		return true, nil
	}
	return false, s.Errf("want a comma or a closing %c", c)
}

// RawString reads a string and returns its bytes between the quotes, and
// whether they hold escapes.
func (s *Scanner) RawString() ([]byte, bool, error) {
	if s.Pos >= len(s.Data) || s.Data[s.Pos] != '"' {
		return nil, false, s.Errf("want a string")
	}
	start := s.Pos + 1
	esc := false
	for i := start; i < len(s.Data); i++ {
		switch c := s.Data[i]; {
		case c == '"':
			s.Pos = i + 1
			return s.Data[start:i], esc, nil
		case c == '\\':
			esc = true
			if i+1 >= len(s.Data) {
				return nil, false, s.Errf("unterminated string")
			}
			switch s.Data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if i+5 >= len(s.Data) {
					return nil, false, s.Errf("short unicode escape")
				}
				for _, h := range s.Data[i+2 : i+6] {
					if !isHex(h) {
						s.Pos = i
						return nil, false, s.Errf("bad unicode escape")
					}
				}
				i += 5
			default:
				s.Pos = i
				return nil, false, s.Errf("bad escape")
			}
		case c < 0x20:
			s.Pos = i
			return nil, false, s.Errf("control character in string")
		}
	}
	return nil, false, s.Errf("unterminated string")
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// Str reads a string value (or null, as "").
func (s *Scanner) Str() (string, error) {
	if s.Null() {
		return "", nil
	}
	raw, esc, err := s.RawString()
	if err != nil {
		return "", err
	}
	if !esc && utf8.Valid(raw) {
		return string(raw), nil
	}
	var out string
	if err := json.Unmarshal(s.Data[s.Pos-len(raw)-2:s.Pos], &out); err != nil {
		return "", s.Errf("%v", err)
	}
	return out, nil
}

// Key renders a member name RawString returned as encoding/json does
// (escapes decoded, bad UTF-8 replaced).
func Key(raw []byte, esc bool) string {
	if !esc && utf8.Valid(raw) {
		return string(raw)
	}
	q := make([]byte, 0, len(raw)+2)
	q = append(append(append(q, '"'), raw...), '"')
	var out string
	_ = json.Unmarshal(q, &out) // RawString validated it
	return out
}

// Number reads a JSON number and returns its text.
func (s *Scanner) Number() ([]byte, error) {
	start := s.Pos
	i := s.Pos
	d := s.Data
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && '1' <= d[i] && d[i] <= '9':
		for i < len(d) && '0' <= d[i] && d[i] <= '9' {
			i++
		}
	default:
		s.Pos = i
		return nil, s.Errf("want a value")
	}
	if i < len(d) && d[i] == '.' {
		i++
		f := i
		for i < len(d) && '0' <= d[i] && d[i] <= '9' {
			i++
		}
		if i == f {
			s.Pos = i
			return nil, s.Errf("bad number")
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		f := i
		for i < len(d) && '0' <= d[i] && d[i] <= '9' {
			i++
		}
		if i == f {
			s.Pos = i
			return nil, s.Errf("bad number")
		}
	}
	s.Pos = i
	return d[start:i], nil
}

// Skip validates and passes over one value, returning its bytes.
func (s *Scanner) Skip() (json.RawMessage, error) {
	s.WS()
	start := s.Pos
	if s.Pos >= len(s.Data) {
		return nil, s.Errf("want a value")
	}
	var err error
	switch c := s.Data[s.Pos]; c {
	case '{':
		_, err = s.Object(func([]byte, bool) error { _, err := s.Skip(); return err })
	case '[':
		_, err = s.Array(func() error { _, err := s.Skip(); return err })
	case '"':
		_, _, err = s.RawString()
	case 't', 'f', 'n':
		lit := "null"
		switch c {
		case 't':
			lit = "true"
		case 'f':
			lit = "false"
		}
		if s.Pos+len(lit) > len(s.Data) || string(s.Data[s.Pos:s.Pos+len(lit)]) != lit {
			return nil, s.Errf("bad literal")
		}
		s.Pos += len(lit)
	default:
		_, err = s.Number()
	}
	if err != nil {
		return nil, err
	}
	return s.Data[start:s.Pos:s.Pos], nil
}
