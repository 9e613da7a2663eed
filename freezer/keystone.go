package freezer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/longrun/longrun/internal/redact"
	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/rest"
)

// Credentials are a Keystone v3 password login. The password never appears
// in an error or a log line.
type Credentials struct {
	// AuthURL is Keystone's v3 endpoint, such as https://keystone:5000/v3
	// (a URL without the /v3 suffix gets it).
	AuthURL string
	// Username (with UserDomainName or UserDomainID, default domain
	// "default") or UserID names the user.
	Username       string
	UserID         string
	UserDomainName string
	UserDomainID   string
	Password       string
	// ProjectID, or ProjectName with ProjectDomainName or ProjectDomainID
	// (default "default"), scopes the token. Empty means the user's
	// default project.
	ProjectID         string
	ProjectName       string
	ProjectDomainName string
	ProjectDomainID   string
}

// String shows the credentials without the password.
func (c Credentials) String() string {
	c.Password = redact.Mask
	type plain Credentials // no String method: no recursion
	return fmt.Sprintf("freezer.Credentials%+v", plain(c))
}

// GoString is String, for %#v.
func (c Credentials) GoString() string { return c.String() }

// LogValue shows the credentials to slog without the password.
func (c Credentials) LogValue() slog.Value { return slog.StringValue(c.String()) }

// Token is a Keystone token and what came with it. Its String and LogValue
// never show the secret; Value does.
type Token struct {
	value     string
	ExpiresAt time.Time
	IssuedAt  time.Time
	UserID    string
	ProjectID string
	// Catalog is the token's service catalog.
	Catalog []CatalogEntry
	// Raw is the token document as Keystone sent it.
	Raw json.RawMessage

	obtained time.Time // local time the token arrived
}

// NewToken wraps a token string the caller already has.
func NewToken(value string) *Token { return &Token{value: value} }

// Value is the secret, for the X-Auth-Token header.
func (t *Token) Value() string { return t.value }

// String hides the secret. (String, GoString and LogValue have value
// receivers so that a Token printed or logged by value hides it too.)
func (t Token) String() string { return "freezer.Token(" + redact.Mask + ")" }

// GoString hides the secret from %#v.
func (t Token) GoString() string { return t.String() }

// LogValue hides the secret from slog.
func (t Token) LogValue() slog.Value { return slog.StringValue(redact.Mask) }

// valid reports whether the token is worth sending at local time now: its
// lifetime (expires_at minus issued_at, immune to clock skew) less a minute
// has not passed since it arrived.
func (t *Token) valid(now time.Time) bool {
	if t == nil || t.value == "" {
		return false
	}
	if t.ExpiresAt.IsZero() || t.IssuedAt.IsZero() || t.obtained.IsZero() {
		return true
	}
	life := t.ExpiresAt.Sub(t.IssuedAt)
	margin := min(time.Minute, life/10)
	return now.Before(t.obtained.Add(life - margin))
}

// CatalogEntry is one service of a Keystone catalog.
type CatalogEntry struct {
	ID        string            `json:"id"`
	Type      string            `json:"type"`
	Name      string            `json:"name"`
	Endpoints []CatalogEndpoint `json:"endpoints"`
}

// CatalogEndpoint is one URL of a service.
type CatalogEndpoint struct {
	ID        string `json:"id"`
	Interface string `json:"interface"`
	Region    string `json:"region"`
	RegionID  string `json:"region_id"`
	URL       string `json:"url"`
}

// ServiceType is the catalog type of Freezer ("backup", as
// python-freezerclient looks it up).
const ServiceType = "backup"

// Endpoint finds a service's URL in the catalog for an interface (public,
// internal, admin; empty means public).
func (t *Token) Endpoint(serviceType, iface string) (string, bool) {
	if iface == "" {
		iface = "public"
	}
	for _, s := range t.Catalog {
		if s.Type != serviceType {
			continue
		}
		for _, e := range s.Endpoints {
			if e.Interface == iface {
				return e.URL, true
			}
		}
	}
	return "", false
}

// Keystone v3 wire documents.
type ksAuthRequest struct {
	Auth ksAuth `json:"auth"`
}

type ksAuth struct {
	Identity ksIdentity `json:"identity"`
	Scope    *ksScope   `json:"scope,omitempty"`
}

type ksIdentity struct {
	Methods  []string    `json:"methods"`
	Password *ksPassword `json:"password,omitempty"`
}

type ksPassword struct {
	User ksUser `json:"user"`
}

type ksUser struct {
	ID       string    `json:"id,omitempty"`
	Name     string    `json:"name,omitempty"`
	Domain   *ksDomain `json:"domain,omitempty"`
	Password string    `json:"password"`
}

type ksDomain struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

type ksScope struct {
	Project *ksProject `json:"project,omitempty"`
}

type ksProject struct {
	ID     string    `json:"id,omitempty"`
	Name   string    `json:"name,omitempty"`
	Domain *ksDomain `json:"domain,omitempty"`
}

