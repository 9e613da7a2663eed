package cloudsigma

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// reserved are the query parameters that are not filters.
var reserved = map[string]bool{
	"limit": true, "offset": true, "fields": true, "order_by": true, "format": true,
	"do": true, "avoid": true, "recurse": true,
}

// SplitFilter splits a filter value on commas, honouring CloudSigma's
// escapes: \, is a literal comma and \\ a literal backslash.
func SplitFilter(v string) []string {
	var out []string
	var cur strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '\\' && i+1 < len(v) && (v[i+1] == ',' || v[i+1] == '\\'):
			cur.WriteByte(v[i+1])
			i++
		case c == ',':
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	return append(out, cur.String())
}

// serveList filters, orders, pages and trims docs and writes the list.
func (b *Backend) serveList(w http.ResponseWriter, r *http.Request, docs []doc, filters, ordering map[string]bool, trim []string) {
	q := r.URL.Query()
	limit, offset := 20, 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeErr(w, http.StatusBadRequest, "validation", "limit", fmt.Sprintf("Invalid limit '%s' provided. Please provide a positive integer.", v))
			return
		}
		limit = n
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeErr(w, http.StatusBadRequest, "validation", "offset", fmt.Sprintf("Invalid offset '%s' provided. Please provide a positive integer >= 0.", v))
			return
		}
		offset = n
	}
	known := map[string]bool{}
	for _, d := range docs {
		for k := range d.fields {
			known[k] = true
		}
	}
	for k := range filters {
		known[k] = true
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if reserved[k] {
			continue
		}
		base, _, _ := strings.Cut(k, "__")
		if !known[base] && !filters[k] {
			continue // tastypie ignores parameters that name no field
		}
		if !filters[k] {
			writeErr(w, http.StatusBadRequest, "validation", k, fmt.Sprintf("The '%s' field does not allow filtering.", k))
			return
		}
		for _, raw := range q[k] {
			docs = filterDocs(docs, k, SplitFilter(raw))
		}
	}
	if ob := q.Get("order_by"); ob != "" {
		field := strings.TrimPrefix(ob, "-")
		if !ordering[field] {
			writeErr(w, http.StatusBadRequest, "validation", "order_by", fmt.Sprintf("No matching '%s' field for ordering on.", field))
			return
		}
		desc := strings.HasPrefix(ob, "-")
		sort.SliceStable(docs, func(i, j int) bool {
			a, b := fmt.Sprint(docs[i].fields[field]), fmt.Sprint(docs[j].fields[field])
			if desc {
				return a > b
			}
			return a < b
		})
	}
	total := len(docs)
	page := docs[min(offset, total):]
	if limit > 0 && len(page) > limit {
		page = page[:limit]
	}
	var fields []string
	if f := q.Get("fields"); f != "" {
		fields = strings.Split(f, ",")
	} else {
		fields = trim
	}
	objects := make([]any, 0, len(page))
	for _, d := range page {
		if d.raw != nil {
			objects = append(objects, d.raw)
			continue
		}
		objects = append(objects, selectFields(d.fields, fields))
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"meta":    map[string]any{"limit": limit, "offset": offset, "total_count": total},
		"objects": objects,
	})
}

func selectFields(m map[string]any, fields []string) map[string]any {
	if len(fields) == 0 {
		return m
	}
	out := make(map[string]any, len(fields))
	for _, f := range fields {
		if v, ok := m[f]; ok {
			out[f] = v
		}
	}
	return out
}

func filterDocs(docs []doc, key string, values []string) []doc {
	out := docs[:0:0]
	for _, d := range docs {
		if matches(d.fields, key, values) {
			out = append(out, d)
		}
	}
	return out
}

func matches(m map[string]any, key string, values []string) bool {
	base, op, _ := strings.Cut(key, "__")
	if base == "tag" {
		tags, _ := m["tags"].([]any)
		for _, t := range tags {
			if ref, ok := t.(map[string]any); ok {
				for _, v := range values {
					if ref["uuid"] == v {
						return true
					}
				}
			}
		}
		return false
	}
	have := fmt.Sprint(m[base])
	for _, v := range values {
		switch op {
		case "contains":
			if strings.Contains(strings.ToLower(have), strings.ToLower(v)) {
				return true
			}
		default:
			if have == v {
				return true
			}
		}
	}
	return false
}
