package cloudsigma

import (
	"crypto/rand"
	"errors"
	"net/http"
	"time"

	"github.com/longrun/longrun/fake/sim"
)

// Cookie authentication (general.rst, "Cookie-based Authentication";
// accounts.rst, "Login/Logout"): POST /accounts/action/?do=login with
// {"username", "password"} sets a sessionid and a csrftoken cookie; a
// request with the sessionid cookie is the user's, and every request but
// GET, HEAD and OPTIONS must also carry the csrftoken in an X-CSRFToken
// header. do=logout ends the session, do=check_login tells whether the
// caller is logged in. pycloudsigma logs in this way with
// login_method='session'.
const (
	// SessionCookie is the cookie that carries a login session.
	SessionCookie = "sessionid"
	// CSRFCookie is the cookie that carries a session's CSRF token.
	CSRFCookie = "csrftoken"
	// CSRFHeader is the header a session's unsafe requests repeat the
	// CSRF token in.
	CSRFHeader = "X-CSRFToken"
	// SessionLife is how long a login session lasts, in fake time (the
	// documented sessionid Max-Age, 1209600 seconds).
	SessionLife = 14 * 24 * time.Hour
	// csrfLife is the documented csrftoken Max-Age, 31449600 seconds.
	csrfLife = 364 * 24 * time.Hour
)

type session struct {
	user    string
	csrf    string
	expires time.Time
}

// isLogin reports whether r is the one request served before
// authentication: POST /accounts/action/?do=login.
func isLogin(r *http.Request, rest string) bool {
	return r.Method == http.MethodPost && rest == "accounts/action/" && r.URL.Query().Get("do") == "login"
}

// serveLogin answers do=login: 200 {} with the two cookies for a known
// username and password, 401 otherwise.
func (b *Backend) serveLogin(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		validationErr(w, err)
		return
	}
	m, err := objectOf(body)
	if err != nil || body == nil {
		writeErr(w, http.StatusBadRequest, "validation", "", "Request body is not a JSON object")
		return
	}
	name, _, err1 := str(m, "username")
	pass, _, err2 := str(m, "password")
	if err1 != nil || err2 != nil {
		validationErr(w, errors.Join(err1, err2))
		return
	}
	u, ok := b.env.Lookup(func(u sim.User) bool {
		return u.Email != "" && u.Email == name && sim.SecretEqual(u.Password, pass)
	})
	if !ok {
		writeErr(w, http.StatusUnauthorized, "permission", "", "Invalid username or password")
		return
	}
	id, csrf := rand.Text(), rand.Text()
	b.mu.Lock()
	now := b.now()
	for k, s := range b.sessions {
		if now.After(s.expires) {
			delete(b.sessions, k)
		}
	}
	if b.sessions == nil {
		b.sessions = map[string]session{}
	}
	b.sessions[id] = session{user: u.ID, csrf: csrf, expires: now.Add(SessionLife)}
	b.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: CSRFCookie, Value: csrf, Path: "/", Expires: now.Add(csrfLife), MaxAge: int(csrfLife / time.Second)})
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: id, Path: "/", Expires: now.Add(SessionLife),
		MaxAge: int(SessionLife / time.Second), HttpOnly: true})
	writeJSON(w, http.StatusOK, map[string]any{})
}

// sessionUser is the user of r's live login session. A request that
// changes anything must repeat the session's CSRF token in X-CSRFToken;
// without it the request is not authenticated.
func (b *Backend) sessionUser(r *http.Request) (sim.User, bool) {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return sim.User{}, false
	}
	b.mu.Lock()
	s, ok := b.sessions[c.Value]
	if ok && b.now().After(s.expires) {
		delete(b.sessions, c.Value)
		ok = false
	}
	b.mu.Unlock()
	if !ok {
		return sim.User{}, false
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		if tok := r.Header.Get(CSRFHeader); tok == "" || !sim.SecretEqual(s.csrf, tok) {
			return sim.User{}, false
		}
	}
	return b.env.Lookup(func(u sim.User) bool { return u.ID == s.user })
}

// logoutLocked ends r's login session, if it has one.
func (b *Backend) logoutLocked(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(SessionCookie); err == nil {
		delete(b.sessions, c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1})
	http.SetCookie(w, &http.Cookie{Name: CSRFCookie, Value: "", Path: "/", MaxAge: -1})
}
