package freezer

import (
	"encoding/json"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// A re-statement of freezer-api's job_schema (common/json_schemas.py) that
// reports the first error the way jsonschema's Draft4Validator does, in the
// order it walks the schema.

type rule struct {
	name    string
	typ     string // string, integer, boolean, object, "" (any)
	re      *regexp.Regexp
	pysrc   string // the pattern as Python source, for messages
	enum    []string
	nested  func(v any) string
	enumMsg string
}

const (
	pyID        = `^[\w-]+$`
	pySessionID = `^[\w-]*$`
	pyInterval  = `^(continuous|(\d+ +(weeks|days|hours|minutes|seconds)))$`
	pyDate      = `^(-?(?:[1-9][0-9]*)?[0-9]{4})-(1[0-2]|0[1-9])-(3[01]|0[1-9]|[12][0-9])T(2[0-3]|[01][0-9]):([0-5][0-9]):([0-5][0-9])(\.[0-9]+)?(Z|[+-](?:2[0-3]|[01][0-9]):[0-5][0-9])?$`
	pyYear      = `^\d{4}$`
	pyHostname  = `([a-zA-Z\d]|[a-zA-Z\d][a-zA-Z\d\-]{0,61}[a-zA-Z\d])(\.([a-zA-Z\d]|[a-zA-Z\d][a-zA-Z\d\-]{0,61}[a-zA-Z\d]))*`
	pyClientID  = `^(?:([\w\-]+)\_)?([a-zA-Z\d]|[a-zA-Z\d][a-zA-Z\d\-]{0,61}[a-zA-Z\d])(\.([a-zA-Z\d]|[a-zA-Z\d][a-zA-Z\d\-]{0,61}[a-zA-Z\d]))*$`
)

var freezerActionRules = []rule{
	{name: "action", typ: "string", re: idRE, pysrc: pyID},
	{name: "mode", typ: "string", re: idRE, pysrc: pyID},
	{name: "backup_name", typ: "string"},
	{name: "restore_abs_path", typ: "string"},
}

var scheduleRules = []rule{
	{name: "time_created", typ: "integer"},
	{name: "time_started", typ: "integer"},
	{name: "time_ended", typ: "integer"},
	{name: "event", typ: "string", enum: scheduleEvents},
	{name: "status", typ: "string", enum: scheduleStatuses},
	{name: "result", typ: "string", enum: scheduleResults},
	{name: "schedule_date", typ: "string", re: dateRE, pysrc: pyDate},
	{name: "schedule_interval", typ: "string", re: intervalRE, pysrc: pyInterval},
	{name: "schedule_start_date", typ: "string", re: dateRE, pysrc: pyDate},
	{name: "schedule_end_date", typ: "string", re: dateRE, pysrc: pyDate},
	{name: "schedule_year", typ: "string", re: yearRE, pysrc: pyYear},
	{name: "schedule_month", typ: "string"},
	{name: "schedule_day", typ: "string"},
	{name: "schedule_week", typ: "string"},
	{name: "schedule_day_of_week", typ: "string"},
	{name: "schedule_hour", typ: "string"},
	{name: "schedule_minute", typ: "string"},
	{name: "schedule_second", typ: "string"},
	{name: "current_pid", typ: "integer"},
}

var jobActionRules = []rule{
	{name: "freezer_action", nested: func(v any) string { return checkObject(v, freezerActionRules, false) }},
	{name: "max_retries", typ: "integer"},
	{name: "max_retries_interval", typ: "integer"},
	{name: "mandatory", typ: "boolean"},
}

var jobRules = []rule{
	{name: "job_actions", nested: func(v any) string {
		list, ok := v.([]any)
		if !ok {
			return ""
		}
		for _, a := range list {
			if m := checkObject(a, jobActionRules, false); m != "" {
				return m
			}
		}
		return ""
	}},
	{name: "job_schedule", typ: "object", nested: func(v any) string { return checkObject(v, scheduleRules, true) }},
	{name: "job_id", typ: "string", re: idRE, pysrc: pyID},
	{name: "client_id", typ: "string", re: clientIDRE, pysrc: pyClientID},
	{name: "session_id", typ: "string", re: sessionIDRE, pysrc: pySessionID},
	{name: "session_tag", typ: "integer"},
	{name: "session_name", typ: "string"},
	{name: "user_id", typ: "string", re: idRE, pysrc: pyID},
	{name: "project_id", typ: "string", re: idRE, pysrc: pyID},
	{name: "description", typ: "string"},
	{name: "_version", typ: "integer"},
	{name: "action_defaults", nested: func(v any) string { return checkObject(v, freezerActionRules, false) }},
}

var jobRequired = []string{"job_actions", "job_schedule", "job_id", "client_id", "user_id"}

// validateJob returns the jsonschema message for the first problem in doc,
// or "". full selects job_schema (with required keys) over job_patch_schema.
func validateJob(doc map[string]any, full bool) string {
	return validDoc(doc, jobRules, true, full, jobRequired...)
}

// validDoc checks doc against one of freezer-api's schemas: its property
// rules (strict: no other properties), then, for the full schema rather
// than the patch schema, its required keys in the schema's order.
func validDoc(doc map[string]any, rules []rule, strict, full bool, required ...string) string {
	if m := checkObject(doc, rules, strict); m != "" {
		return m
	}
	if full {
		for _, k := range required {
			if _, ok := doc[k]; !ok {
				return pyStr(k) + " is a required property"
			}
		}
	}
	return ""
}

// checkObject applies property rules to v when it is an object; with
// closed, keys without a rule are "additional properties".
func checkObject(v any, rules []rule, closed bool) string {
	m, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	for _, r := range rules {
		val, ok := m[r.name]
		if !ok {
			continue
		}
		if msg := r.check(val); msg != "" {
			return msg
		}
	}
	if closed {
		var extra []string
		for k := range m {
			if !slices.ContainsFunc(rules, func(r rule) bool { return r.name == k }) {
				extra = append(extra, k)
			}
		}
		if len(extra) > 0 {
			sort.Strings(extra)
			q := make([]string, len(extra))
			for i, k := range extra {
				q[i] = pyStr(k)
			}
			verb := "was"
			if len(extra) > 1 {
				verb = "were"
			}
			return "Additional properties are not allowed (" + strings.Join(q, ", ") + " " + verb + " unexpected)"
		}
	}
	return ""
}

func (r rule) check(v any) string {
	if r.typ != "" && !hasType(v, r.typ) {
		return pyRepr(v) + " is not of type " + pyStr(r.typ)
	}
	if s, ok := v.(string); ok && r.re != nil && !r.re.MatchString(s) {
		return pyStr(s) + " does not match " + pyStr(r.pysrc)
	}
	if r.enum != nil {
		s, ok := v.(string)
		if !ok || !slices.Contains(r.enum, s) {
			q := make([]string, len(r.enum))
			for i, e := range r.enum {
				q[i] = pyStr(e)
			}
			return pyRepr(v) + " is not one of [" + strings.Join(q, ", ") + "]"
		}
	}
	if r.nested != nil {
		return r.nested(v)
	}
	return ""
}

func hasType(v any, typ string) bool {
	switch typ {
	case "string":
		_, ok := v.(string)
		return ok
	case "integer":
		n, ok := v.(json.Number)
		return ok && isInt(n)
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "object":
		_, ok := v.(map[string]any)
		return ok
	}
	return true
}
