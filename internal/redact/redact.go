// Package redact is longrun's one rule for keeping secrets out of errors and
// log lines: URL userinfo passwords, secret query parameters (auth_token,
// api_key, password, signature, ...), JSON members and name=value pairs
// whose name says secret, and any caller-known secret value. Every SDK
// package renders URLs, bodies and messages through it.
package redact

import (
	"net/url"
	"regexp"
	"strings"
)

// Mask replaces every secret.
const Mask = "REDACTED"

// params are query parameter and member names whose values are secret.
var params = map[string]bool{
	"auth_token": true, "token": true, "apikey": true, "api_key": true, "password": true,
	"secret": true, "signature": true, "x-amz-signature": true, "key": true, "sig": true,
	"x-auth-token": true, "access_token": true, "async_auth": true, "client_secret": true,
}

// keyParts mark a JSON member or assignment whose value is a secret
// ("vnc_password", "auth_token", "api_key", "client_secret").
var keyParts = []string{"password", "passwd", "secret", "token", "apikey", "api_key", "api-key"}

// IsSecretName reports whether a parameter, header or member named name
// holds a secret.
func IsSecretName(name string) bool {
	name = asciiLower(name)
	if params[name] {
		return true
	}
	for _, p := range keyParts {
		if strings.Contains(name, p) {
			return true
		}
	}
	return name == "authorization" || name == "cookie" || name == "set-cookie"
}

// URL renders u with any userinfo password and every secret query value
// replaced by Mask. A query that does not parse is masked whole.
func URL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	if c.User != nil {
		if _, has := c.User.Password(); has {
			c.User = url.UserPassword(c.User.Username(), Mask)
		}
	}
	if c.RawQuery != "" {
		q, err := url.ParseQuery(c.RawQuery)
		if err != nil {
			c.RawQuery = Mask
		} else {
			changed := false
			for k := range q {
				if IsSecretName(k) {
					q[k] = []string{Mask}
					changed = true
				}
			}
			if changed {
				c.RawQuery = q.Encode()
			}
		}
	}
	// A second pass catches what the query parser files under a harmless
	// name ("?=0?token=..."), and secrets in the path or fragment.
	return String(c.String())
}

// RawURL renders a URL given as text, for the errors of constructors that
// could not parse it: when it parses, as URL does; when it does not, the
// userinfo, query and fragment are dropped and the rest is passed through
// String, so a password or token in a malformed URL never reaches the
// message.
func RawURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return URL(u)
	}
	s := raw
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i] + "?" + Mask
	}
	if at := strings.LastIndexByte(s, '@'); at >= 0 {
		start := 0
		if i := strings.Index(s, "://"); i >= 0 && i < at {
			start = i + 3
		}
		s = s[:start] + Mask + "@" + s[at+1:]
	}
	return String(s)
}

// String redacts secrets inside free text: URL-query secrets
// (?auth_token=..., &apiKey=...), name=value and "name": "value" pairs whose
// name says secret, and userinfo passwords of URLs (scheme://user:pw@host).
func String(s string) string {
	return assignments(userinfo(query(s)))
}

// Body renders the start of a response or request body for an error
// message: as String, and also when the body is cut in the middle of a
// secret member.
func Body(data []byte) string { return String(string(data)) }

// Secret replaces every occurrence of each non-trivial secret value in s
// (values shorter than 4 bytes are left alone: masking them would garble
// the text without protecting anything).
func Secret(s string, secrets ...string) string {
	for _, sec := range secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, Mask)
		}
	}
	return s
}

// query masks the values of secret query parameters.
func query(s string) string {
	lower := asciiLower(s) // byte for byte, so indexes into s stay valid
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '?' && s[i] != '&' {
			continue
		}
		eq := strings.IndexByte(lower[i+1:], '=')
		if eq < 0 {
			break
		}
		name := lower[i+1 : i+1+eq]
		if !IsSecretName(name) {
			continue
		}
		start := i + 1 + eq + 1
		end := start
		for end < len(s) && !strings.ContainsRune("& \"'<>\n#", rune(s[end])) {
			end++
		}
		b.WriteString(s[last:start])
		b.WriteString(Mask)
		last = end
		i = end - 1
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// userinfo masks the password of scheme://user:password@host.
func userinfo(s string) string {
	var b strings.Builder
	last := 0
	for i := 0; i+3 <= len(s); i++ {
		if s[i:i+3] != "://" {
			continue
		}
		start := i + 3
		end := start
		for end < len(s) && !strings.ContainsRune("/?#@ \t\r\n\"'<>", rune(s[end])) {
			end++
		}
		if end >= len(s) || s[end] != '@' {
			i = end - 1
			if i < start {
				i = start
			}
			continue
		}
		colon := strings.IndexByte(s[start:end], ':')
		if colon < 0 {
			i = end
			continue
		}
		b.WriteString(s[last : start+colon+1])
		b.WriteString(Mask)
		last = end
		i = end
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// assignment finds name=value, name: value and "name": "value" pairs; the
// name is checked with IsSecretName. A quoted value runs to its closing
// quote (or the end of a cut text).
var assignment = regexp.MustCompile(`([A-Za-z0-9_-]+)(["']?[ \t]*[=:][ \t]*)("(?:[^"\\]|\\.)*"?|'[^']*'?|[^\s&"',;}\]]+)`)

// assignments masks the values of secret name=value pairs and JSON members,
// also when the text is cut inside the value.
func assignments(s string) string {
	var b strings.Builder
	last := 0
	for pos := 0; pos < len(s); {
		m := assignment.FindStringSubmatchIndex(s[pos:])
		if m == nil {
			break
		}
		for i := range m {
			m[i] += pos
		}
		if !IsSecretName(s[m[2]:m[3]]) {
			pos = m[3] // a value of a harmless name may hold a secret pair: look inside it
			continue
		}
		start, stop := m[6], m[7]
		pos = stop
		if v := s[start:stop]; len(v) > 0 && (v[0] == '"' || v[0] == '\'') {
			start++
			if stop > start && s[stop-1] == v[0] {
				stop--
			}
		}
		if stop <= start {
			continue
		}
		b.WriteString(s[last:start])
		b.WriteString(Mask)
		last = stop
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

func isNameByte(c byte) bool {
	return c == '_' || c == '-' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}

// jsonStringEnd returns the index just past the JSON string that opens at
// s[i] (a quote) and true, or len(s) and false when it is not closed.
func jsonStringEnd(s string, i int) (int, bool) {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			return j + 1, true
		}
	}
	return len(s), false
}

func skipSpace(s string, i int) int {
	for i < len(s) && strings.IndexByte(" \t\r\n", s[i]) >= 0 {
		i++
	}
	return i
}

// asciiLower lowers ASCII letters only, keeping every byte where it was
// (strings.ToLower rewrites invalid UTF-8 and shifts offsets).
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
