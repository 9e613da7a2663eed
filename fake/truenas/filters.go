package truenas

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file is the middleware's query-filters and query-options language
// (filter_list, documented in query_methods.rst), applied to decoded JSON
// documents (map[string]any, []any, float64, string, bool, nil).

// errMatchNotFound is MatchNotFound: options.get with no match.
var errMatchNotFound = &Exception{Type: "MatchNotFound", Message: "MatchNotFound()"}

// QueryOptions are the query-options of a query method.
type queryOptions struct {
	Select  []json.RawMessage `json:"select"`
	OrderBy []string          `json:"order_by"`
	Count   bool              `json:"count"`
	Get     bool              `json:"get"`
	Offset  int               `json:"offset"`
	Limit   int               `json:"limit"`
	Extra   map[string]any    `json:"extra"`
	// force_sql_filters (and, on 24.10 and 25.04, relationships, extend,
	// extend_context, prefix) are accepted and ignored, as for in-memory
	// lists.
}

type filterNode struct {
	or    [][]filterNode // OR: each branch is an AND group
	field []string
	op    string
	ci    bool
	value any
	re    *regexp.Regexp
	// set holds an in/nin operand of scalars (folded when ci), so that a
	// filter such as ["id", "in", [100,000 ids]] costs one lookup per
	// document rather than a scan of the list.
	set map[any]struct{}
}

const maxFilterDepth = 4

// compileFilters parses query-filters.
func compileFilters(raw json.RawMessage) ([]filterNode, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var list []any
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&list); err != nil {
		return nil, errors.New("query-filters must be an array")
	}
	// ["OR", [...]] given as the whole filter list is one OR node.
	if len(list) == 2 {
		if s, ok := list[0].(string); ok && s == "OR" {
			list = []any{list}
		}
	}
	return compileAnd(list, 0)
}

