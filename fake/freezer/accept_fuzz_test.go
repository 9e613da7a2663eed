package freezer

import (
	"net/http/httptest"
	"slices"
	"testing"
)

// FuzzAccept feeds arbitrary Accept headers to the negotiation: no panic,
// bestMatch names a supported type or nothing, and notAcceptable always
// answers 406.
func FuzzAccept(f *testing.F) {
	for _, s := range []string{"", "*/*", "application/json;q=0", "text/*, application/json;q=0.5", "*;q=", "a/b/c", ",", ";;", "application/json;q=\"0.5\"", "x+json", "text/xml;Q=1e3"} {
		f.Add(s)
	}
	supported := []string{"application/xml", "text/xml", "application/json"}
	f.Fuzz(func(t *testing.T, accept string) {
		_ = accepts(accept, "application/json")
		if m := bestMatch(supported, accept); m != "" && !slices.Contains(supported, m) {
			t.Fatalf("bestMatch(%q) = %q", accept, m)
		}
		r := httptest.NewRequest("GET", "/v1/jobs", nil)
		r.Header.Set("Accept", accept)
		w := httptest.NewRecorder()
		notAcceptable(w, r)
		if w.Code != 406 {
			t.Fatalf("notAcceptable(%q): %d", accept, w.Code)
		}
	})
}
