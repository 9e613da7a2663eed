// Package pyjson writes JSON the way Python's json.dumps does with its
// default settings: ", " and ": " separators, every character outside
// printable ASCII escaped as \uXXXX (characters beyond the BMP as a
// surrogate pair), integers as integers and floats in repr form. The
// fakes of Python services (freezer-api, ftrack) answer with these bytes.
//
// Maps are written with their keys sorted, as json.dumps(v, sort_keys=True)
// does (Python sorts str keys by code point, as Go compares UTF-8); a value
// that implements [Ordered] keeps its own order, as a dict keeps the order
// its keys were set in. Clone deep-copies decoded JSON.
package pyjson

import (
	"encoding/json"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
)

// Ordered is a JSON object whose members are written in the order Members
// yields them, as Python writes a dict in insertion order.
type Ordered interface {
	Members(yield func(key string, value any) bool)
}

// Marshal returns v as Python's json.dumps(v) writes it.
func Marshal(v any) []byte { return Append(nil, v) }

// Append appends v to b as Python's json.dumps(v) writes it. v is decoded
// JSON (maps, slices, strings, json.Number or float64, booleans and nil),
// ints, [Ordered] objects, or slices and string-keyed maps of these; any
// other value is written as encoding/json marshals it, re-spaced.
func Append(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		return strconv.AppendBool(b, x)
	case string:
		return AppendString(b, x)
	case json.Number:
		return append(b, Number(x)...)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case float64:
		// A decoder that yields float64 has lost Python's line between
		// int and float; JSON numbers without a fraction decode as ints
		// there.
		switch {
		case x == float64(int64(x)) && x > -1e15 && x < 1e15:
			return strconv.AppendInt(b, int64(x), 10)
		case math.IsNaN(x):
			return append(b, "NaN"...)
		case math.IsInf(x, 0):
			return append(b, strings.Replace(Float(x), "inf", "Infinity", 1)...)
		}
		return append(b, Float(x)...)
	case Ordered:
		b = append(b, '{')
		first := true
		for k, e := range x.Members {
			if !first {
				b = append(b, ", "...)
			}
			first = false
			b = AppendString(b, k)
			b = append(b, ": "...)
			b = Append(b, e)
		}
		return append(b, '}')
	case map[string]any:
		b = append(b, '{')
		for i, k := range slices.Sorted(maps.Keys(x)) {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = AppendString(b, k)
			b = append(b, ": "...)
			b = Append(b, x[k])
		}
		return append(b, '}')
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = Append(b, e)
		}
		return append(b, ']')
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array {
		b = append(b, '[')
		for i := range rv.Len() {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = Append(b, rv.Index(i).Interface())
		}
		return append(b, ']')
	}
	data, err := json.Marshal(v)
	if err != nil {
		return append(b, "null"...)
	}
	var d any
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	if dec.Decode(&d) != nil {
		return append(b, data...)
	}
	return Append(b, d)
}

// Number is how Python writes a JSON number it read: an integer as it
// stands (without a sign on zero), anything with a fraction or an exponent
// as the float's repr. A number outside float64's range is left as written.
func Number(n json.Number) string {
	s := n.String()
	if !strings.ContainsAny(s, ".eE") {
		s = strings.TrimPrefix(s, "+")
		if s == "-0" {
			return "0"
		}
		return s
	}
	f, err := n.Float64()
	if err != nil {
		return s
	}
	return Float(f)
}

// Float is Python's repr of a float: the shortest digits that read back
// the same, in positional notation with at least one fractional digit when
// the decimal exponent is from -4 to 15, else as d.ddde±XX; inf, -inf and
// nan for the others.
func Float(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64)
	_, exp, _ := strings.Cut(e, "e")
	if x, _ := strconv.Atoi(exp); x < -4 || x > 15 {
		return e // Go writes at least two exponent digits and the sign, as Python does
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// AppendString appends s as a JSON string with json.dumps' ensure_ascii
// escaping: only printable ASCII stands as itself.
func AppendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	u := func(b []byte, r rune) []byte {
		return append(b, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
	}
	b = append(b, '"')
	for _, r := range s {
		switch r {
		case '"':
			b = append(b, `\"`...)
		case '\\':
			b = append(b, `\\`...)
		case '\n':
			b = append(b, `\n`...)
		case '\r':
			b = append(b, `\r`...)
		case '\t':
			b = append(b, `\t`...)
		case '\b':
			b = append(b, `\b`...)
		case '\f':
			b = append(b, `\f`...)
		default:
			switch {
			case r >= 0x20 && r < 0x7f:
				b = append(b, byte(r))
			case r > 0xffff:
				r1, r2 := utf16.EncodeRune(r)
				b = u(u(b, r1), r2)
			default:
				b = u(b, r)
			}
		}
	}
	return append(b, '"')
}

// Clone returns a deep copy of decoded JSON: maps and []any are copied,
// all else is shared.
func Clone(v any) any {
	switch x := v.(type) {
	case map[string]any:
		c := make(map[string]any, len(x))
		for k, e := range x {
			c[k] = Clone(e)
		}
		return c
	case []any:
		c := make([]any, len(x))
		for i, e := range x {
			c[i] = Clone(e)
		}
		return c
	}
	return v
}
