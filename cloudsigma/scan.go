package cloudsigma

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/longrun/longrun/internal/wire"
	"github.com/longrun/longrun/jobs"
)

// scanner reads a job document in one pass. It validates what it skips as
// encoding/json would, keeps the raw bytes of unknown members as slices of
// data (a private copy), and counts nesting as it goes, so a hostile,
// deeply nested document ends in an error before any recursion runs deep.
type scanner struct {
	data    []byte
	i       int
	depth   int // JSON nesting
	maxJSON int
	maxJobs int
}

func (s *scanner) errf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format+" at byte %d", append([]any{ErrMalformed}, append(args, s.i)...)...)
}

func (s *scanner) ws() {
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// end checks that nothing but white space follows the document.
func (s *scanner) end() error {
	s.ws()
	if s.i != len(s.data) {
		return s.errf("data after the document")
	}
	return nil
}

func (s *scanner) push() error {
	s.depth++
	if s.depth > s.maxJSON {
		return fmt.Errorf("%w: CloudSigma job document nests deeper than %d JSON levels (at byte %d)", jobs.ErrTooDeep, s.maxJSON, s.i)
	}
	return nil
}

// null consumes a null literal if one comes next.
func (s *scanner) null() bool {
	s.ws()
	if s.i+4 <= len(s.data) && string(s.data[s.i:s.i+4]) == "null" {
		s.i += 4
		return true
	}
	return false
}

// object reads the members of an object, calling member for each key with
// the scanner at the start of its value; member must consume the value.
// It reports false for a null.
func (s *scanner) object(member func(key []byte, escaped bool) error) (bool, error) {
	if s.null() {
		return false, nil
	}
	if s.i >= len(s.data) || s.data[s.i] != '{' {
		return false, s.errf("want an object")
	}
	if err := s.push(); err != nil {
		return false, err
	}
	s.i++
	s.ws()
	if s.i < len(s.data) && s.data[s.i] == '}' {
		s.i++
		s.depth--
		return true, nil
	}
	for {
		s.ws()
		key, esc, err := s.rawString()
		if err != nil {
			return false, err
		}
		s.ws()
		if s.i >= len(s.data) || s.data[s.i] != ':' {
			return false, s.errf("want a colon")
		}
		s.i++
		s.ws()
		if err := member(key, esc); err != nil {
			return false, err
		}
		s.ws()
		if s.i >= len(s.data) {
			return false, s.errf("unterminated object")
		}
		switch s.data[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			s.depth--
			return true, nil
		default:
			return false, s.errf("want a comma or a closing brace")
		}
	}
}

// array reads the elements of an array, calling elem at each; it reports
// false for a null.
func (s *scanner) array(elem func() error) (bool, error) {
	if s.null() {
		return false, nil
	}
	if s.i >= len(s.data) || s.data[s.i] != '[' {
		return false, s.errf("want an array")
	}
	if err := s.push(); err != nil {
		return false, err
	}
	s.i++
	s.ws()
	if s.i < len(s.data) && s.data[s.i] == ']' {
		s.i++
		s.depth--
		return true, nil
	}
	for {
		s.ws()
		if err := elem(); err != nil {
			return false, err
		}
		s.ws()
		if s.i >= len(s.data) {
			return false, s.errf("unterminated array")
		}
		switch s.data[s.i] {
		case ',':
			s.i++
		case ']':
			s.i++
			s.depth--
			return true, nil
		default:
			return false, s.errf("want a comma or a closing bracket")
		}
	}
}

// rawString reads a string and returns its bytes between the quotes, and
// whether it holds escapes.
func (s *scanner) rawString() ([]byte, bool, error) {
	if s.i >= len(s.data) || s.data[s.i] != '"' {
		return nil, false, s.errf("want a string")
	}
	start := s.i + 1
	esc := false
	for i := start; i < len(s.data); i++ {
		switch c := s.data[i]; {
		case c == '"':
			s.i = i + 1
			return s.data[start:i], esc, nil
		case c == '\\':
			esc = true
			if i+1 >= len(s.data) {
				return nil, false, s.errf("unterminated string")
			}
			switch s.data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if i+5 >= len(s.data) {
					return nil, false, s.errf("short unicode escape")
				}
				for _, h := range s.data[i+2 : i+6] {
					if !isHex(h) {
						s.i = i
						return nil, false, s.errf("bad unicode escape")
					}
				}
				i += 5
			default:
				s.i = i
				return nil, false, s.errf("bad escape")
			}
		case c < 0x20:
			s.i = i
			return nil, false, s.errf("control character in string")
		}
	}
	return nil, false, s.errf("unterminated string")
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// str reads a string value (or null, as "").
func (s *scanner) str() (string, error) {
	if s.null() {
		return "", nil
	}
	raw, esc, err := s.rawString()
	if err != nil {
		return "", err
	}
	if !esc && utf8.Valid(raw) {
		return string(raw), nil
	}
	var out string
	if err := json.Unmarshal(s.data[s.i-len(raw)-2:s.i], &out); err != nil {
		return "", fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return out, nil
}

// key renders a member name.
func key(raw []byte, esc bool) string {
	if !esc && utf8.Valid(raw) {
		return string(raw)
	}
	q := make([]byte, 0, len(raw)+2)
	q = append(append(append(q, '"'), raw...), '"')
	var out string
	_ = json.Unmarshal(q, &out) // rawString validated it
	return out
}

// jobKey returns the member name of a job or its data, without an
// allocation for the names CloudSigma always sends.
func jobKey(raw []byte, esc bool) string {
	if !esc {
		switch string(raw) { // the compiler does not copy raw here
		case "uuid":
			return "uuid"
		case "operation":
			return "operation"
		case "state":
			return "state"
		case "resource_uri":
			return "resource_uri"
		case "created":
			return "created"
		case "last_modified":
			return "last_modified"
		case "data":
			return "data"
		case "resources":
			return "resources"
		case "children":
			return "children"
		case "progress":
			return "progress"
		}
	}
	return key(raw, esc)
}

// number reads a JSON number and returns its text.
func (s *scanner) number() ([]byte, error) {
	start := s.i
	i := s.i
	if i < len(s.data) && s.data[i] == '-' {
		i++
	}
	switch {
	case i < len(s.data) && s.data[i] == '0':
		i++
	case i < len(s.data) && '1' <= s.data[i] && s.data[i] <= '9':
		for i < len(s.data) && '0' <= s.data[i] && s.data[i] <= '9' {
			i++
		}
	default:
		s.i = i
		return nil, s.errf("want a value")
	}
	if i < len(s.data) && s.data[i] == '.' {
		i++
		d := i
		for i < len(s.data) && '0' <= s.data[i] && s.data[i] <= '9' {
			i++
		}
		if i == d {
			s.i = i
			return nil, s.errf("bad number")
		}
	}
	if i < len(s.data) && (s.data[i] == 'e' || s.data[i] == 'E') {
		i++
		if i < len(s.data) && (s.data[i] == '+' || s.data[i] == '-') {
			i++
		}
		d := i
		for i < len(s.data) && '0' <= s.data[i] && s.data[i] <= '9' {
			i++
		}
		if i == d {
			s.i = i
			return nil, s.errf("bad number")
		}
	}
	s.i = i
	return s.data[start:i], nil
}

// skip validates and passes over one value, returning its bytes.
func (s *scanner) skip() (json.RawMessage, error) {
	s.ws()
	start := s.i
	if s.i >= len(s.data) {
		return nil, s.errf("want a value")
	}
	var err error
	switch c := s.data[s.i]; c {
	case '{':
		_, err = s.object(func([]byte, bool) error { _, err := s.skip(); return err })
	case '[':
		_, err = s.array(func() error { _, err := s.skip(); return err })
	case '"':
		_, _, err = s.rawString()
	case 't', 'f', 'n':
		lit := "null"
		switch c {
		case 't':
			lit = "true"
		case 'f':
			lit = "false"
		}
		if s.i+len(lit) > len(s.data) || string(s.data[s.i:s.i+len(lit)]) != lit {
			return nil, s.errf("bad literal")
		}
		s.i += len(lit)
	default:
		_, err = s.number()
	}
	if err != nil {
		return nil, err
	}
	return s.data[start:s.i:s.i], nil
}

// extra keeps an unknown member.
func extra(m *map[string]json.RawMessage, k string, raw json.RawMessage) {
	if *m == nil {
		*m = make(map[string]json.RawMessage, 4)
	}
	(*m)[k] = raw
}

// job reads one job object (or null) at job level lvl.
func (s *scanner) job(lvl int) (*Job, error) {
	if lvl > s.maxJobs {
		return nil, fmt.Errorf("%w: CloudSigma job document nests deeper than %d job levels", jobs.ErrTooDeep, s.maxJobs)
	}
	s.ws()
	start := s.i
	j := &Job{keys: make(wire.Keys, 0, 9)}
	ok, err := s.object(func(kb []byte, esc bool) error {
		k := jobKey(kb, esc)
		j.keys = append(j.keys, k)
		var err error
		switch k {
		case "uuid":
			j.UUID, err = s.str()
		case "operation":
			j.Operation, err = s.str()
		case "state":
			j.State, err = s.str()
		case "resource_uri":
			j.ResourceURI, err = s.str()
		case "created", "last_modified":
			var t Time
			if !s.null() {
				var v string
				if v, err = s.str(); err == nil {
					t = parseTime(v)
				}
			}
			if k == "created" {
				j.Created = t
			} else {
				j.LastModified = t
			}
		case "data":
			j.Data, err = s.jobData()
		case "resources":
			j.Resources = nil
			var ok bool
			ok, err = s.array(func() error {
				v, err := s.str()
				j.Resources = append(j.Resources, v)
				return err
			})
			if ok && j.Resources == nil {
				j.Resources = []string{}
			}
		case "children":
			j.Children = nil
			var ok bool
			ok, err = s.array(func() error {
				c, err := s.job(lvl + 1)
				j.Children = append(j.Children, c)
				return err
			})
			if ok && j.Children == nil {
				j.Children = []*Job{}
			}
		default:
			var raw json.RawMessage
			if raw, err = s.skip(); err == nil {
				extra(&j.Extra, k, raw)
			}
		}
		return err
	})
	if err != nil || !ok {
		return nil, err
	}
	j.raw = s.data[start:s.i:s.i]
	return j, nil
}

// jobData reads a job's data object (or null).
func (s *scanner) jobData() (*JobData, error) {
	d := &JobData{}
	ok, err := s.object(func(kb []byte, esc bool) error {
		k := jobKey(kb, esc)
		d.keys = append(d.keys, k)
		if k != "progress" {
			raw, err := s.skip()
			if err == nil {
				extra(&d.Extra, k, raw)
			}
			return err
		}
		d.Progress = nil
		if s.null() {
			return nil
		}
		num, err := s.number()
		if err != nil {
			return err
		}
		f, err := strconv.ParseFloat(string(num), 64)
		if err != nil {
			return fmt.Errorf("%w: progress %s: %v", ErrMalformed, num, err)
		}
		d.Progress = &f
		return nil
	})
	if err != nil || !ok {
		return nil, err
	}
	return d, nil
}

// jobList reads {"meta": ..., "objects": [...]}; other members are
// skipped.
func (s *scanner) jobList() (*JobList, error) {
	l := &JobList{}
	ok, err := s.object(func(kb []byte, esc bool) error {
		switch key(kb, esc) {
		case "meta":
			raw, err := s.skip()
			if err != nil {
				return err
			}
			if err := json.Unmarshal(raw, &l.Meta); err != nil {
				return fmt.Errorf("%w: meta: %v", ErrMalformed, err)
			}
		case "objects":
			l.Objects = nil
			_, err := s.array(func() error {
				j, err := s.job(0)
				l.Objects = append(l.Objects, j)
				return err
			})
			return err
		default:
			_, err := s.skip()
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: job list is null", ErrMalformed)
	}
	return l, nil
}
