package freezer

import (
	"bytes"
	"encoding/json"
	"slices"
)

// shape is the key order of a JSON document as it arrived: the fake
// decodes documents into Go maps, which forget it, while freezer-api keeps
// Python dicts, which remember it, and writes stored documents back in
// the order they were sent. A shape rides along with each stored
// document and orders its maps when they are written.
type shape struct {
	keys  []string
	kids  map[string]*shape
	elems []*shape
}

// shapeOf reads the key order of data (nil when it is not JSON).
func shapeOf(data []byte) *shape {
	dec := json.NewDecoder(bytes.NewReader(pyLiterals(data)))
	dec.UseNumber()
	sh, err := readShape(dec)
	if err != nil {
		return nil
	}
	return sh
}

func readShape(dec *json.Decoder) (*shape, error) {
	t, err := dec.Token()
	if err != nil {
		return nil, err
	}
	d, ok := t.(json.Delim)
	if !ok {
		return nil, nil
	}
	sh := &shape{}
	switch d {
	case '{':
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			k, _ := kt.(string)
			kid, err := readShape(dec)
			if err != nil {
				return nil, err
			}
			if !slices.Contains(sh.keys, k) {
				sh.keys = append(sh.keys, k)
			}
			if kid != nil {
				if sh.kids == nil {
					sh.kids = map[string]*shape{}
				}
				sh.kids[k] = kid
			} else if sh.kids != nil {
				delete(sh.kids, k)
			}
		}
	case '[':
		for dec.More() {
			kid, err := readShape(dec)
			if err != nil {
				return nil, err
			}
			sh.elems = append(sh.elems, kid)
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	return sh, nil
}

// kid is the shape of key k (nil-safe).
func (s *shape) kid(k string) *shape {
	if s == nil {
		return nil
	}
	return s.kids[k]
}

// elem is the shape of element i (nil-safe).
func (s *shape) elem(i int) *shape {
	if s == nil || i >= len(s.elems) {
		return nil
	}
	return s.elems[i]
}

// add appends keys as Python's dict assignment does for new keys.
func (s *shape) add(keys ...string) *shape {
	if s == nil {
		s = &shape{}
	}
	for _, k := range keys {
		if !slices.Contains(s.keys, k) {
			s.keys = append(s.keys, k)
		}
	}
	return s
}

// put sets the shape of key k, adding k.
func (s *shape) put(k string, kid *shape) *shape {
	s = s.add(k)
	if s.kids == nil {
		s.kids = map[string]*shape{}
	}
	s.kids[k] = kid
	return s
}

// clone copies a shape deeply.
func (s *shape) clone() *shape {
	if s == nil {
		return nil
	}
	c := &shape{keys: slices.Clone(s.keys)}
	if s.kids != nil {
		c.kids = make(map[string]*shape, len(s.kids))
		for k, v := range s.kids {
			c.kids[k] = v.clone()
		}
	}
	for _, e := range s.elems {
		c.elems = append(c.elems, e.clone())
	}
	return c
}

// ordered turns the maps of v into objs: keys the shape knows first, in
// its order, then the others sorted.
func ordered(v any, sh *shape) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(obj, 0, len(x))
		if sh != nil {
			for _, k := range sh.keys {
				if e, ok := x[k]; ok {
					out = append(out, kv{k, ordered(e, sh.kid(k))})
				}
			}
		}
		for _, k := range sortedKeys(x) {
			if sh == nil || !slices.Contains(sh.keys, k) {
				out = append(out, kv{k, ordered(x[k], nil)})
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = ordered(e, sh.elem(i))
		}
		return out
	}
	return v
}
