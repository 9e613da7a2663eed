package ftrack

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
)

// attribute kinds
const (
	kString   = "string"
	kInt      = "integer"
	kBool     = "boolean"
	kDateTime = "datetime"
	kJSON     = "json" // a JSON document serialised into a string (Job.data)
)

type relation struct {
	target string // entity type
	many   bool
	local  string // attribute of this entity
	remote string // attribute of the target matched against local
}

type typeDef struct {
	name        string
	pk          []string
	attrs       map[string]string // name -> kind
	defaults    map[string]func(*Backend) any
	required    []string
	immutable   []string
	enums       map[string][]string
	relations   map[string]relation
	projections []string // default projections
	system      []string // system projections, always returned
}

func (t *typeDef) hasAttr(name string) bool { _, ok := t.attrs[name]; return ok }

func uidDefault(*Backend) any { return newID() }

// types are the entity types the fake serves, with the attributes and
// relations of the real schemas (ftrack-javascript test/fixtures/
// query_schemas.json) that longrun and the reference clients use.
var types = map[string]*typeDef{
	"User": {
		name: "User", pk: []string{"id"},
		attrs: map[string]string{"id": kString, "username": kString, "first_name": kString, "last_name": kString,
			"email": kString, "is_active": kBool, "resource_type": kString, "user_type_id": kString,
			"is_otp_enabled": kBool, "is_totp_enabled": kBool, "require_details_update": kBool, "thumbnail_id": kString},
		defaults: map[string]func(*Backend) any{"id": uidDefault, "resource_type": func(*Backend) any { return "user" },
			"is_active": func(*Backend) any { return true }},
		required:    []string{"username", "is_active", "resource_type", "id"},
		immutable:   []string{"resource_type", "id"},
		relations:   map[string]relation{"jobs": {target: "Job", many: true, local: "id", remote: "user_id"}},
		projections: []string{"id"}, system: []string{"resource_type"},
	},
	"Job": {
		name: "Job", pk: []string{"id"},
		attrs: map[string]string{"id": kString, "status": kString, "type": kString, "data": kJSON,
			"user_id": kString, "created_at": kDateTime, "finished_at": kDateTime},
		defaults: map[string]func(*Backend) any{"id": uidDefault, "status": func(*Backend) any { return "queued" },
			"type": func(*Backend) any { return "api_job" }, "created_at": func(b *Backend) any { return b.now() }},
		required:  []string{"id", "status", "type"},
		immutable: []string{"id", "type"},
		enums:     map[string][]string{"status": {"queued", "running", "done", "failed"}, "type": {"api_job"}},
		relations: map[string]relation{
			"user":           {target: "User", local: "user_id", remote: "id"},
			"job_components": {target: "JobComponent", many: true, local: "id", remote: "job_id"},
		},
		projections: []string{"id"},
	},
	"JobComponent": {
		name: "JobComponent", pk: []string{"component_id", "job_id"},
		attrs:     map[string]string{"component_id": kString, "job_id": kString},
		required:  []string{"component_id", "job_id"},
		immutable: []string{"component_id", "job_id"},
		relations: map[string]relation{
			"job":       {target: "Job", local: "job_id", remote: "id"},
			"component": {target: "FileComponent", local: "component_id", remote: "id"},
		},
		projections: []string{"component_id", "job_id"},
	},
	"FileComponent": {
		name: "FileComponent", pk: []string{"id"},
		attrs: map[string]string{"id": kString, "name": kString, "file_type": kString, "size": kInt,
			"system_type": kString, "container_id": kString, "version_id": kString},
		defaults: map[string]func(*Backend) any{"id": uidDefault, "name": func(*Backend) any { return "main" },
			"size": func(*Backend) any { return int64(0) }, "system_type": func(*Backend) any { return "file" }},
		required:  []string{"system_type", "name", "id"},
		immutable: []string{"id"},
		relations: map[string]relation{
			"component_locations": {target: "ComponentLocation", many: true, local: "id", remote: "component_id"},
			"job_components":      {target: "JobComponent", many: true, local: "id", remote: "component_id"},
		},
		projections: []string{"id", "system_type"}, system: []string{"system_type", "version_id"},
	},
	"ComponentLocation": {
		name: "ComponentLocation", pk: []string{"id"},
		attrs:     map[string]string{"id": kString, "component_id": kString, "location_id": kString, "resource_identifier": kString},
		defaults:  map[string]func(*Backend) any{"id": uidDefault},
		required:  []string{"id"},
		immutable: []string{"id"},
		relations: map[string]relation{
			"component": {target: "FileComponent", local: "component_id", remote: "id"},
			"location":  {target: "Location", local: "location_id", remote: "id"},
		},
		projections: []string{"id"}, system: []string{"location_id", "component_id"},
	},
	"Location": {
		name: "Location", pk: []string{"id"},
		attrs:     map[string]string{"id": kString, "name": kString, "label": kString, "description": kString},
		defaults:  map[string]func(*Backend) any{"id": uidDefault},
		required:  []string{"name", "id"},
		immutable: []string{"id"},
		relations: map[string]relation{
			"location_components": {target: "ComponentLocation", many: true, local: "id", remote: "location_id"},
		},
		projections: []string{"id"},
	},
}

