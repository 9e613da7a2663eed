package cloudsigma_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/fake/cloudsigma"
)

// sessionCall sends one request with the login cookies and, when csrf is
// set, the X-CSRFToken header, as a browser (or pycloudsigma with
// login_method='session') does.
func sessionCall(t *testing.T, srv *fake.Server, method, path, body string, cookies []*http.Cookie, csrf string) call {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL()+path, r)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	if csrf != "" {
		req.Header.Set(cloudsigma.CSRFHeader, csrf)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return call{resp.StatusCode, resp.Header, b}
}

// TestCookieAuthentication follows general.rst's "Cookie-based
// Authentication": do=login sets sessionid and csrftoken; GET needs only
// the cookie, anything else also X-CSRFToken; do=logout ends the
// session; a session lasts its documented Max-Age in fake time.
func TestCookieAuthentication(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{})
	const login = "/api/2.0/accounts/action/?do=login"
	if c := do(t, srv, "POST", login, "", "", `{"username": "admin@example.com", "password": "wrong"}`); c.status != 401 {
		t.Errorf("login with a wrong password: %d %s", c.status, c.body)
	} else {
		errorList(t, c)
	}
	if c := do(t, srv, "POST", login, "", "", `{"username": 1}`); c.status != 400 {
		t.Errorf("login with a number for a username: %d %s", c.status, c.body)
	}
	c := do(t, srv, "POST", login, "", "", `{"username": "admin@example.com", "password": "secret"}`)
	if c.status != 200 || strings.TrimSpace(string(c.body)) != "{}" {
		t.Fatalf("login: %d %s", c.status, c.body)
	}
	cookies := (&http.Response{Header: c.header}).Cookies()
	var csrf string
	var sid *http.Cookie
	for _, ck := range cookies {
		switch ck.Name {
		case cloudsigma.CSRFCookie:
			csrf = ck.Value
		case cloudsigma.SessionCookie:
			sid = ck
		}
	}
	if csrf == "" || sid == nil || !sid.HttpOnly || sid.MaxAge != 1209600 || sid.Path != "/" {
		t.Fatalf("login cookies: %v", cookies)
	}
	if c := sessionCall(t, srv, "GET", "/api/2.0/drives/", "", cookies, ""); c.status != 200 {
		t.Errorf("GET with the session cookie: %d %s", c.status, c.body)
	}
	drive := `{"name": "s", "size": 1073741824, "media": "disk"}`
	if c := sessionCall(t, srv, "POST", "/api/2.0/drives/", drive, cookies, ""); c.status != 401 {
		t.Errorf("POST without X-CSRFToken: %d %s", c.status, c.body)
	}
	if c := sessionCall(t, srv, "POST", "/api/2.0/drives/", drive, cookies, "forged"); c.status != 401 {
		t.Errorf("POST with a wrong X-CSRFToken: %d %s", c.status, c.body)
	}
	if c := sessionCall(t, srv, "POST", "/api/2.0/drives/", drive, cookies, csrf); c.status != 201 {
		t.Errorf("POST with X-CSRFToken: %d %s", c.status, c.body)
	}
	if c := sessionCall(t, srv, "POST", "/api/2.0/accounts/action/?do=check_login", "{}", cookies, csrf); c.status != 200 {
		t.Errorf("check_login: %d %s", c.status, c.body)
	}
	if c := sessionCall(t, srv, "POST", "/api/2.0/accounts/action/?do=logout", "{}", cookies, csrf); c.status != 200 {
		t.Errorf("logout: %d %s", c.status, c.body)
	}
	if c := sessionCall(t, srv, "GET", "/api/2.0/drives/", "", cookies, ""); c.status != 401 {
		t.Errorf("GET after logout: %d %s", c.status, c.body)
	}
	if c := sessionCall(t, srv, "POST", "/api/2.0/accounts/action/?do=check_login", "{}", cookies, csrf); c.status != 401 {
		t.Errorf("check_login after logout: %d %s", c.status, c.body)
	}

	// A session ends after SessionLife of fake time.
	c = do(t, srv, "POST", login, "", "", `{"username": "admin@example.com", "password": "secret"}`)
	cookies = (&http.Response{Header: c.header}).Cookies()
	srv.Clock().Advance(cloudsigma.SessionLife - time.Second)
	if c := sessionCall(t, srv, "GET", "/api/2.0/servers/", "", cookies, ""); c.status != 200 {
		t.Errorf("a session 1 s from its end: %d", c.status)
	}
	srv.Clock().Advance(2 * time.Second)
	if c := sessionCall(t, srv, "GET", "/api/2.0/servers/", "", cookies, ""); c.status != 401 {
		t.Errorf("an ended session: %d", c.status)
	}
}
