package freezer

import (
	"encoding/json"
	"errors"
	"strconv"
)

// A small splitter for JSON that encoding/json has already validated: it
// walks an object's members or an array's elements without decoding them,
// so nested documents are scanned once instead of once per level.

var errNotObject = errors.New("freezer: not a JSON object")

func skipSpace(d []byte, i int) int {
	for i < len(d) && (d[i] == ' ' || d[i] == '\t' || d[i] == '\n' || d[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at d[i] == '"'.
func skipString(d []byte, i int) int {
	for i++; i < len(d); i++ {
		switch d[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(d)
}

// skipValue returns the index after the value starting at d[i].
func skipValue(d []byte, i int) int {
	if i >= len(d) {
		return i
	}
	switch d[i] {
	case '"':
		return skipString(d, i)
	case '{', '[':
		depth := 0
		for ; i < len(d); i++ {
			switch d[i] {
			case '"':
				i = skipString(d, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return len(d)
	}
	for i < len(d) && d[i] != ',' && d[i] != '}' && d[i] != ']' && d[i] != ' ' && d[i] != '\n' && d[i] != '\t' && d[i] != '\r' {
		i++
	}
	return i
}

// members calls fn with each key and raw value of the object d.
func members(d []byte, fn func(key string, val []byte)) error {
	i := skipSpace(d, 0)
	if i >= len(d) || d[i] != '{' {
		return errNotObject
	}
	i = skipSpace(d, i+1)
	for i < len(d) && d[i] != '}' {
		if d[i] != '"' {
			return errNotObject
		}
		end := skipString(d, i)
		raw := d[i:end]
		key := ""
		if k, ok := plainString(raw); ok {
			key = k
		} else if err := json.Unmarshal(raw, &key); err != nil {
			return err
		}
		i = skipSpace(d, end)
		if i >= len(d) || d[i] != ':' {
			return errNotObject
		}
		i = skipSpace(d, i+1)
		vend := skipValue(d, i)
		fn(key, d[i:vend])
		i = skipSpace(d, vend)
		if i < len(d) && d[i] == ',' {
			i = skipSpace(d, i+1)
		}
	}
	return nil
}

// elements calls fn with each raw element of the array d; false when d is
// not an array.
func elements(d []byte, fn func(val []byte) bool) bool {
	i := skipSpace(d, 0)
	if i >= len(d) || d[i] != '[' {
		return false
	}
	i = skipSpace(d, i+1)
	for i < len(d) && d[i] != ']' {
		end := skipValue(d, i)
		if !fn(d[i:end]) {
			return false
		}
		i = skipSpace(d, end)
		if i < len(d) && d[i] == ',' {
			i = skipSpace(d, i+1)
		}
	}
	return true
}

// plainString decodes a JSON string without escapes or non-ASCII bytes.
func plainString(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	s := raw[1 : len(raw)-1]
	for _, c := range s {
		if c < 0x20 || c >= 0x80 || c == '\\' || c == '"' {
			return "", false
		}
	}
	return string(s), true
}

func parseInt(raw []byte) (int64, bool) {
	n, err := strconv.ParseInt(string(raw), 10, 64)
	return n, err == nil
}