func compileAnd(list []any, depth int) ([]filterNode, error) {
	if depth > maxFilterDepth {
		return nil, errors.New("query-filters max recursion depth exceeded")
	}
	out := make([]filterNode, 0, len(list))
	for _, f := range list {
		n, err := compileOne(f, depth)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

func compileOne(f any, depth int) (filterNode, error) {
	arr, ok := f.([]any)
	if !ok {
		return filterNode{}, fmt.Errorf("%s: filter must be an array", jsonString(f))
	}
	if len(arr) == 2 {
		if s, ok := arr[0].(string); ok && s == "OR" {
			branches, ok := arr[1].([]any)
			if !ok {
				return filterNode{}, errors.New("OR: operand must be an array of filters")
			}
			if len(branches) == 0 {
				return filterNode{}, errors.New("OR filter requires at least one branch.")
			}
			n := filterNode{}
			for _, br := range branches {
				ba, ok := br.([]any)
				if !ok {
					return filterNode{}, errors.New("OR: operand must be an array of filters")
				}
				// A branch is a single filter or an AND group of filters.
				if len(ba) > 0 {
					if _, nested := ba[0].([]any); nested {
						g, err := compileAnd(ba, depth+1)
						if err != nil {
							return filterNode{}, err
						}
						n.or = append(n.or, g)
						continue
					}
				}
				one, err := compileOne(ba, depth+1)
				if err != nil {
					return filterNode{}, err
				}
				n.or = append(n.or, []filterNode{one})
			}
			return n, nil
		}
	}
	if len(arr) == 2 {
		return filterNode{}, fmt.Errorf("Invalid operation: %s", pyStr(arr[0]))
	}
	if len(arr) != 3 {
		return filterNode{}, fmt.Errorf("Invalid filter %s", pyReprJSON(normNumbers(f)))
	}
	field, ok := arr[0].(string)
	if !ok {
		return filterNode{}, fmt.Errorf("%s: field name must be a string", jsonString(arr[0]))
	}
	op, ok := arr[1].(string)
	if !ok {
		return filterNode{}, fmt.Errorf("%s: operator must be a string", jsonString(arr[1]))
	}
	n := filterNode{op: op, value: normNumbers(arr[2])}
	if strings.HasPrefix(op, "C") {
		n.ci, n.op = true, op[1:]
	}
	if n.ci && n.op == "~" {
		return filterNode{}, fmt.Errorf("Invalid case-insensitive operation: %s", op)
	}
	switch n.op {
	case "=", "!=", ">", ">=", "<", "<=", "~", "in", "nin", "rin", "rnin", "^", "!^", "$", "!$":
	default:
		return filterNode{}, fmt.Errorf("Invalid operation: %s", op)
	}
	if strings.HasSuffix(field, ".$date") {
		switch n.op {
		case "=", "!=", "<", ">", "<=", ">=":
		default:
			return filterNode{}, fmt.Errorf("%s: invalid timestamp operation.", op)
		}
		s, ok := n.value.(string)
		if !ok {
			return filterNode{}, fmt.Errorf("%v: must be an ISO-8601 formatted timestamp string", n.value)
		}
		t, err := parseISO(s)
		if err != nil {
			return filterNode{}, fmt.Errorf("%s: must be an ISO-8601 formatted timestamp string", s)
		}
		n.value = float64(t.UnixMilli())
	}
	n.field = splitPath(field)
	if n.op == "~" {
		s, ok := n.value.(string)
		if !ok {
			return filterNode{}, errors.New("~: operand must be a string")
		}
		if n.ci {
			s = "(?i)" + s
		}
		re, err := regexp.Compile(s)
		if err != nil {
			return filterNode{}, fmt.Errorf("%s: invalid regular expression", s)
		}
		n.re = re
	}
	if n.op == "in" || n.op == "nin" {
		if _, ok := n.value.([]any); !ok {
			if _, ok := n.value.(string); !ok {
				return filterNode{}, fmt.Errorf("%s: operand must be an array", op)
			}
		}
		n.set = scalarSet(n.value, n.ci)
	}
	return n, nil
}

func parseISO(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04:05.999999", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("bad timestamp")
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// normNumbers turns json.Number into float64 throughout v.
func normNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = normNumbers(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = normNumbers(x[k])
		}
	}
	return v
}

// splitPath splits a dotted path; "\\." (a backslash then a dot) is a
// literal dot.
func splitPath(p string) []string {
	var parts []string
	var cur strings.Builder
	for i := 0; i < len(p); i++ {
		switch {
		case p[i] == '\\' && i+1 < len(p) && p[i+1] == '.':
			cur.WriteByte('.')
			i++
		case p[i] == '.':
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(p[i])
		}
	}
	return append(parts, cur.String())
}

// resolve returns the values a path reaches ("*" fans out over arrays)
// and whether the path exists at all.
func resolve(doc any, path []string) []any {
	if len(path) == 0 {
		return []any{doc}
	}
	switch x := doc.(type) {
	case map[string]any:
		v, ok := x[path[0]]
		if !ok {
			return nil
		}
		return resolve(v, path[1:])
	case []any:
		if path[0] == "*" {
			var out []any
			for _, e := range x {
				out = append(out, resolve(e, path[1:])...)
			}
			return out
		}
		i, err := strconv.Atoi(path[0])
		if err != nil || i < 0 || i >= len(x) {
			return nil
		}
		return resolve(x[i], path[1:])
	}
	return nil
}

func matchAll(doc any, nodes []filterNode) bool {
	for i := range nodes {
		if !matchNode(doc, &nodes[i]) {
			return false
		}
	}
	return true
}

func matchNode(doc any, n *filterNode) bool {
	if n.or != nil {
		for _, g := range n.or {
			if matchAll(doc, g) {
				return true
			}
		}
		return false
	}
	vals := resolve(doc, n.field)
	if len(vals) == 0 {
		vals = []any{nil}
	}
	for _, v := range vals {
		if matchOp(v, n) {
			return true
		}
	}
	return false
}

func fold(v any, ci bool) any {
	if !ci {
		return v
	}
	switch x := v.(type) {
	case string:
		return strings.ToLower(x)
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = fold(x[i], true)
		}
		return out
	}
	return v
}

// scalarSet returns the elements of an array operand as a set when every
// element is a JSON scalar, and nil otherwise (the operand is then scanned).
func scalarSet(v any, ci bool) map[any]struct{} {
	arr, ok := v.([]any)
	if !ok || len(arr) < 8 {
		return nil
	}
	set := make(map[any]struct{}, len(arr))
	for _, e := range arr {
		switch e.(type) {
		case nil, bool, float64, string:
			set[setKey(fold(e, ci))] = struct{}{}
		default:
			return nil
		}
	}
	return set
}