type ksTokenResponse struct {
	Token struct {
		ExpiresAt string `json:"expires_at"`
		IssuedAt  string `json:"issued_at"`
		User      struct {
			ID string `json:"id"`
		} `json:"user"`
		Project *struct {
			ID string `json:"id"`
		} `json:"project"`
		Catalog []CatalogEntry `json:"catalog"`
	} `json:"token"`
}

func (c *Credentials) request() (ksAuthRequest, error) {
	if c.Password == "" {
		return ksAuthRequest{}, errors.New("freezer: keystone: no password")
	}
	u := ksUser{ID: c.UserID, Password: c.Password}
	if c.UserID == "" {
		if c.Username == "" {
			return ksAuthRequest{}, errors.New("freezer: keystone: no Username or UserID")
		}
		u.Name = c.Username
		u.Domain = domain(c.UserDomainID, c.UserDomainName)
	}
	req := ksAuthRequest{Auth: ksAuth{Identity: ksIdentity{Methods: []string{"password"}, Password: &ksPassword{User: u}}}}
	switch {
	case c.ProjectID != "":
		req.Auth.Scope = &ksScope{Project: &ksProject{ID: c.ProjectID}}
	case c.ProjectName != "":
		req.Auth.Scope = &ksScope{Project: &ksProject{Name: c.ProjectName, Domain: domain(c.ProjectDomainID, c.ProjectDomainName)}}
	}
	return req, nil
}

func domain(id, name string) *ksDomain {
	if id == "" && name == "" {
		return &ksDomain{ID: "default"}
	}
	return &ksDomain{ID: id, Name: name}
}

// Authenticate exchanges a password for a token at Keystone v3 POST
// /v3/auth/tokens (201, the token in the X-Subject-Token header). Of opts,
// those that tune the HTTP transport count (WithHTTPClient, WithLogger,
// WithRESTOptions); a bad one is an error.
func Authenticate(ctx context.Context, creds Credentials, opts ...Option) (*Token, error) {
	var cfg options
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	return authenticate(ctx, creds, cfg.transport()...)
}

// transport is the rest options the settings ask for.
func (o *options) transport() []rest.Option {
	var ropts []rest.Option
	if o.logger != nil {
		ropts = append(ropts, rest.WithLogger(o.logger))
	}
	return append(ropts, o.rest...)
}

func authenticate(ctx context.Context, creds Credentials, opts ...rest.Option) (*Token, error) {
	body, err := creds.request()
	if err != nil {
		return nil, err
	}
	base := strings.TrimSuffix(creds.AuthURL, "/")
	if !strings.HasSuffix(base, "/v3") {
		base += "/v3"
	}
	rc, err := rest.New(base, append([]rest.Option{rest.WithErrorDecoder(DecodeError), rest.WithRetry(2, 250*time.Millisecond, 2*time.Second)}, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("freezer: keystone: %w", err)
	}
	var out ksTokenResponse
	resp, err := rc.Do(ctx, http.MethodPost, "auth/tokens", nil, body, &out)
	if err != nil {
		// A refused password matches jobs.ErrUnauthorized.
		return nil, fmt.Errorf("freezer: keystone: %w", classify(err))
	}
	value := resp.Header.Get("X-Subject-Token")
	if value == "" {
		return nil, fmt.Errorf("freezer: keystone: %d answer without X-Subject-Token", resp.StatusCode)
	}
	t := &Token{value: value, UserID: out.Token.User.ID, Catalog: out.Token.Catalog, Raw: json.RawMessage(resp.Body), obtained: time.Now()}
	if out.Token.Project != nil {
		t.ProjectID = out.Token.Project.ID
	}
	t.ExpiresAt, _ = time.Parse(time.RFC3339Nano, out.Token.ExpiresAt)
	t.IssuedAt, _ = time.Parse(time.RFC3339Nano, out.Token.IssuedAt)
	return t, nil
}

// tokenSource caches a token obtained with a password and renews it before
// it expires or after the server refused it. One caller at a time checks
// or renews; the others wait for it only as long as their own contexts
// allow.
type tokenSource struct {
	creds Credentials
	clock jobs.Clock
	opts  []rest.Option
	turn  chan struct{} // holds one value while a caller checks or renews
	tok   *Token
}

func newTokenSource(creds Credentials, clock jobs.Clock, opts []rest.Option) *tokenSource {
	return &tokenSource{creds: creds, clock: clock, opts: opts, turn: make(chan struct{}, 1)}
}

func (s *tokenSource) lock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case s.turn <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *tokenSource) unlock() { <-s.turn }

func (s *tokenSource) token(ctx context.Context) (*Token, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.unlock()
	if s.tok.valid(s.clock.Now()) {
		return s.tok, nil
	}
	t, err := authenticate(ctx, s.creds, s.opts...)
	if err != nil {
		return nil, err
	}
	t.obtained = s.clock.Now()
	s.tok = t
	return t, nil
}

// invalidate drops old, if it is still the cached token.
func (s *tokenSource) invalidate(ctx context.Context, old *Token) {
	if s.lock(ctx) != nil {
		return // the retry that follows fails on ctx too
	}
	if s.tok == old {
		s.tok = nil
	}
	s.unlock()
}
