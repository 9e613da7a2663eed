package freezer

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Content negotiation as freezer-api 13's falcon (3.1) does it with its
// vendored mimeparse: RequireJSON refuses a request unless
// req.client_accepts_json, and the 406 is serialized as the client
// prefers (default_serialize_error).

// mediaRange is one parsed Accept element: type, subtype, parameters (q
// always set, as a string).
type mediaRange struct {
	typ, sub string
	params   map[string]string
}

var errMediaRange = errors.New("unparsable media range")

// parseMediaRange is mimeparse's parse_media_range: cgi.parse_header
// (parameter names lowercased, values unquoted; the type keeps its case),
// "*" for "*/*", and q reset to "1" when missing, empty, not a float or
// outside [0, 1].
func parseMediaRange(s string) (mediaRange, error) {
	fields := strings.Split(s, ";")
	full := strings.TrimSpace(fields[0])
	params := map[string]string{}
	for _, p := range fields[1:] {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		params[strings.ToLower(strings.TrimSpace(k))] = v
	}
	if full == "*" {
		full = "*/*"
	}
	parts := strings.Split(full, "/")
	if !strings.Contains(full, "/") || len(parts) > 2 {
		return mediaRange{}, errMediaRange
	}
	if f, err := strconv.ParseFloat(strings.TrimSpace(params["q"]), 64); params["q"] == "" || err != nil || f < 0 || f > 1 {
		params["q"] = "1"
	}
	return mediaRange{strings.TrimSpace(parts[0]), strings.TrimSpace(parts[1]), params}, nil
}

// qualityAndFitness is mimeparse's quality_and_fitness_parsed for a
// target without parameters: the q of the best-fitting range (exact type
// 100, exact subtype 10, plus 1), 0 and -1 when none matches.
func qualityAndFitness(target string, ranges []mediaRange) (float64, float64) {
	tt, ts, _ := strings.Cut(target, "/")
	bestFit, bestQ := -1.0, "0"
	for _, r := range ranges {
		if (r.typ == tt || r.typ == "*") && (r.sub == ts || r.sub == "*") {
			fit := 1.0
			if r.typ == tt {
				fit += 100
			}
			if r.sub == ts {
				fit += 10
			}
			if fit > bestFit {
				bestFit, bestQ = fit, r.params["q"]
			}
		}
	}
	q, _ := strconv.ParseFloat(bestQ, 64)
	return q, bestFit
}

// accepts is falcon's req.client_accepts(target): a missing or empty
// Accept is */*; an exact match or */* is true; else mimeparse.quality
// over every comma-separated element (an unparsable one, an empty one
// included, makes it false).
func accepts(accept, target string) bool {
	if accept == "" {
		accept = "*/*"
	}
	if accept == target || accept == "*/*" {
		return true
	}
	var ranges []mediaRange
	for _, s := range strings.Split(accept, ",") {
		r, err := parseMediaRange(s)
		if err != nil {
			return false
		}
		ranges = append(ranges, r)
	}
	q, _ := qualityAndFitness(target, ranges)
	return q != 0
}

// bestMatch is mimeparse.best_match(supported, accept): blank elements
// skipped, the highest q, then fitness, then the later supported type;
// "" when the best has q 0 or the header does not parse.
func bestMatch(supported []string, accept string) string {
	var ranges []mediaRange
	for _, s := range strings.Split(accept, ",") {
		if strings.TrimSpace(s) == "" {
			continue
		}
		r, err := parseMediaRange(s)
		if err != nil {
			return ""
		}
		ranges = append(ranges, r)
	}
	best, bq, bf := "", -1.0, -2.0
	for _, m := range supported {
		q, f := qualityAndFitness(m, ranges)
		if q > bq || (q == bq && f >= bf) {
			best, bq, bf = m, q, f
		}
	}
	if bq == 0 {
		return ""
	}
	return best
}

// acceptsJSON is falcon's req.client_accepts_json, which the API's
// RequireJSON middleware checks first.
func acceptsJSON(r *http.Request) bool {
	return accepts(r.Header.Get("Accept"), "application/json")
}

// notAcceptable is falcon's HTTPNotAcceptable from RequireJSON, serialized
// by default_serialize_error: as XML (application/xml or text/xml) or JSON,
// whichever the client prefers, else JSON for a "+json" Accept and XML
// for a "+xml" one, else no body (the response keeps falcon's default
// Content-Type, application/json).
func notAcceptable(w http.ResponseWriter, r *http.Request) {
	const title = "Freezer-api only supports responses encoded as JSON."
	const href = "http://docs.examples.com/api/json"
	accept := r.Header.Get("Accept")
	if accept == "" {
		accept = "*/*"
	}
	preferred := bestMatch([]string{"application/xml", "text/xml", "application/json"}, accept)
	if preferred == "" {
		switch low := strings.ToLower(accept); {
		case strings.Contains(low, "+json"):
			preferred = "application/json"
		case strings.Contains(low, "+xml"):
			preferred = "application/xml"
		}
	}
	w.Header().Set("Vary", "Accept")
	switch preferred {
	case "application/json":
		writeJSON(w, http.StatusNotAcceptable, obj{{"title", title}, {"link", obj{{"text", "Documentation related to this error"}, {"href", href}, {"rel", "help"}}}})
	case "":
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotAcceptable)
	default:
		w.Header().Set("Content-Type", preferred)
		w.WriteHeader(http.StatusNotAcceptable)
		_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><error><title>` + title + `</title><link><text>Documentation related to this error</text><href>` + href + `</href><rel>help</rel></link></error>`))
	}
}

// falconMethods is falcon's COMBINED_METHODS: a method outside it is 400
// "Invalid HTTP method" on any route, where a known method the route lacks
// is 405.
var falconMethods = []string{"CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE",
	"CHECKIN", "CHECKOUT", "COPY", "LOCK", "MKCOL", "MOVE", "PROPFIND", "PROPPATCH", "REPORT", "UNCHECKIN", "UNLOCK", "UPDATE", "VERSION-CONTROL",
	"WEBSOCKET"}

// knownMethod answers falcon's 400 for a method it does not know; false
// when it did.
func knownMethod(w http.ResponseWriter, r *http.Request) bool {
	if slices.Contains(falconMethods, r.Method) {
		return true
	}
	falconError(w, http.StatusBadRequest, "Bad request", "Invalid HTTP method")
	return false
}