// setKey is a scalar as a set key under jsonEqual: a bool is the number
// it equals, as Python hashes True like 1.
func setKey(v any) any {
	if n, ok := pyNumber(v); ok {
		return n
	}
	return v
}

// inSet reports whether x equals an element of set (jsonEqual on scalars
// is == once bools are numbers; an array or object equals no scalar).
func inSet(x any, set map[any]struct{}) bool {
	switch x.(type) {
	case nil, bool, float64, string:
		_, ok := set[setKey(x)]
		return ok
	}
	return false
}

func matchOp(x any, n *filterNode) bool {
	if n.set != nil {
		in := inSet(fold(x, n.ci), n.set)
		if n.op == "in" {
			return in
		}
		return x != nil && !in
	}
	y := n.value
	x, y = fold(x, n.ci), fold(y, n.ci)
	switch n.op {
	case "=":
		return jsonEqual(x, y)
	case "!=":
		return !jsonEqual(x, y)
	case ">", ">=", "<", "<=":
		c, ok := compare(x, y)
		if !ok {
			return false
		}
		switch n.op {
		case ">":
			return c > 0
		case ">=":
			return c >= 0
		case "<":
			return c < 0
		default:
			return c <= 0
		}
	case "~":
		s, ok := x.(string)
		return ok && n.re.MatchString(s)
	case "in":
		return contains(y, x)
	case "nin":
		return x != nil && !contains(y, x) // op_nin: a null is in nothing and out of nothing
	case "rin":
		return x != nil && contains(x, y)
	case "rnin":
		return x != nil && !contains(x, y)
	case "^", "!^", "$", "!$":
		s, ok1 := x.(string)
		p, ok2 := y.(string)
		if !ok1 || !ok2 {
			return false
		}
		switch n.op {
		case "^":
			return strings.HasPrefix(s, p)
		case "!^":
			return !strings.HasPrefix(s, p)
		case "$":
			return strings.HasSuffix(s, p)
		default:
			return !strings.HasSuffix(s, p)
		}
	}
	return false
}

func contains(container, item any) bool {
	switch c := container.(type) {
	case []any:
		for _, e := range c {
			if jsonEqual(e, item) {
				return true
			}
		}
	case string:
		s, ok := item.(string)
		return ok && strings.Contains(c, s)
	case map[string]any:
		s, ok := item.(string)
		if ok {
			_, has := c[s]
			return has
		}
	}
	return false
}

