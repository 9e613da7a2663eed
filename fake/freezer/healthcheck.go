package freezer

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// healthcheck is oslo.middleware's Healthcheck app, which freezer-api's
// paste configuration (freezer-paste.ini) mounts at /healthcheck, ahead
// of auth_token: no token needed, any method, any path under it. With
// its disable_by_file backend and no disable file it is healthy: HEAD is
// a bare 204; otherwise 200 with "OK" as text/plain, application/json or
// text/html, the first of those the Accept header takes best (text/plain
// when it takes none).
func healthcheck(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	var ct, body string
	switch bestOffer(r.Header.Get("Accept"), []string{"text/plain", "text/html", "application/json"}) {
	case "text/html":
		ct = "text/html; charset=UTF-8"
		body = "<HTML>\n<HEAD><TITLE>Healthcheck Status</TITLE></HEAD>\n<BODY>\n\n<H2>Result of 1 checks:</H2>\n" +
			"<TABLE bgcolor=\"#ffffff\" border=\"1\">\n<TBODY>\n<TR>\n\n<TH>\nReason\n</TH>\n</TR>\n<TR>\n\n    <TD>OK</TD>\n\n" +
			"</TR>\n</TBODY>\n</TABLE>\n<HR></HR>\n\n</BODY>\n</HTML>"
	case "application/json":
		ct = "application/json"
		body = "{\n    \"detailed\": false,\n    \"reasons\": [\n        \"OK\"\n    ]\n}"
	default:
		ct = "text/plain; charset=UTF-8"
		body = "OK"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(body))
}

// bestOffer is webob's acceptable_offers(offers)[0]: each offer gets the
// quality of the most specific media range that matches it, offers of
// quality 0 drop out, and the rest sort by quality, ties in offer order.
// No Accept header takes every offer; "" when none is acceptable.
func bestOffer(accept string, offers []string) string {
	if strings.TrimSpace(accept) == "" {
		return offers[0]
	}
	type rng struct {
		typ, sub string
		q        float64
	}
	var ranges []rng
	for _, part := range strings.Split(accept, ",") {
		fields := strings.Split(part, ";")
		typ, sub, ok := strings.Cut(strings.ToLower(strings.TrimSpace(fields[0])), "/")
		if !ok || typ == "" || sub == "" {
			continue
		}
		q := 1.0
		for _, p := range fields[1:] {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(strings.TrimSpace(k), "q") {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil || f < 0 || f > 1 {
					f = 0
				}
				q = f
			}
		}
		ranges = append(ranges, rng{typ, sub, q})
	}
	type scored struct {
		offer string
		q     float64
	}
	var ok []scored
	for _, o := range offers {
		ot, os, _ := strings.Cut(o, "/")
		best, q := -1, 0.0
		for _, r := range ranges {
			spec := -1
			switch {
			case r.typ == ot && r.sub == os:
				spec = 2
			case r.typ == ot && r.sub == "*":
				spec = 1
			case r.typ == "*" && r.sub == "*":
				spec = 0
			}
			if spec > best {
				best, q = spec, r.q
			}
		}
		if best >= 0 && q > 0 {
			ok = append(ok, scored{o, q})
		}
	}
	sort.SliceStable(ok, func(i, j int) bool { return ok[i].q > ok[j].q })
	if len(ok) == 0 {
		return ""
	}
	return ok[0].offer
}