// storeName maps an entity type to the table it lives in: Component is the
// base type of FileComponent.
func storeName(t string) string {
	if t == "Component" {
		return "FileComponent"
	}
	return t
}

func lookupType(name string) (*typeDef, bool) {
	t, ok := types[storeName(name)]
	return t, ok
}

// entity is a stored row: attribute values as string, int64, bool, nil or
// time.Time, plus the hidden insertion sequence.
type entity map[string]any

const seqKey = "\x00seq"

func (e entity) clone() entity {
	c := make(entity, len(e))
	for k, v := range e {
		c[k] = v
	}
	return c
}

func keyOf(t *typeDef, e entity) string {
	parts := make([]string, len(t.pk))
	for i, k := range t.pk {
		parts[i], _ = e[k].(string)
	}
	return strings.Join(parts, "\x1f")
}

// convert turns a decoded JSON value into the stored form of kind.
func convert(kind string, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch kind {
	case kString, kJSON:
		if s, ok := v.(string); ok {
			return s, nil
		}
		if kind == kJSON {
			b, _ := json.Marshal(v)
			return string(b), nil
		}
	case kInt:
		if f, ok := v.(float64); ok && f == math.Trunc(f) && math.Abs(f) < 1<<62 {
			return int64(f), nil
		}
	case kBool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case kDateTime:
		switch x := v.(type) {
		case string:
			return parseTime(x)
		case map[string]any:
			if tt, _ := x["__type__"].(string); tt == "datetime" || tt == "date" {
				if s, ok := x["value"].(string); ok {
					return parseTime(s)
				}
			}
		}
	}
	return nil, fmt.Errorf("expected a %s, got %s", kind, jsonKind(v))
}

func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	return "null"
}

var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999", "2006-01-02"}

func parseTime(s string) (time.Time, error) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an ISO 8601 datetime", s)
}

// encodeValue renders a stored value as the server does: datetimes as
// {"__type__": "datetime", "value": naive UTC ISO 8601}.
func encodeValue(v any) any {
	if t, ok := v.(time.Time); ok {
		return map[string]any{"__type__": "datetime", "value": t.UTC().Format("2006-01-02T15:04:05")}
	}
	return v
}

// compare orders two stored values: nil first, then by type.
func compare(a, b any) int {
	if a == nil || b == nil {
		switch {
		case a == nil && b == nil:
			return 0
		case a == nil:
			return -1
		}
		return 1
	}
	switch x := a.(type) {
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y)
		}
	case int64:
		if y, ok := b.(int64); ok {
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return 0
		}
	case bool:
		if y, ok := b.(bool); ok {
			switch {
			case x == y:
				return 0
			case !x:
				return -1
			}
			return 1
		}
	case time.Time:
		if y, ok := b.(time.Time); ok {
			return x.Compare(y)
		}
	}
	return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
}

// literal converts a query value to the stored form of kind.
func literal(kind string, v value) (any, error) {
	switch v.kind {
	case "null":
		return nil, nil
	case "bool":
		if kind == kBool {
			return v.b, nil
		}
	case "number":
		if kind == kInt && v.n == math.Trunc(v.n) {
			return int64(v.n), nil
		}
		if kind == kString || kind == kJSON {
			return v.s, nil
		}
	case "string":
		switch kind {
		case kString, kJSON:
			return v.s, nil
		case kDateTime:
			return parseTime(v.s)
		case kBool:
			switch strings.ToLower(v.s) {
			case "true", "1":
				return true, nil
			case "false", "0":
				return false, nil
			}
		case kInt:
			var n int64
			if _, err := fmt.Sscan(v.s, &n); err == nil {
				return n, nil
			}
		}
	}
	return nil, fmt.Errorf("value %s does not fit a %s attribute", v.describe(), kind)
}

func (v value) describe() string {
	switch v.kind {
	case "string":
		return fmt.Sprintf("%q", v.s)
	case "number":
		return v.s
	case "bool":
		return fmt.Sprint(v.b)
	}
	return v.kind
}

// likeMatch matches s against a LIKE pattern with % and _.
func likeMatch(pattern, s string) bool {
	p, t := []rune(pattern), []rune(s)
	// dynamic programming over runes
	prev := make([]bool, len(t)+1)
	prev[0] = true
	for i := 1; i <= len(p); i++ {
		cur := make([]bool, len(t)+1)
		if p[i-1] == '%' {
			cur[0] = prev[0]
		}
		for j := 1; j <= len(t); j++ {
			switch p[i-1] {
			case '%':
				cur[j] = prev[j] || cur[j-1]
			case '_':
				cur[j] = prev[j-1]
			default:
				cur[j] = prev[j-1] && p[i-1] == t[j-1]
			}
		}
		prev = cur
	}
	return prev[len(t)]
}

func first(vs []any) any {
	if len(vs) == 0 {
		return nil
	}
	return vs[0]
}
