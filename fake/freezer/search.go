package freezer

import (
	"encoding/json"
	"sort"
)

// pyEqual is Python's == on decoded JSON: numbers compare by value, and
// True == 1, False == 0.
func pyEqual(a, b any) bool {
	na, aok := pyNum(a)
	nb, bok := pyNum(b)
	if aok && bok {
		return na == nb
	}
	if aok != bok {
		return false
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case string:
		y, ok := b.(string)
		return ok && x == y
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !pyEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !pyEqual(v, w) {
				return false
			}
		}
		return true
	}
	return false
}

func pyNum(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case float64:
		return x, true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

type search struct {
	match, matchNot []map[string]any
}

// searchOption reads a search body as valid_and_get_search_option does:
// nil when there is nothing to filter by; valid is false where the server
// fails (a body that is not an object).
func searchOption(body any) (s *search, valid bool) {
	m, ok := body.(map[string]any)
	if !ok {
		return nil, false
	}
	if len(m) == 0 {
		return nil, true
	}
	terms := func(k string) ([]map[string]any, bool) {
		v, present := m[k]
		if !present || v == nil {
			return nil, true
		}
		list, ok := v.([]any)
		if !ok {
			return nil, false
		}
		out := make([]map[string]any, 0, len(list))
		for _, e := range list {
			em, ok := e.(map[string]any)
			if !ok {
				return nil, false
			}
			out = append(out, em)
		}
		return out, true
	}
	match, ok1 := terms("match")
	not, ok2 := terms("match_not")
	if !ok1 || !ok2 {
		return nil, false
	}
	if len(match) == 0 && len(not) == 0 {
		return nil, true
	}
	if all, ok := firstAll(match); ok {
		// The command line's --search sends {"match": [{"_all": TEXT}]};
		// the SQL backend reads TEXT as a JSON list of {key: value} and
		// matches on those alone, and lists everything when it is not one.
		text, ok := all.(string)
		if !ok {
			return nil, true
		}
		list, ok := decode([]byte(text)).([]any)
		if !ok {
			return nil, true
		}
		match, not = nil, nil
		for _, e := range list {
			em, ok := e.(map[string]any)
			if !ok {
				return nil, false
			}
			match = append(match, em)
		}
		if len(match) == 0 {
			return &search{}, true
		}
	}
	return &search{match: match, matchNot: not}, true
}

// topOrder is the key order of a job document as the SQL backend builds it;
// get_recursively lets later keys win.
var topOrder = []string{"job_id", "project_id", "user_id", "job_schedule", "client_id", "session_id", "session_tag", "description", "job_actions"}

func findRecursive(v map[string]any, keys map[string]bool, found map[string]any, order []string) {
	if order == nil {
		order = make([]string, 0, len(v))
		for k := range v {
			order = append(order, k)
		}
		sort.Strings(order)
	}
	for _, k := range order {
		val, ok := v[k]
		if !ok {
			continue
		}
		switch x := val.(type) {
		case map[string]any:
			if keys[k] {
				found[k] = val
			} else {
				findRecursive(x, keys, found, nil)
			}
		case []any:
			if keys[k] {
				found[k] = val
				continue
			}
			for _, e := range x {
				if em, ok := e.(map[string]any); ok {
					findRecursive(em, keys, found, nil)
				}
			}
		default:
			if keys[k] {
				found[k] = val
			}
		}
	}
}

// filterSearch is filter_tuple_by_search_opt: every match pair must equal
// the value found for its key, no match_not pair may; offset and limit
// count the jobs that pass.
func filterSearch(docs []map[string]any, s *search, offset, limit int) []map[string]any {
	out := []map[string]any{}
	for _, i := range searchIndex(docs, s, offset, limit, topOrder) {
		out = append(out, docs[i])
	}
	return out
}

// searchIndex is filterSearch by index; order is the top-level key order
// of the documents (nil: sorted).
func searchIndex(docs []map[string]any, s *search, offset, limit int, order []string) []int {
	keys := map[string]bool{}
	for _, m := range append(append([]map[string]any(nil), s.match...), s.matchNot...) {
		for k := range m {
			keys[k] = true
		}
	}
	out := []int{}
	passed := 0
	for i, d := range docs {
		if len(out) >= limit {
			break
		}
		found := map[string]any{}
		findRecursive(d, keys, found, order)
		in := true
		for _, m := range s.match {
			for k, v := range m {
				if !pyEqual(v, found[k]) {
					in = false
				}
			}
		}
		for _, m := range s.matchNot {
			for k, v := range m {
				if pyEqual(v, found[k]) {
					in = false
				}
			}
		}
		if in {
			passed++
			if passed > offset {
				out = append(out, i)
			}
		}
	}
	return out
}

// firstAll is the "_all" text of the first match term, if it has one.
func firstAll(match []map[string]any) (any, bool) {
	if len(match) == 0 {
		return nil, false
	}
	v, ok := match[0]["_all"]
	return v, ok
}