// pyNumber is v as a number the way Python sees it: a bool is an int
// (True == 1, False == 0).
func pyNumber(v any) (float64, bool) {
	switch x := v.(type) {
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

// jsonEqual is Python's == on decoded JSON, as the middleware's
// filter_list compares: numbers and bools by value (True == 1), strings,
// lists item by item, objects key by key.
func jsonEqual(a, b any) bool {
	if x, ok := pyNumber(a); ok {
		y, ok := pyNumber(b)
		return ok && x == y
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
			if !jsonEqual(x[i], y[i]) {
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
			if w, ok := y[k]; !ok || !jsonEqual(v, w) {
				return false
			}
		}
		return true
	}
	return false
}

// compare orders two scalars of the same kind.
func compare(a, b any) (int, bool) {
	if x, ok := pyNumber(a); ok {
		y, ok := pyNumber(b)
		if !ok || math.IsNaN(x) || math.IsNaN(y) {
			return 0, false
		}
		switch {
		case x < y:
			return -1, true
		case x > y:
			return 1, true
		}
		return 0, true
	}
	if x, ok := a.(string); ok {
		y, ok := b.(string)
		if !ok {
			return 0, false
		}
		return strings.Compare(x, y), true
	}
	return 0, false
}

func first(doc any, path []string) any {
	v := resolve(doc, path)
	if len(v) == 0 {
		return nil
	}
	return v[0]
}

// queryModel says how a release validates query-filters and
// query-options before filter_list runs: from 25.10 on, the pydantic
// QueryArgs model (api/v25_10_0/common.py: an unknown option is "Extra
// inputs are not permitted" at options.<key>, filter_list's ValueErrors
// become "Value error, ..." at filters or options); 24.10 and 25.04 use
// the legacy schema Ref('query-filters'), Ref('query-options') (datastore
// read.py: "Field was not expected" at query-options.<key>, the
// validators' ValueErrors as they are at query-filters or query-options).
type queryModel bool

const (
	legacyQuerySchema queryModel = false
	pydanticQueryArgs queryModel = true
)

// maxQueryLimit is filter_list's MAX_LIMIT (25.10 on).
const maxQueryLimit = 10000

func (m queryModel) filtersAttr() string {
	if m {
		return "filters"
	}
	return "query-filters"
}

func (m queryModel) optionsAttr() string {
	if m {
		return "options"
	}
	return "query-options"
}

// valueError is a filter_list ValueError as the release's validation
// reports it.
func (m queryModel) valueError(attr, msg string) ValidationErrors {
	if m {
		msg = "Value error, " + msg
	}
	return ValidationErrors{{Attribute: attr, Message: msg}}
}

// decodeOptions reads query-options, refusing keys the release's model
// does not know.
func (m queryModel) decodeOptions(raw json.RawMessage) (queryOptions, error) {
	var opts queryOptions
	if len(raw) == 0 || string(raw) == "null" {
		return opts, nil
	}
	var keys map[string]json.RawMessage
	if json.Unmarshal(raw, &keys) != nil {
		if m {
			return opts, ValidationErrors{{Attribute: "options", Message: "Input should be a valid dictionary or instance of QueryOptions"}}
		}
		return opts, ValidationErrors{{Attribute: "query-options", Message: "A dict was expected"}}
	}
	var verrs ValidationErrors
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		known := false
		switch k {
		case "extra", "order_by", "select", "count", "get", "offset", "limit", "force_sql_filters":
			known = true
		case "relationships", "extend", "extend_context", "prefix":
			known = !bool(m)
		}
		if !known {
			if m {
				verrs = append(verrs, ValidationError{Attribute: "options." + k, Message: "Extra inputs are not permitted"})
			} else {
				verrs = append(verrs, ValidationError{Attribute: "query-options." + k, Message: "Field was not expected"})
			}
			continue
		}
		if msg := m.decodeOption(k, keys[k], &opts); msg != "" {
			verrs = append(verrs, ValidationError{Attribute: m.optionsAttr() + "." + k, Message: msg})
		}
	}
	if len(verrs) > 0 {
		return opts, verrs
	}
	// filter_list's validate_options
	if opts.Get && (opts.Limit > 1 || opts.Offset != 0) {
		return opts, m.valueError(m.optionsAttr(), "Invalid options combination. `get` implies a single result.")
	}
	if m && opts.Limit > maxQueryLimit {
		return opts, m.valueError(m.optionsAttr(), fmt.Sprintf("Options limit must be between 1 and %d", maxQueryLimit))
	}
	return opts, nil
}

// decodeOption reads one known query-option into opts; a value of the
// wrong type is the model's message: pydantic's strict types from 25.10
// (no coercion), the legacy schema's Bool, Int (a numeric string passes),
// List and Dict before.
func (m queryModel) decodeOption(k string, raw json.RawMessage, opts *queryOptions) string {
	if !m && string(raw) == "null" {
		if k == "extend" || k == "extend_context" || k == "prefix" {
			return ""
		}
		return "null not allowed"
	}
	var target any
	kind := ""
	switch k {
	case "count":
		target, kind = &opts.Count, "bool"
	case "get":
		target, kind = &opts.Get, "bool"
	case "force_sql_filters", "relationships":
		target, kind = new(bool), "bool"
	case "offset":
		target, kind = &opts.Offset, "int"
	case "limit":
		target, kind = &opts.Limit, "int"
	case "order_by":
		target, kind = &opts.OrderBy, "list"
	case "select":
		target, kind = &opts.Select, "list"
	case "extra":
		target, kind = &opts.Extra, "dict"
	default: // extend, extend_context, prefix: Str, null allowed
		target, kind = new(string), "str"
	}
	err := json.Unmarshal(raw, target)
	if err != nil && kind == "int" && !m {
		// Int.clean: int(value) of a string.
		var str string
		if json.Unmarshal(raw, &str) == nil {
			if n, perr := strconv.Atoi(strings.TrimSpace(str)); perr == nil {
				*(target.(*int)) = n
				err = nil
			}
		}
	}
	if err == nil && !(m && string(raw) == "null") {
		return ""
	}
	if m {
		switch kind {
		case "bool":
			return "Input should be a valid boolean"
		case "int":
			return "Input should be a valid integer"
		case "list":
			return "Input should be a valid list"
		case "dict":
			return "Input should be a valid dictionary"
		}
		return "Input should be a valid string"
	}
	switch kind {
	case "bool":
		return "Not a boolean"
	case "int":
		return "Not an integer"
	case "list":
		return "Not a list"
	case "dict":
		return "A dict was expected"
	}
	return "Not a string"
}

// filterList is filter_list (utils/filter_list.py, the same from 24.10
// to 26.0): filter and select each match, then count (before any
// ordering or paging), order (one stable sort per order_by key, so the
// last key sorts first), get, then offset and limit as Python slices.
func filterList(docs []any, rawFilters, rawOptions json.RawMessage, m queryModel) (any, error) {
	nodes, err := compileFilters(rawFilters)
	if err != nil {
		return nil, m.valueError(m.filtersAttr(), err.Error())
	}
	opts, err := m.decodeOptions(rawOptions)
	if err != nil {
		return nil, err
	}
	var sel []selectField
	if len(opts.Select) > 0 {
		if sel, err = compileSelect(opts.Select); err != nil {
			return nil, m.valueError(m.optionsAttr(), err.Error())
		}
	}
	out := make([]any, 0, len(docs))
	for _, d := range docs {
		if !matchAll(d, nodes) {
			continue
		}
		if sel != nil {
			d = applySelect(d, sel)
		}
		out = append(out, d)
		// get without order_by stops at the first match.
		if opts.Get && len(opts.OrderBy) == 0 && len(nodes) > 0 {
			break
		}
	}
	if opts.Count && !(opts.Get && len(opts.OrderBy) == 0 && len(nodes) > 0) {
		return len(out), nil
	}
	for _, o := range opts.OrderBy {
		if out, err = orderPass(out, o); err != nil {
			return nil, err
		}
	}
	if opts.Get {
		if len(out) == 0 {
			return nil, errMatchNotFound
		}
		return out[0], nil
	}
	if opts.Offset != 0 {
		out = pySliceFrom(out, opts.Offset)
	}
	if opts.Limit != 0 {
		out = pySliceTo(out, opts.Limit)
	}
	return out, nil
}

// pySliceFrom is Python's list[n:].
func pySliceFrom(l []any, n int) []any {
	if n < 0 {
		n = max(len(l)+n, 0)
	}
	if n >= len(l) {
		return l[:0]
	}
	return l[n:]
}

// pySliceTo is Python's list[:n].
func pySliceTo(l []any, n int) []any {
	if n < 0 {
		n = max(len(l)+n, 0)
	}
	if n >= len(l) {
		return l
	}
	return l[:n]
}

// orderPass is one key of do_order: nulls_first: and nulls_last: split
// the entries whose top-level entry.get(name) is None (a dotted name is
// never a top-level key, so every entry counts as null) and sort the
// others; a plain key sorts every entry by get(x, name) and, as Python's
// sorted, fails with TypeError on values that do not compare (None,
// objects, a number and a string).
func orderPass(l []any, o string) ([]any, error) {
	nullsFirst, nullsLast := strings.HasPrefix(o, "nulls_first:"), strings.HasPrefix(o, "nulls_last:")
	o = strings.TrimPrefix(strings.TrimPrefix(o, "nulls_first:"), "nulls_last:")
	desc := strings.HasPrefix(o, "-")
	name := strings.TrimPrefix(o, "-")
	path := splitPath(name)
	var nulls, rest []any
	if nullsFirst || nullsLast {
		for _, e := range l {
			if m, ok := e.(map[string]any); ok && m[name] != nil {
				rest = append(rest, e)
			} else {
				nulls = append(nulls, e)
			}
		}
	} else {
		rest = slices.Clone(l)
	}
	var typeErr error
	slices.SortStableFunc(rest, func(a, b any) int {
		c, err := pyCompare(first(a, path), first(b, path))
		if err != nil && typeErr == nil {
			typeErr = err
		}
		if desc {
			c = -c
		}
		return c
	})
	if typeErr != nil && len(rest) > 1 {
		return nil, typeErr
	}
	switch {
	case nullsFirst:
		return append(nulls, rest...), nil
	case nullsLast:
		return append(rest, nulls...), nil
	}
	return rest, nil
}

// pyStr is str(v) of a decoded JSON scalar.
func pyStr(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return jsonString(v)
}

// pyTypeOf is type(v).__name__ of a decoded JSON value.
func pyTypeOf(v any) string {
	switch x := v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case float64:
		if x == math.Trunc(x) && !math.IsInf(x, 0) {
			return "int"
		}
		return "float"
	case string:
		return "str"
	case []any:
		return "list"
	case map[string]any:
		return "dict"
	}
	return fmt.Sprintf("%T", v)
}

