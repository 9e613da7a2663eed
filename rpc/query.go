package rpc

import (
	"encoding/json"
	"strings"
)

// Op is a query-filters operator.
type Op string

// The operators of query-filters (query_methods.rst). Prefix any of them
// with "C" for a case-insensitive match (CI does it for you).
const (
	Eq         Op = "="
	Ne         Op = "!="
	Gt         Op = ">"
	Ge         Op = ">="
	Lt         Op = "<"
	Le         Op = "<="
	Match      Op = "~"    // regular expression search
	In         Op = "in"   // value is a list that holds the field
	NotIn      Op = "nin"  // value is a list that does not hold the field
	Has        Op = "rin"  // the field (list or string) holds value
	HasNot     Op = "rnin" // the field does not hold value
	Prefix     Op = "^"
	NotPrefix  Op = "!^"
	Suffix     Op = "$"
	NotSuffix  Op = "!$"
	orOperator    = "OR"
)

// CI makes an operator case-insensitive ("C=", "C^", ...).
func CI(op Op) Op { return "C" + op }

// Filter is one query filter: a [field, op, value] condition or an OR of
// branches. Build them with Where and Or.
type Filter struct {
	field string
	op    Op
	value any
	or    [][]Filter
	isOr  bool
}

// Where is the condition [field, op, value]. field may be a dotted path
// ("progress.percent", "exc_info.type", "arguments.0"); "*" matches any
// array element; a field ending in ".$date" compares a {"$date": ms}
// timestamp with an ISO-8601 string value.
func Where(field string, op Op, value any) Filter {
	return Filter{field: field, op: op, value: value}
}

// Or matches when any branch matches; a branch of several filters needs
// all of them (an AND group).
func Or(branches ...[]Filter) Filter { return Filter{isOr: true, or: branches} }

// And groups filters for use as one Or branch.
func And(filters ...Filter) []Filter { return filters }

// MarshalJSON writes the wire form.
func (f Filter) MarshalJSON() ([]byte, error) {
	if f.isOr {
		branches := make([]any, 0, len(f.or))
		for _, b := range f.or {
			if len(b) == 1 {
				branches = append(branches, b[0])
			} else {
				branches = append(branches, b)
			}
		}
		return json.Marshal([]any{orOperator, branches})
	}
	return json.Marshal([]any{f.field, string(f.op), f.value})
}

// EscapeField escapes literal dots in a key name for use in a path.
func EscapeField(key string) string { return strings.ReplaceAll(key, ".", `\.`) }

// QueryOptions are query-options.
type QueryOptions struct {
	// Select lists fields to return; a dotted field keeps its nesting.
	Select []string
	// SelectAs renames: each pair is [field, new name].
	SelectAs [][2]string
	// OrderBy sorts: "field", "-field" (descending), with optional
	// "nulls_first:" or "nulls_last:" before it.
	OrderBy []string
	// Offset skips that many results; Limit caps them (0: no cap).
	Offset int
	Limit  int
	// Count returns the number of matches instead of the matches.
	Count bool
	// Get returns the first match alone (an error when none matches).
	Get bool
	// Extra is the extra object (core.get_jobs: raw_result).
	Extra map[string]any
}

// MarshalJSON writes the options object with only the keys set.
func (o QueryOptions) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	if len(o.Select) > 0 || len(o.SelectAs) > 0 {
		sel := make([]any, 0, len(o.Select)+len(o.SelectAs))
		for _, s := range o.Select {
			sel = append(sel, s)
		}
		for _, p := range o.SelectAs {
			sel = append(sel, []string{p[0], p[1]})
		}
		m["select"] = sel
	}
	if len(o.OrderBy) > 0 {
		m["order_by"] = o.OrderBy
	}
	if o.Offset > 0 {
		m["offset"] = o.Offset
	}
	if o.Limit > 0 {
		m["limit"] = o.Limit
	}
	if o.Count {
		m["count"] = true
	}
	if o.Get {
		m["get"] = true
	}
	if len(o.Extra) > 0 {
		m["extra"] = o.Extra
	}
	return json.Marshal(m)
}
