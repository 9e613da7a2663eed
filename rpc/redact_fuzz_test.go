package rpc

import (
	"context"
	"regexp"
	"strings"
	"testing"
)

var fuzzSecret = regexp.MustCompile(`^[A-Za-z0-9]{8,40}$`)

// FuzzDialNoSecret: whatever the URL holds (a password, a token in the
// query or the fragment, a trailing newline, bytes that do not parse),
// Dial's error never shows the secret.
func FuzzDialNoSecret(f *testing.F) {
	for _, seed := range []struct{ tmpl, secret string }{
		{"ws://root:SECRET@nas.local/api/current\n", "hunter2hunter2"},
		{"wss://nas.local/websocket?auth_token=SECRET\n", "s3cretT0ken"},
		{"https://root:SECRET@nas\x7f.local/", "Passw0rdPassw0rd"},
		{"ftp://u:SECRET@h/?api_key=SECRET", "abcdefgh12"},
		{"ws://u:SECRET@[::1/", "zzzzzzzzzzzz"},
		{"ws://h/api/current#token=SECRET", "frag12345678"},
		{"%zz://u:SECRET@h", "badescape123"},
		{" ws://u:SECRET@h", "leadingspace"},
	} {
		f.Add(seed.tmpl, seed.secret)
	}
	f.Fuzz(func(t *testing.T, tmpl, secret string) {
		// The secret sits where secrets go: a userinfo password or a
		// secret query member; the rest of the URL is anything.
		if !fuzzSecret.MatchString(secret) || strings.Contains(strings.ReplaceAll(tmpl, "SECRET", ""), secret[:4]) {
			return
		}
		for _, slot := range []string{"SECRET", ":SECRET@", "token=SECRET", "api_key=SECRET"} {
			if slot == "SECRET" {
				if strings.Count(tmpl, "SECRET") != strings.Count(tmpl, ":SECRET@")+strings.Count(tmpl, "token=SECRET")+strings.Count(tmpl, "api_key=SECRET") {
					return
				}
			}
		}
		if !strings.Contains(tmpl, "SECRET") {
			return
		}
		raw := strings.ReplaceAll(tmpl, "SECRET", secret)
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // never reach the network
		c, err := Dial(ctx, raw, WithPassword("root", secret), WithoutReconnect())
		if err == nil {
			c.Close()
			t.Fatalf("Dial(%q) succeeded with a cancelled ctx", raw)
		}
		if strings.Contains(err.Error(), secret) {
			t.Fatalf("Dial(%q) error shows the secret: %v", raw, err)
		}
	})
}