// pyCompare is Python's ordering of two sort keys: numbers (bools
// included) and strings among themselves, lists item by item; anything
// else is TypeError.
func pyCompare(a, b any) (int, error) {
	if x, ok := a.([]any); ok {
		if y, ok := b.([]any); ok {
			for i := 0; i < len(x) && i < len(y); i++ {
				if jsonEqual(x[i], y[i]) {
					continue
				}
				return pyCompare(x[i], y[i])
			}
			return len(x) - len(y), nil
		}
	}
	if c, ok := compare(a, b); ok {
		return c, nil
	}
	return 0, &Exception{Type: "TypeError", Message: fmt.Sprintf("'<' not supported between instances of '%s' and '%s'", pyTypeOf(b), pyTypeOf(a))}
}

type selectField struct {
	from []string
	as   string
}

func compileSelect(raw []json.RawMessage) ([]selectField, error) {
	out := make([]selectField, 0, len(raw))
	for _, r := range raw {
		var v any
		if json.Unmarshal(r, &v) != nil {
			return nil, fmt.Errorf("%s: not JSON", r)
		}
		v = normNumbers(v)
		// filter_list's validate_select, word for word.
		switch x := v.(type) {
		case string:
			out = append(out, selectField{from: splitPath(x)})
			continue
		case []any:
			if len(x) != 2 {
				return nil, fmt.Errorf("%s: A select as list may only contain two parameters: the name "+
					"of the parameter being selected, and the name to which to assign it "+
					"in resulting data.", pyReprJSON(x))
			}
			for i, sel := range x {
				if _, ok := sel.(string); !ok {
					which := "first"
					if i == 1 {
						which = "second"
					}
					return nil, fmt.Errorf("%s: %s item must be a string.", pyReprJSON(x), which)
				}
			}
			out = append(out, selectField{from: splitPath(x[0].(string)), as: x[1].(string)})
			continue
		}
		return nil, fmt.Errorf("%s: selectors must be either a parameter name as a string or "+
			"a list containing two items [<parameter name>, <as name>] to emulate "+
			"SELECT <parameter name> AS <as name>.", pyReprJSON(v))
	}
	return out, nil
}

// pyReprJSON is Python's repr of a decoded JSON value.
func pyReprJSON(v any) string {
	switch x := v.(type) {
	case []any:
		parts := make([]string, len(x))
		for i := range x {
			parts[i] = pyReprJSON(x[i])
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		parts := make([]string, 0, len(x))
		for _, k := range slices.Sorted(maps.Keys(x)) {
			parts = append(parts, pyRepr(k)+": "+pyReprJSON(x[k]))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e16 {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return pyValue(v)
}

func applySelect(doc any, sel []selectField) any {
	m, ok := doc.(map[string]any)
	if !ok {
		return doc
	}
	out := map[string]any{}
	for _, f := range sel {
		v := resolve(m, f.from)
		if len(v) == 0 {
			continue
		}
		if f.as != "" {
			out[f.as] = v[0]
			continue
		}
		// Keep the nesting of a dotted selection.
		cur := out
		for i, p := range f.from {
			if i == len(f.from)-1 {
				cur[p] = v[0]
				break
			}
			next, ok := cur[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				cur[p] = next
			}
			cur = next
		}
	}
	return out
}
