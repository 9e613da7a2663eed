package freezer

import "github.com/longrun/longrun/fake/internal/pyjson"

// obj is a JSON object whose keys keep the order they were set in, as a
// Python dict does: freezer-api builds its documents key by key and
// json.dumps writes them in that order.
type obj []kv

type kv struct {
	k string
	v any
}

// set replaces k's value in place, or appends k (dict assignment).
func (o *obj) set(k string, v any) {
	for i := range *o {
		if (*o)[i].k == k {
			(*o)[i].v = v
			return
		}
	}
	*o = append(*o, kv{k, v})
}

// Members yields o's keys in order, for [pyjson.Ordered].
func (o obj) Members(yield func(k string, v any) bool) {
	for _, e := range o {
		if !yield(e.k, e.v) {
			return
		}
	}
}

// pyDumps writes v as freezer-api's middleware does, with Python's
// json.dumps and its defaults: ", " and ": " separators, non-ASCII escaped
// as \uXXXX. Maps (decoded request documents) are written in key order.
func pyDumps(v any) []byte { return pyjson.Marshal(v) }
