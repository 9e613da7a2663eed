package upload

import (
	"context"
	"github.com/longrun/longrun/jobs"
	"regexp"
	"strings"
	"testing"
)

type nopConn struct{}

func (nopConn) Call(context.Context, string, []any, any) error { return nil }
func (nopConn) Fetch(context.Context, ...string) ([]*jobs.Job, error) {
	return nil, nil
}

var fuzzSecret = regexp.MustCompile(`^[A-Za-z0-9]{8,40}$`)

// FuzzNewNoSecret: whatever the base URL holds (a password, a token in
// the query, a trailing newline, bytes that do not parse), New's error
// never shows the secret.
func FuzzNewNoSecret(f *testing.F) {
	for _, seed := range []struct{ tmpl, secret string }{
		{"https://root:SECRET@nas.local/\n", "hunter2hunter2"},
		{"wss://nas.local/websocket?auth_token=SECRET\n", "s3cretT0ken"},
		{"https://root:SECRET@nas\x7f.local/", "Passw0rdPassw0rd"},
		{"ftp://u:SECRET@h/?api_key=SECRET", "abcdefgh12"},
		{"A:SECRET@", "zzzzzzzzzzzz"},
		{"%zz://u:SECRET@h", "badescape123"},
	} {
		f.Add(seed.tmpl, seed.secret)
	}
	f.Fuzz(func(t *testing.T, tmpl, secret string) {
		if !fuzzSecret.MatchString(secret) || !strings.Contains(tmpl, "SECRET") ||
			strings.Contains(strings.ReplaceAll(tmpl, "SECRET", ""), secret[:4]) {
			return
		}
		// The secret sits where secrets go: a userinfo password or a
		// secret query member.
		slots := strings.Count(tmpl, ":SECRET@") + strings.Count(tmpl, "token=SECRET") + strings.Count(tmpl, "api_key=SECRET")
		if slots != strings.Count(tmpl, "SECRET") {
			return
		}
		raw := strings.ReplaceAll(tmpl, "SECRET", secret)
		_, err := New(raw, nopConn{}, WithBasicAuth("root", secret))
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Fatalf("New(%q) error shows the secret: %v", raw, err)
		}
	})
}
