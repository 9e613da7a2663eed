package rest

import (
	"github.com/longrun/longrun/internal/redact"

	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestBackoffHonoursRetryAfterAndJitters(t *testing.T) {
	c := &Client{}
	resp := &http.Response{Header: http.Header{"Retry-After": {"7"}}}
	assert.Equal(t, 7*time.Second, c.backoff(time.Second, 2*time.Second, 0, resp))
	resp.Header.Set("Retry-After", "86400")
	assert.Equal(t, time.Minute, c.backoff(time.Second, 2*time.Second, 0, resp), "capped at a minute")
	date := time.Now().Add(30 * time.Second).UTC().Format(http.TimeFormat)
	resp.Header.Set("Retry-After", date)
	d := c.backoff(time.Second, 2*time.Second, 0, resp)
	assert.InDelta(t, 30, d.Seconds(), 2)

	seen := map[time.Duration]bool{}
	for attempt := range 40 {
		d := c.backoff(100*time.Millisecond, 10*time.Second, attempt, nil)
		want := min(100*time.Millisecond<<min(attempt, 30), 10*time.Second)
		assert.GreaterOrEqual(t, d, want/2)
		assert.LessOrEqual(t, d, want)
		seen[d] = true
	}
	assert.Greater(t, len(seen), 20, "jittered")
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	assert.Equal(t, 3*time.Second, parseRetryAfter(" 3 ", now))
	assert.Equal(t, time.Duration(0), parseRetryAfter("-3", now))
	assert.Equal(t, time.Duration(0), parseRetryAfter("soon", now))
	assert.Equal(t, 90*time.Second, parseRetryAfter(now.Add(90*time.Second).Format(http.TimeFormat), now))
	assert.Equal(t, time.Duration(0), parseRetryAfter(now.Add(-time.Hour).Format(http.TimeFormat), now))
}

func TestRedactString(t *testing.T) {
	in := `GET /_download/3?auth_token=abc&x=1 then http://h/component/get?id=1&username=u&apiKey=KEY2 and ?token=T3"`
	out := RedactString(in)
	for _, secret := range []string{"abc", "KEY2", "T3"} {
		assert.NotContains(t, out, "="+secret)
	}
	assert.Contains(t, out, "x=1")
	assert.Contains(t, out, "username=u")
	assert.Equal(t, "nothing to hide", RedactString("nothing to hide"))
}

func FuzzRedactString(f *testing.F) {
	f.Add("prefix", "auth_token", "s3cret")
	f.Add("http://h/x?a=1", "apiKey", "k")
	f.Add("", "TOKEN", "&&&")
	f.Fuzz(func(t *testing.T, prefix, name, secret string) {
		if !redact.IsSecretName(name) || !plainName(name) || secret == "" || strings.ContainsAny(secret, "& \"'<>\n") {
			return
		}
		in := prefix + "?" + name + "=" + secret + "&after=1"
		out := RedactString(in)
		if strings.Contains(out, "?"+name+"="+secret+"&") {
			t.Fatalf("secret survived: %q -> %q", in, out)
		}
	})
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"0", "120", "-1", "Wed, 21 Oct 2015 07:28:00 GMT", "", "9999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d := parseRetryAfter(s, time.Now()); d < 0 {
			t.Fatalf("negative delay %v for %q", d, s)
		}
	})
}

func FuzzRedactSnippet(f *testing.F) {
	f.Add(`{"name": "a", "x": [1, 2]`, "vnc_password", "S3cretValue")
	f.Add(`[{"error_type":"x","error_message":"y"}`, "auth_token", "tok\\\"en")
	f.Add(`"unterminated`, "API_KEY", "k")
	f.Fuzz(func(t *testing.T, prefix, name, secret string) {
		_ = redactSnippet([]byte(prefix)) // never panics, whatever the body
		// A well-formed object whose member has a secret name: its value
		// never survives, whatever the member before it holds.
		if !redact.IsSecretName(name) || !plainName(name) || len(secret) < 4 {
			return
		}
		val, _ := json.Marshal(secret)
		pre, _ := json.Marshal(prefix)
		in := `{"before":` + string(pre) + `, "` + name + `" : ` + string(val) + `}`
		out := redactSnippet([]byte(in))
		// The value may also appear inside "before"; look past the member's name.
		if tail := out[strings.LastIndex(out, `"`+name+`"`):]; strings.Contains(tail, string(val)) {
			t.Fatalf("secret survived: %q -> %q", in, out)
		}
	})
}

// plainName reports whether name is made of the bytes a parameter or member
// name is made of in practice (letters, digits, '_' and '-').
func plainName(name string) bool {
	for _, c := range []byte(name) {
		if !(c == '_' || c == '-' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')) {
			return false
		}
	}
	return name != ""
}
