package freezer

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/longrun/longrun/fake/sim"
)

// TokenLifetime is how long a token the fake Keystone issues lasts, on the
// fake clock, unless SetTokenLifetime changes it.
const TokenLifetime = time.Hour

// SetTokenLifetime sets how long the tokens issued from now on last, on
// the fake clock. A token dies at the very instant its expires_at names,
// read on the fake clock; a process that runs the clock faster than wall
// time (longrun-fake -speed N) can give tokens N times TokenLifetime so
// that clients which measure expires_at in wall time (keystoneauth) see a
// token live as long as it says.
func (b *Backend) SetTokenLifetime(d time.Duration) {
	if d <= 0 {
		d = TokenLifetime
	}
	b.mu.Lock()
	b.tokenLife = d
	b.mu.Unlock()
}

type token struct {
	user    sim.User
	expires time.Time
}

// projectName is the Keystone project name of a seeded user's project.
func projectName(u sim.User) string { return u.Name }

func newSecret() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return "gAAAAAB" + hex.EncodeToString(b[:])
}

// IssueToken returns a valid token for the named user, as Keystone would
// after a password login (for tests that start from a token).
func (b *Backend) IssueToken(username string) (string, bool) {
	u, ok := b.env.Lookup(func(u sim.User) bool { return u.Name == username })
	if !ok {
		return "", false
	}
	s, _, _ := b.issue(u)
	return s, true
}

// issue makes a token for u and returns it with its issued_at and
// expires_at, to the microsecond Keystone writes them with.
func (b *Backend) issue(u sim.User) (secret string, issued, expires time.Time) {
	s := newSecret()
	now := b.env.Clock.Now().UTC().Truncate(time.Microsecond)
	b.mu.Lock()
	life := b.tokenLife
	if life <= 0 {
		life = TokenLifetime
	}
	for k, t := range b.tokens {
		if !now.Before(t.expires) {
			delete(b.tokens, k) // expired: every request scans the live ones
		}
	}
	expires = now.Add(life)
	b.tokens[s] = token{user: u, expires: expires}
	b.mu.Unlock()
	return s, now, expires
}

// authenticate finds the user of a request's X-Auth-Token.
func (b *Backend) authenticate(r *http.Request) (sim.User, bool) {
	s := r.Header.Get("X-Auth-Token")
	if s == "" {
		return sim.User{}, false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for k, t := range b.tokens {
		if sim.SecretEqual(k, s) {
			if !b.env.Clock.Now().Before(t.expires) {
				return sim.User{}, false
			}
			return t.user, true
		}
	}
	return sim.User{}, false
}

func keystoneError(w http.ResponseWriter, code int, title, msg string) {
	writeGoJSON(w, code, map[string]any{"error": map[string]any{"code": code, "title": title, "message": msg}})
}

func unauthorized(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("WWW-Authenticate", `Keystone uri="`+baseURL(r)+`/v3"`)
	keystoneError(w, http.StatusUnauthorized, "Unauthorized", "The request you have made requires authentication.")
}

// apiUnauthorized is keystonemiddleware's auth_token refusing a Freezer
// API request: webob's HTTPUnauthorized with the body it builds as a dict
// (code, title, message) and dumps with oslo's jsonutils, so Python's
// separators and key order, unlike Keystone's own 401.
func apiUnauthorized(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("WWW-Authenticate", `Keystone uri="`+baseURL(r)+`/v3"`)
	writeJSON(w, http.StatusUnauthorized, obj{{"error", obj{
		{"code", http.StatusUnauthorized},
		{"title", "Unauthorized"},
		{"message", "The request you have made requires authentication."},
	}}})
}

func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (b *Backend) keystoneVersion(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		keystoneError(w, http.StatusMethodNotAllowed, "Method Not Allowed", "The method is not allowed for the requested URL.")
		return
	}
	writeGoJSON(w, http.StatusOK, map[string]any{"version": map[string]any{
		"id": "v3.14", "status": "stable", "updated": "2020-04-07T00:00:00Z",
		"links":       []any{map[string]any{"rel": "self", "href": baseURL(r) + "/v3/"}},
		"media-types": []any{map[string]any{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}},
	}})
}

