package cloudsigma

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
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

// listing is the objects a list request chooses from. Filters and
// order_by read single fields of each object; only the objects of the
// page asked for are encoded, so a request costs a pass over the objects'
// fields, not an encoding of every object.
type listing interface {
	len() int
	// text is field name of object i as filters and order_by compare it
	// (fmt.Sprint of the document's value).
	text(i int, name string) string
	// value is field name of object i as the document holds it (the tag
	// filter reads "tags").
	value(i int, name string) any
	// appendObject appends object i's document, or, when fields is not
	// empty, only those of its fields.
	appendObject(buf []byte, i int, fields []string) ([]byte, error)
}

// cachedListing is a listing that keeps the result of its last
// filtering (the indexes of the objects that passed, under a key naming
// the filters) while its objects do not change.
type cachedListing interface {
	cached(key string) ([]int32, bool)
	keep(key string, idx []int32)
}

// serveList filters, orders, pages and trims the objects of l, whose
// documents have the fields known, and writes the list.
func (b *Backend) serveList(w http.ResponseWriter, r *http.Request, l listing, known, filters, ordering map[string]bool, trim []string) {
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
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	type filter struct{ key, raw string }
	var applied []filter
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
			applied = append(applied, filter{k, raw})
		}
	}
	orderBy, desc := "", false
	if ob := q.Get("order_by"); ob != "" {
		orderBy = strings.TrimPrefix(ob, "-")
		if !ordering[orderBy] {
			writeErr(w, http.StatusBadRequest, "validation", "order_by", fmt.Sprintf("No matching '%s' field for ordering on.", orderBy))
			return
		}
		desc = strings.HasPrefix(ob, "-")
	}
	// The objects that pass the filters: from the listing's cache when it
	// keeps one (the pages of one listing, asked one after the other while
	// nothing changes, cost a pass over the objects once, not per page).
	cache, _ := l.(cachedListing)
	var cacheKey strings.Builder
	for _, f := range applied {
		cacheKey.WriteString(f.key + "=" + f.raw + "\x00")
	}
	idx, hit := []int32(nil), false
	if cache != nil {
		idx, hit = cache.cached(cacheKey.String())
	}
	if !hit {
		vis, _ := l.(interface{ visible(i int) bool })
		idx = make([]int32, 0, l.len())
		for i := range l.len() {
			if vis == nil || vis.visible(i) {
				idx = append(idx, int32(i))
			}
		}
		for _, f := range applied {
			idx = filterList(l, idx, f.key, SplitFilter(f.raw))
		}
		if cache != nil {
			cache.keep(cacheKey.String(), idx)
		}
	}
	if orderBy != "" {
		type keyed struct {
			i   int32
			key string
		}
		by := make([]keyed, len(idx))
		for n, i := range idx {
			by[n] = keyed{i, l.text(int(i), orderBy)}
		}
		sort.SliceStable(by, func(i, j int) bool {
			if desc {
				return by[i].key > by[j].key
			}
			return by[i].key < by[j].key
		})
		idx = make([]int32, len(by)) // a cached idx stays in its order
		for n := range by {
			idx[n] = by[n].i
		}
	}
	total := len(idx)
	page := idx[min(offset, total):]
	if limit > 0 && len(page) > limit {
		page = page[:limit]
	}
	var fields []string
	if f := q.Get("fields"); f != "" {
		fields = strings.Split(f, ",")
	} else {
		fields = trim
	}
	// As encoding/json writes {"meta": {...}, "objects": [...]}.
	pooled := listBuffers.Get().(*[]byte)
	defer func() {
		if cap(*pooled) <= maxPooledList {
			listBuffers.Put(pooled)
		}
	}()
	buf := (*pooled)[:0]
	buf = append(buf, `{"meta":{"limit":`...)
	buf = strconv.AppendInt(buf, int64(limit), 10)
	buf = append(buf, `,"offset":`...)
	buf = strconv.AppendInt(buf, int64(offset), 10)
	buf = append(buf, `,"total_count":`...)
	buf = strconv.AppendInt(buf, int64(total), 10)
	buf = append(buf, `},"objects":[`...)
	for n, i := range page {
		if n > 0 {
			buf = append(buf, ',')
		}
		var err error
		if buf, err = l.appendObject(buf, int(i), fields); err != nil {
			writeRaw(w, 0, nil)
			return
		}
	}
	buf = append(buf, "]}"...)
	*pooled = buf
	writeRaw(w, http.StatusOK, buf)
}

// appendDoc appends m, or only its fields when fields is not empty, as
// encoding/json writes it.
func appendDoc(buf []byte, m map[string]any, fields []string) ([]byte, error) {
	out, err := json.Marshal(selectFields(m, fields))
	if err != nil {
		return buf, err
	}
	return append(buf, out...), nil
}

// docListing is a listing of documents built beforehand.
type docListing []map[string]any

func (l docListing) len() int                       { return len(l) }
func (l docListing) text(i int, name string) string { return fmt.Sprint(l[i][name]) }
func (l docListing) value(i int, name string) any   { return l[i][name] }
func (l docListing) appendObject(buf []byte, i int, fields []string) ([]byte, error) {
	return appendDoc(buf, l[i], fields)
}

// keysOf is the set of the keys of m.
func keysOf(m map[string]any) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
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

// filterList keeps the objects of idx whose field key matches one of
// values.
func filterList(l listing, idx []int32, key string, values []string) []int32 {
	out := idx[:0]
	for _, i := range idx {
		if matches(l, int(i), key, values) {
			out = append(out, i)
		}
	}
	return out
}

func matches(l listing, i int, key string, values []string) bool {
	base, op, _ := strings.Cut(key, "__")
	if base == "tag" {
		tags, _ := l.value(i, "tags").([]any)
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
	if list, ok := l.value(i, base).([]string); ok { // a library drive's category
		for _, v := range values {
			if slices.Contains(list, v) {
				return true
			}
		}
		return false
	}
	have := l.text(i, base)
	for _, v := range values {
		switch op {
		case "contains", "icontains":
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
