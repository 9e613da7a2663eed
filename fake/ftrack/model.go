package ftrack

import (
	"cmp"
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
	kNumber   = "number"
	kBool     = "boolean"
	kDateTime = "datetime"
	kJSON     = "json"     // a JSON document serialised into a string (Job.data)
	kVariable = "variable" // any scalar (a custom attribute's value)
)

type relation struct {
	target string // entity type
	many   bool
	local  string // attribute of this entity
	remote string // attribute of the target matched against local
}

// typeDef is what the fake knows of an entity type, built from its schema.
type typeDef struct {
	name        string
	table       string // where its rows live: components share one table
	systemType  string // a component type's system_type ("" for Component)
	pk          []string
	attrs       map[string]string // name -> kind
	defaults    map[string]func(*Backend) any
	required    []string
	immutable   []string
	computed    []string
	enums       map[string][]string
	relations   map[string]relation
	unsupported map[string]bool // relations of the schema the fake does not follow
	projections []string        // default projections
	system      []string        // system projections, always returned
}

func (t *typeDef) hasAttr(name string) bool { _, ok := t.attrs[name]; return ok }

func (t *typeDef) isComputed(name string) bool { return contains(t.computed, name) }

func uidDefault(*Backend) any { return newID() }

// joins say how the fake follows a relation of the schemas: the attribute
// on this side and the one on the target. "*Component" stands for every
// component type. A relation of the schemas not listed here (or whose
// target the fake does not serve) is in the schema but not followed.
var joins = map[string][2]string{
	"Job.user":                       {"user_id", "id"},
	"Job.job_components":             {"id", "job_id"},
	"User.thumbnail":                 {"thumbnail_id", "id"},
	"User.user_type":                 {"user_type_id", "id"},
	"User.timelogs":                  {"id", "user_id"},
	"User.memberships":               {"id", "user_id"},
	"User.user_security_roles":       {"id", "user_id"},
	"User.metadata":                  {"id", "parent_id"},
	"User.custom_attributes":         {"id", "entity_id"},
	"JobComponent.job":               {"job_id", "id"},
	"JobComponent.component":         {"component_id", "id"},
	"*Component.component_locations": {"id", "component_id"},
	"*Component.container":           {"container_id", "id"},
	"*Component.version":             {"version_id", "id"},
	"*Component.metadata":            {"id", "parent_id"},
	"ContainerComponent.members":     {"id", "container_id"},
	"ComponentLocation.component":    {"component_id", "id"},
	"ComponentLocation.location":     {"location_id", "id"},
	"Location.location_components":   {"id", "location_id"},
	"AssetVersion.components":        {"id", "version_id"},
	"AssetVersion.user":              {"user_id", "id"},
	"AssetVersion.thumbnail":         {"thumbnail_id", "id"},
	"AssetVersion.metadata":          {"id", "parent_id"},
	"Membership.user":                {"user_id", "id"},
	"Timelog.user":                   {"user_id", "id"},
	"UserSecurityRole.user":          {"user_id", "id"},
}

// serverDefaults are values the server fills in that the schemas do not
// name as defaults (the recorded create answers show them).
var serverDefaults = map[string]map[string]func(*Backend) any{
	"Job": {"created_at": func(b *Backend) any { return b.now() }},
	"User": {"is_otp_enabled": func(*Backend) any { return false }, "is_totp_enabled": func(*Backend) any { return false },
		"require_details_update": func(*Backend) any { return false }},
}

// componentTypes maps a component type to its system_type.
var componentTypes = map[string]string{"Component": "", "FileComponent": "file", "ContainerComponent": "container"}

// componentType is the entity type of a stored component row.
func componentType(e entity) string {
	switch e["system_type"] {
	case "file":
		return "FileComponent"
	case "container":
		return "ContainerComponent"
	}
	return "Component"
}

// types are the entity types the fake serves, built from schemaText.
var types = buildTypes()

func buildTypes() map[string]*typeDef {
	loadSchemas()
	served := map[string]bool{}
	for _, s := range schemaDefs {
		served[s.id] = true
	}
	out := map[string]*typeDef{}
	for _, s := range schemaDefs {
		t := &typeDef{name: s.id, table: s.id, pk: s.head["pk"], required: s.head["required"], immutable: s.head["immutable"],
			computed: s.head["computed"], projections: s.head["projections"], system: s.head["system"],
			attrs: map[string]string{}, defaults: map[string]func(*Backend) any{}, enums: map[string][]string{},
			relations: map[string]relation{}, unsupported: map[string]bool{}}
		if st, ok := componentTypes[s.id]; ok {
			t.table, t.systemType = "Component", st
		}
		for _, p := range s.props {
			switch p.kind {
			case "ref", "array", "mapped":
				key := s.id + "." + p.name
				if t.table == "Component" {
					if _, ok := joins[key]; !ok {
						key = "*Component." + p.name
					}
				}
				j, ok := joins[key]
				if !ok || !served[p.target] {
					t.unsupported[p.name] = true
					continue
				}
				t.relations[p.name] = relation{target: p.target, many: p.kind != "ref", local: j[0], remote: j[1]}
				continue
			case "object":
				continue // computed
			case "fk", "string":
				t.attrs[p.name] = kString
			case "integer":
				t.attrs[p.name] = kInt
			case "number":
				t.attrs[p.name] = kNumber
			case "boolean":
				t.attrs[p.name] = kBool
			case "datetime":
				t.attrs[p.name] = kDateTime
			case "json":
				t.attrs[p.name] = kJSON
			case "variable":
				t.attrs[p.name] = kVariable
			}
			if d, ok := p.json["default"]; ok {
				switch x := d.(type) {
				case string:
					if x == "{uid}" {
						t.defaults[p.name] = uidDefault
					} else {
						t.defaults[p.name] = func(*Backend) any { return x }
					}
				case int:
					t.defaults[p.name] = func(*Backend) any { return int64(x) }
				case bool:
					t.defaults[p.name] = func(*Backend) any { return x }
				}
			}
			if en, ok := p.json["enum"].([]any); ok {
				for _, v := range en {
					t.enums[p.name] = append(t.enums[p.name], v.(string))
				}
			}
		}
		for k, f := range serverDefaults[s.id] {
			t.defaults[k] = f
		}
		if t.systemType != "" {
			st := t.systemType
			t.defaults["system_type"] = func(*Backend) any { return st }
		}
		out[s.id] = t
	}
	return out
}

// lookupType returns the type an operation or a query names.
func lookupType(name string) (*typeDef, bool) {
	t, ok := types[name]
	return t, ok
}

// rowType is the concrete type of a stored row of t's table.
func rowType(t *typeDef, e entity) *typeDef {
	if t.table == "Component" {
		return types[componentType(e)]
	}
	return t
}

// rowMatches reports whether a row of t's table is a t: a FileComponent
// query sees only file components.
func rowMatches(t *typeDef, e entity) bool {
	return t.systemType == "" || e["system_type"] == t.systemType
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
	case kNumber:
		if f, ok := v.(float64); ok {
			return f, nil
		}
	case kVariable:
		switch v.(type) {
		case string, float64, bool:
			return v, nil
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
	case float64:
		if y, ok := b.(float64); ok {
			return cmp.Compare(x, y)
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
		if kind == kNumber || kind == kVariable {
			return v.n, nil
		}
		if kind == kString || kind == kJSON {
			return v.s, nil
		}
	case "string":
		switch kind {
		case kString, kJSON, kVariable:
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
