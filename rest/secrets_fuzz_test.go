package rest_test

import (
	"strings"
	"testing"

	"github.com/longrun/longrun/rest"
)

// FuzzNewNeverEchoesUserinfo: whatever the base URL holds around it, New's
// error never shows the password of the URL's userinfo (issue 9). The
// check is skipped only when the password also stands elsewhere in the URL
// (a host that is the password cannot be hidden; the scheme comes back lower-cased) or is a piece of New's own
// fixed words.
func FuzzNewNeverEchoesUserinfo(f *testing.F) {
	f.Add("ftp://", "hunter22", "host/")
	f.Add("http://", "hunter22", "host:99999/")
	f.Add("http://", "hunter22", "ho st/")
	f.Add("http://", "hunter22", "host/%zz")
	f.Add("http://", "hun%zzter", "host/")
	f.Add("https://", "s3cr3t", "host/api/\n")
	f.Add("gopher://", "pw:with:colons", "[::1/")
	f.Add("", "hunter22", "host/")
	f.Add("http://", "pa/ss99", "host/")
	f.Fuzz(func(t *testing.T, scheme, password, rest_ string) {
		if len(password) < 4 {
			return
		}
		base := scheme + "user:" + password + "@" + rest_
		_, err := rest.New(base)
		if err == nil || strings.Count(strings.ToLower(base), strings.ToLower(password)) > 1 {
			return
		}
		const fixed = "rest: base URL: scheme must be http or https invalid port after host missing protocol scheme first path segment in URL cannot contain colon net/url: invalid control character in URL invalid userinfo invalid URL escape"
		if msg := err.Error(); strings.Contains(msg, password) && !strings.Contains(fixed, password) {
			t.Fatalf("New(%q) shows the password %q: %s", base, password, msg)
		}
	})
}
