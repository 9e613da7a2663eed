package freezer

import (
	"regexp"
	"strings"
)

// The fake's own reading of freezer-api's json_schemas.py patterns,
// written from the server's source and not shared with the SDK, so that
// the client's validation and the fake's check each other. Python's re
// (which jsonschema uses with re.search) gives \w and \d their Unicode
// meaning, and its $ also matches just before a final newline.
const (
	pyWord = `[\p{L}\p{N}_]`
	pyDig  = `\p{Nd}`
	pyTail = `\n?\z`
)

var (
	idRE        = regexp.MustCompile(`^` + pyWord[:len(pyWord)-1] + `-]+` + pyTail)
	sessionIDRE = regexp.MustCompile(`^` + pyWord[:len(pyWord)-1] + `-]*` + pyTail)
	intervalRE  = regexp.MustCompile(`^(continuous|(` + pyDig + `+ +(weeks|days|hours|minutes|seconds)))` + pyTail)
	dateRE      = regexp.MustCompile(`^(-?(?:[1-9][0-9]*)?[0-9]{4})-(1[0-2]|0[1-9])-(3[01]|0[1-9]|[12][0-9])T(2[0-3]|[01][0-9]):([0-5][0-9]):([0-5][0-9])(\.[0-9]+)?(Z|[+-](?:2[0-3]|[01][0-9]):[0-5][0-9])?` + pyTail)
	yearRE      = regexp.MustCompile(`^` + pyDig + `{4}` + pyTail)
	hostnameRE  = regexp.MustCompile(`([a-zA-Z\d]|[a-zA-Z\d][a-zA-Z\d\-]{0,61}[a-zA-Z\d])(\.([a-zA-Z\d]|[a-zA-Z\d][a-zA-Z\d\-]{0,61}[a-zA-Z\d]))*`)
	clientIDRE  = regexp.MustCompile(`^(?:(` + pyWord[:len(pyWord)-1] + `\-]+)_)?` +
		`([a-zA-Z\d]|[a-zA-Z\d][a-zA-Z\d\-]{0,61}[a-zA-Z\d])(\.([a-zA-Z\d]|[a-zA-Z\d][a-zA-Z\d\-]{0,61}[a-zA-Z\d]))*` + pyTail)
)

// The job_schedule words the schema accepts, in its own order.
var (
	scheduleEvents   = []string{"", "stop", "start", "abort", "remove"}
	scheduleStatuses = []string{"", "completed", "stop", "scheduled", "running", "aborting", "removed"}
	scheduleResults  = []string{"", "success", "fail", "aborted"}
)

// Result is how a run of the simulated agent ends: ResultSuccess,
// ResultFail or ResultAborted (job_schedule.result).
type Result string

// The results a run can end with.
const (
	ResultSuccess Result = "success"
	ResultFail    Result = "fail"
	ResultAborted Result = "aborted"
)

// defaultLimit is the page size freezer-api uses when none is given.
const defaultLimit = 10

// parseInterval reads a schedule_interval as the agent does
// (utils.get_interval_seconds... "continuous" is one second): false when
// it is no interval.
func parseInterval(s string) (seconds int64, ok bool) {
	s = strings.TrimSuffix(s, "\n")
	if s == "continuous" {
		return 1, true
	}
	num, unit, found := strings.Cut(s, " ")
	if !found || num == "" {
		return 0, false
	}
	unit = strings.TrimLeft(unit, " ")
	var n int64
	for _, r := range num {
		if r < '0' || r > '9' || n > 1<<40 {
			return 0, false
		}
		n = n*10 + int64(r-'0')
	}
	mult := map[string]int64{"weeks": 7 * 86400, "days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}[unit]
	if mult == 0 {
		return 0, false
	}
	return n * mult, true
}