type authBody struct {
	Auth struct {
		Identity struct {
			Methods  []string `json:"methods"`
			Password *struct {
				User struct {
					ID       string `json:"id"`
					Name     string `json:"name"`
					Password string `json:"password"`
					Domain   *struct {
						ID   string `json:"id"`
						Name string `json:"name"`
					} `json:"domain"`
				} `json:"user"`
			} `json:"password"`
			Token *struct {
				ID string `json:"id"`
			} `json:"token"`
		} `json:"identity"`
		Scope json.RawMessage `json:"scope"`
	} `json:"auth"`
}

func (b *Backend) keystoneTokens(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		keystoneError(w, http.StatusMethodNotAllowed, "Method Not Allowed", "The method is not allowed for the requested URL.")
		return
	}
	var body authBody
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
		keystoneError(w, http.StatusBadRequest, "Bad Request", "Invalid input for field 'identity': the request body is not valid JSON.")
		return
	}
	id := body.Auth.Identity
	var user sim.User
	var ok bool
	switch {
	case len(id.Methods) == 1 && id.Methods[0] == "password" && id.Password != nil:
		pu := id.Password.User
		user, ok = b.env.Lookup(func(u sim.User) bool {
			return (pu.ID != "" && u.ID == pu.ID) || (pu.ID == "" && pu.Name != "" && u.Name == pu.Name)
		})
		if ok && !sim.SecretEqual(user.Password, pu.Password) {
			ok = false
		}
		if ok && pu.ID == "" && pu.Domain != nil && pu.Domain.ID != "" && pu.Domain.ID != "default" {
			ok = false
		}
		if ok && pu.ID == "" && pu.Domain != nil && pu.Domain.ID == "" && pu.Domain.Name != "" && !strings.EqualFold(pu.Domain.Name, "Default") {
			ok = false
		}
	case len(id.Methods) == 1 && id.Methods[0] == "token" && id.Token != nil:
		r2 := r.Clone(r.Context())
		r2.Header.Set("X-Auth-Token", id.Token.ID)
		user, ok = b.authenticate(r2)
	default:
		keystoneError(w, http.StatusBadRequest, "Bad Request", "Expecting to find identity in auth. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.")
		return
	}
	if !ok {
		unauthorized(w, r)
		return
	}
	if len(body.Auth.Scope) > 0 && string(body.Auth.Scope) != "null" {
		var sc struct {
			Project *struct {
				ID   string `json:"id"`
				Name string `json:"name"`
			} `json:"project"`
		}
		_ = json.Unmarshal(body.Auth.Scope, &sc)
		if sc.Project != nil && sc.Project.ID != user.Project && sc.Project.Name != projectName(user) {
			unauthorized(w, r)
			return
		}
	}
	secret, now, expires := b.issue(user)
	const layout = "2006-01-02T15:04:05.000000Z"
	dom := map[string]any{"id": "default", "name": "Default"}
	base := baseURL(r)
	endpoints := func(url string) []any {
		var out []any
		for _, iface := range []string{"public", "internal", "admin"} {
			out = append(out, map[string]any{"id": newSecret()[7:39], "interface": iface, "region": "RegionOne", "region_id": "RegionOne", "url": url})
		}
		return out
	}
	w.Header().Set("X-Subject-Token", secret)
	writeGoJSON(w, http.StatusCreated, map[string]any{"token": map[string]any{
		"methods":    id.Methods,
		"user":       map[string]any{"id": user.ID, "name": user.Name, "domain": dom, "password_expires_at": nil},
		"audit_ids":  []any{newSecret()[7:29]},
		"expires_at": expires.Format(layout),
		"issued_at":  now.Format(layout),
		"project":    map[string]any{"id": user.Project, "name": projectName(user), "domain": dom},
		"is_domain":  false,
		"roles":      []any{map[string]any{"id": "9fe2ff9ee4384b1894a90878d3e92bab", "name": "member"}, map[string]any{"id": "6ea2ed5ef3a44bc1a8dfb0f3a3ab2d22", "name": "admin"}},
		"catalog": []any{
			map[string]any{"id": "a3b9d4e2c6f14f0e8d2b1c0a9e8f7d6c", "type": "backup", "name": "freezer", "endpoints": endpoints(base)},
			map[string]any{"id": "b4c0e5f3d7a25a1f9e3c2d1b0f9a8e7d", "type": "identity", "name": "keystone", "endpoints": endpoints(base + "/v3")},
		},
	}})
}

// writeGoJSON writes v as Keystone does (compact JSON, Go's key order is
// as good as Keystone's, which sorts nothing but is not compared).
func writeGoJSON(w http.ResponseWriter, code int, v any) {
	data, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(data)
}
