package freezer_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/fake/freezer"
	fz "github.com/longrun/longrun/freezer"
	"github.com/longrun/longrun/rest"
	"github.com/longrun/longrun/testutil/freezertest"
)

func TestAuthenticatePassword(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{})
	ctx := context.Background()
	tok, err := fz.Authenticate(ctx, fz.Credentials{AuthURL: srv.URL(), Username: "admin", Password: "secret", ProjectName: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	if tok.Value() == "" || tok.ProjectID != "f1e2d3c4b5a6978812345678abcdef01" || tok.ExpiresAt.Sub(tok.IssuedAt) != freezer.TokenLifetime {
		t.Errorf("token %+v", tok)
	}
	if ep, ok := tok.Endpoint(fz.ServiceType, ""); !ok || ep != srv.URL() {
		t.Errorf("catalog endpoint %q %v", ep, ok)
	}
	if s := fmt.Sprint(tok); strings.Contains(s, tok.Value()) {
		t.Errorf("fmt shows the token: %s", s)
	}
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("token", "tok", tok)
	if strings.Contains(logs.String(), tok.Value()) {
		t.Errorf("slog shows the token: %s", logs.String())
	}
	// The token works with WithToken.
	c, err := fz.New(srv.URL(), fz.WithToken(tok.Value()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := freezertest.Items(c.List(ctx, nil)); err != nil {
		t.Fatal(err)
	}
}

func TestAuthenticateRefused(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{})
	ctx := context.Background()
	for _, cr := range []fz.Credentials{
		{AuthURL: srv.URL() + "/v3", Username: "admin", Password: "wrong-hunter2"},
		{AuthURL: srv.URL() + "/v3", Username: "nobody", Password: "wrong-hunter2"},
		{AuthURL: srv.URL() + "/v3", Username: "admin", Password: "secret", ProjectName: "not-mine-hunter2"},
	} {
		_, err := fz.Authenticate(ctx, cr)
		if !errors.Is(err, rest.ErrUnauthorized) {
			t.Errorf("%s: %v, want 401", cr.Username, err)
			continue
		}
		var ae *rest.APIError
		if errors.As(err, &ae) && (ae.Type != "Unauthorized" || ae.Message == "") {
			t.Errorf("keystone error not decoded: %q %q", ae.Type, ae.Message)
		}
		if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "secret") {
			t.Errorf("error shows a secret: %v", err)
		}
	}
	if _, err := fz.Authenticate(ctx, fz.Credentials{AuthURL: srv.URL(), Username: "admin"}); err == nil {
		t.Error("no password accepted")
	}
}

// A password client renews its token when the API refuses it (the fake
// clock passes the token's lifetime) and never logs the token or password.
func TestPasswordClientRenews(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{})
	ctx := context.Background()
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := fz.New(srv.URL(), fz.WithAPIVersion(fz.V2), fz.WithLogger(logger),
		fz.WithPassword(fz.Credentials{AuthURL: srv.URL() + "/v3", Username: "admin", Password: "secret"}))
	if err != nil {
		t.Fatal(err)
	}
	id, err := c.Create(ctx, &fz.Job{ClientID: "node1", JobActions: []fz.JobAction{{FreezerAction: fz.FreezerAction{Action: "backup"}}}})
	if err != nil {
		t.Fatal(err)
	}
	srv.Clock().Advance(freezer.TokenLifetime + time.Minute)
	j, err := c.Get(ctx, id)
	if err != nil {
		t.Fatalf("after the token expired: %v", err)
	}
	if j.ProjectID != "f1e2d3c4b5a6978812345678abcdef01" {
		t.Errorf("v2 project from the token: %q", j.ProjectID)
	}
	if n := strings.Count(logs.String(), "auth/tokens"); n != 2 {
		t.Errorf("%d logins logged, want 2 (the first and the renewal):\n%s", n, logs.String())
	}
	if strings.Contains(logs.String(), "secret") || strings.Contains(logs.String(), "gAAAAAB") {
		t.Errorf("logs show a secret:\n%s", logs.String())
	}
}

