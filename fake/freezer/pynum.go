package freezer

import (
	"encoding/json"
	"math"
	"strings"
	"unicode"
)

// Python's json.loads, which freezer-api parses bodies with, takes three
// literals JSON lacks: NaN, Infinity and -Infinity; and it reads a float
// too large for a double (1e400) as inf. json.dumps writes them back as
// NaN, Infinity and -Infinity, and repr (in jsonschema's messages) as nan,
// inf and -inf. The fake keeps such a value as the json.Number "NaN",
// "Infinity" or "-Infinity".

// nanMarker stands for a NaN literal while encoding/json parses the text:
// a valid JSON number nobody sends (Python reads it as 0.0).
const nanMarker = "0.0e-271828182845904523536"

// pyLiterals rewrites the NaN, Infinity and -Infinity literals of a JSON
// text, outside strings and where a value starts, into numbers
// encoding/json reads (nanMarker, 1e999999, -1e999999); fixNumbers turns
// them into the values they stand for after decoding.
func pyLiterals(data []byte) []byte {
	var out []byte // nil until a literal is found
	inString, escaped := false, false
	prev := byte(0) // the last byte outside strings that is not space
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			if out != nil {
				out = append(out, c)
			}
			continue
		}
		if c == '"' {
			inString = true
		}
		var lit, repl string
		if prev == 0 || prev == ':' || prev == ',' || prev == '[' {
			for _, l := range [...][2]string{{"NaN", nanMarker}, {"Infinity", "1e999999"}, {"-Infinity", "-1e999999"}} {
				if strings.HasPrefix(string(data[i:min(len(data), i+len(l[0]))]), l[0]) {
					lit, repl = l[0], l[1]
					break
				}
			}
		}
		if lit != "" {
			if out == nil {
				out = append(make([]byte, 0, len(data)+32), data[:i]...)
			}
			out = append(out, repl...)
			i += len(lit) - 1
			prev = '0'
			continue
		}
		if out != nil {
			out = append(out, c)
		}
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			prev = c
		}
	}
	if out == nil {
		return data
	}
	return out
}

// fixNumbers replaces, in decoded JSON, nanMarker by "NaN" and a float
// beyond a double's range by "Infinity" or "-Infinity", as Python reads
// them. Integers stay exact, as Python's are.
func fixNumbers(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = fixNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = fixNumbers(e)
		}
	case json.Number:
		s := string(x)
		if s == nanMarker {
			return json.Number("NaN")
		}
		if strings.ContainsAny(s, ".eE") {
			if f, _ := x.Float64(); math.IsInf(f, 1) {
				return json.Number("Infinity")
			} else if math.IsInf(f, -1) {
				return json.Number("-Infinity")
			}
		}
	}
	return v
}

// nonFinite reports whether n is one of Python's float literals.
func nonFinite(n json.Number) bool {
	return n == "NaN" || n == "Infinity" || n == "-Infinity"
}

// pyAtoi reads s as Python's int(s) does: surrounding whitespace, an
// optional sign, decimal digits of any script (Unicode category Nd) with
// single underscores between them. big reports a value outside int64
// (Python's int has no bound; n is then clamped).
func pyAtoi(s string) (n int64, big, ok bool) {
	s = strings.TrimFunc(s, unicode.IsSpace)
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" {
		return 0, false, false
	}
	var u uint64
	prevDigit := false
	for _, r := range s {
		if r == '_' {
			if !prevDigit {
				return 0, false, false
			}
			prevDigit = false
			continue
		}
		d, isDigit := digitValue(r)
		if !isDigit {
			return 0, false, false
		}
		prevDigit = true
		if !big {
			if u > (math.MaxUint64-uint64(d))/10 {
				big = true
			} else {
				u = u*10 + uint64(d)
			}
		}
	}
	if !prevDigit {
		return 0, false, false // a trailing underscore
	}
	switch {
	case !neg && (big || u > math.MaxInt64):
		return math.MaxInt64, true, true
	case neg && (big || u > 1<<63):
		return math.MinInt64, true, true
	case neg:
		return -int64(u), false, true // u <= 1<<63: -int64 wraps right at 1<<63
	}
	return int64(u), false, true
}

// digitValue is the decimal value of a Unicode decimal digit: Nd digits
// come in runs of ten starting at zero, so the value is the distance from
// the run's start modulo ten.
func digitValue(r rune) (int, bool) {
	if !unicode.IsDigit(r) {
		return 0, false
	}
	start := r
	for start > 0 && unicode.IsDigit(start-1) {
		start--
	}
	return int(r-start) % 10, true
}