func TestForgedTokenIs401(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{})
	c, err := fz.New(srv.URL(), fz.WithToken("gAAAAABforged"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = freezertest.Items(c.List(context.Background(), nil))
	if !errors.Is(err, rest.ErrUnauthorized) || strings.Contains(err.Error(), "forged") {
		t.Errorf("forged token: %v", err)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	for i, opts := range [][]fz.Option{
		nil,
		{fz.WithToken("")},
		{fz.WithToken("t"), fz.WithAPIVersion(fz.V2)},
		{fz.WithToken("t"), fz.WithAPIVersion(3)},
		{fz.WithPassword(fz.Credentials{Username: "u", Password: "p"})},
	} {
		if _, err := fz.New("http://127.0.0.1:1", opts...); err == nil {
			t.Errorf("case %d: New accepted", i)
		}
	}
	if _, err := fz.New("ftp://x", fz.WithToken("t")); err == nil {
		t.Error("ftp endpoint accepted")
	}
	c, _ := fz.New("http://127.0.0.1:1", fz.WithToken("t"))
	for _, id := range []string{"", ".", ".."} {
		if _, err := c.Get(context.Background(), id); !errors.Is(err, fz.ErrInvalid) {
			t.Errorf("Get(%q): %v", id, err)
		}
	}
}

// TestSecretsNeverPrinted prints and logs a token and credentials every
// way, by value and by pointer.
func TestSecretsNeverPrinted(t *testing.T) {
	const secret = "hunter2-secret"
	tok := fz.NewToken(secret)
	creds := fz.Credentials{AuthURL: "http://k/v3", Username: "admin", Password: secret}
	var logs bytes.Buffer
	lg := slog.New(slog.NewTextHandler(&logs, nil))
	lg.Info("x", "tok", tok, "tokv", *tok, "creds", creds, "credsp", &creds)
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "tok", tok, "tokv", *tok, "creds", creds, "credsp", &creds)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		for _, v := range []any{tok, *tok, creds, &creds} {
			if s := fmt.Sprintf(verb, v); strings.Contains(s, secret) {
				t.Errorf("%s of %T shows the secret: %s", verb, v, s)
			}
		}
	}
	if strings.Contains(logs.String(), secret) {
		t.Errorf("slog shows a secret: %s", logs.String())
	}
	if s := fmt.Sprint(creds); !strings.Contains(s, "admin") || !strings.Contains(s, "http://k/v3") {
		t.Errorf("credentials print without their non-secret fields: %s", s)
	}
	if tok.Value() != secret {
		t.Errorf("Value() = %q", tok.Value())
	}
}

// holdLogins is a transport that holds Keystone logins until released.
type holdLogins struct {
	entered chan struct{} // gets a value when a login arrives
	release chan struct{} // closed to let logins through
}

func (h *holdLogins) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/auth/tokens") {
		h.entered <- struct{}{}
		select {
		case <-h.release:
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestLoginWaitHonoursContext: while one call logs in, another call whose
// context ends returns at once instead of waiting for that login.
func TestLoginWaitHonoursContext(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{})
	h := &holdLogins{entered: make(chan struct{}, 1), release: make(chan struct{})}
	c, err := fz.New(srv.URL(), fz.WithRESTOptions(rest.WithHTTPClient(&http.Client{Transport: h})),
		fz.WithPassword(fz.Credentials{AuthURL: srv.URL() + "/v3", Username: "admin", Password: "secret"}))
	if err != nil {
		t.Fatal(err)
	}
	first := make(chan error, 1)
	go func() {
		_, err := freezertest.Items(c.List(context.Background(), nil))
		first <- err
	}()
	<-h.entered // the first call holds the login
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := freezertest.Items(c.List(ctx, nil)); !errors.Is(err, context.Canceled) {
		t.Errorf("second call: %v, want context.Canceled", err)
	}
	close(h.release)
	if err := <-first; err != nil {
		t.Errorf("first call: %v", err)
	}
}

// FuzzNewNeverEchoesSecrets: whatever the endpoint, New's error never
// holds the token or the password.
func FuzzNewNeverEchoesSecrets(f *testing.F) {
	f.Add("http://user:s3cr3t-token@host:notaport/", "s3cr3t-token")
	f.Add("ht tp://x/?auth_token=s3cr3t-token", "s3cr3t-token")
	f.Add("http://h/\ns3cr3t-token", "s3cr3t-token")
	f.Add("::s3cr3t-token", "s3cr3t-token")
	f.Fuzz(func(t *testing.T, endpoint, secret string) {
		if len(secret) < 4 || strings.Contains("freezer: REDACTED", secret) {
			return // too short to mask, or a word of the message itself
		}
		_, err := fz.New(endpoint, fz.WithToken(secret))
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Fatalf("token in %q", err)
		}
		_, err = fz.New(endpoint, fz.WithPassword(fz.Credentials{AuthURL: "http://k/v3", Password: secret}))
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Fatalf("password in %q", err)
		}
	})
}
