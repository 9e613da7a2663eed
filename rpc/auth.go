package rpc

import (
	"context"
	"crypto/tls"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

type authKind int

const (
	authNone authKind = iota
	authAPIKey
	authPassword
	authToken
)

// authMethod holds the credentials for (re)login. It is never logged or
// put in an error.
type authMethod struct {
	kind   authKind
	user   string
	secret string
	plain  bool // API key: never SCRAM
}

// LoginResult is auth.login_ex's answer (a tagged union on ResponseType).
type LoginResult struct {
	ResponseType  string   `json:"response_type"`
	URLs          []string `json:"urls,omitempty"`
	Username      string   `json:"username,omitempty"`
	Authenticator string   `json:"authenticator,omitempty"`
	// ScramType and RFCStr carry a SCRAM_RESPONSE step.
	ScramType string `json:"scram_type,omitempty"`
	RFCStr    string `json:"rfc_str,omitempty"`
}

// SCRAM limits of the reference client (truenas_api_client/scram_impl.py):
// a server-first message outside them is refused.
const (
	SCRAMMinIterations = 50000
	SCRAMMaxIterations = 5000000
)

// rawKeyPattern is the shape of an API key as the middleware issues it:
// "<key id>-<key material>" (auth_api_key.py RAW_KEY_PATTERN).
var rawKeyPattern = regexp.MustCompile(`^\d+-[a-zA-Z0-9]+$`)

func (c *Conn) login(ctx context.Context, g *generation) error {
	a := c.cfg.auth
	if a.kind == authNone {
		return nil
	}
	if c.legacy {
		return c.loginLegacy(ctx, g)
	}
	var (
		mech     string
		data     map[string]any
		fallback string
		fbParams []any
	)
	switch a.kind {
	case authPassword:
		mech, fallback = "PASSWORD_PLAIN", "auth.login"
		data = map[string]any{"mechanism": mech, "username": a.user, "password": a.secret}
		fbParams = []any{a.user, a.secret}
	case authAPIKey:
		if !a.plain && a.user != "" && rawKeyPattern.MatchString(a.secret) {
			done, err := c.loginSCRAM(ctx, g)
			if done || err != nil {
				return err
			}
		} else if c.cfg.requireSCRAM {
			return &AuthError{ResponseType: "AUTH_ERR", Mechanism: "SCRAM", Reason: "SCRAM needs a username and a raw <id>-<key> API key"}
		}
		mech, fallback = "API_KEY_PLAIN", "auth.login_with_api_key"
		data = map[string]any{"mechanism": mech, "username": a.user, "api_key": a.secret}
		fbParams = []any{a.secret}
		if a.user == "" {
			return c.legacyLogin(ctx, g, fallback, fbParams)
		}
	case authToken:
		mech, fallback = "TOKEN_PLAIN", "auth.login_with_token"
		data = map[string]any{"mechanism": mech, "token": a.secret}
		fbParams = []any{a.secret}
	}
	data["login_options"] = map[string]any{"user_info": false}
	var res LoginResult
	err := c.callGen(ctx, g, "auth.login_ex", []any{data}, &res)
	if errors.Is(err, ErrMethodNotFound) {
		return c.legacyLogin(ctx, g, fallback, fbParams)
	}
	if err != nil {
		return err
	}
	if res.ResponseType != "SUCCESS" {
		return &AuthError{ResponseType: res.ResponseType, Mechanism: mech, URLs: res.URLs}
	}
	return nil
}

// loginLegacy logs in as LegacyClient does: auth.login, auth.login_with_api_key,
// auth.login_with_token (auth.token on CORE 13). The legacy protocol has
// no SCRAM.
func (c *Conn) loginLegacy(ctx context.Context, g *generation) error {
	a := c.cfg.auth
	switch a.kind {
	case authPassword:
		return c.legacyLogin(ctx, g, "auth.login", []any{a.user, a.secret})
	case authAPIKey:
		if c.cfg.requireSCRAM {
			return &AuthError{ResponseType: "AUTH_ERR", Mechanism: "SCRAM", Reason: "the legacy protocol has no SCRAM"}
		}
		return c.legacyLogin(ctx, g, "auth.login_with_api_key", []any{a.secret})
	default:
		err := c.legacyLogin(ctx, g, "auth.login_with_token", []any{a.secret})
		if errors.Is(err, ErrMethodNotFound) {
			return c.legacyLogin(ctx, g, "auth.token", []any{a.secret})
		}
		return err
	}
}

// loginSCRAM runs the SCRAM-SHA-512 exchange of auth.login_ex when the
// server offers it (auth.mechanism_choices). done is false when the
// server does not offer SCRAM and the caller may log in otherwise.
func (c *Conn) loginSCRAM(ctx context.Context, g *generation) (done bool, err error) {
	a := c.cfg.auth
	var choices []string
	if err := c.callGen(ctx, g, "auth.mechanism_choices", nil, &choices); err != nil {
		var rpcErr *Error
		if !errors.As(err, &rpcErr) {
			return false, err
		}
		// Older releases: no such method, or the unauthenticated call
		// is broken (25.04.2 through 25.10.2): no SCRAM there.
		if c.cfg.requireSCRAM {
			return true, &AuthError{ResponseType: "AUTH_ERR", Mechanism: "SCRAM", Reason: "the server does not offer SCRAM (" + rpcErr.Error() + ")"}
		}
		return false, nil
	}
	if !slices.Contains(choices, "SCRAM") {
		if c.cfg.requireSCRAM {
			return true, &AuthError{ResponseType: "AUTH_ERR", Mechanism: "SCRAM", Reason: "the server does not offer SCRAM"}
		}
		return false, nil
	}
	idStr, key, _ := strings.Cut(a.secret, "-")
	keyID, _ := strconv.Atoi(idStr)
	conv, err := newSCRAM(scramName(a.user, keyID), key, c.channelBinding(g))
	if err != nil {
		return true, &AuthError{ResponseType: "AUTH_ERR", Mechanism: "SCRAM", Reason: err.Error()}
	}
	conv.cache = &c.scramKeys
	var res LoginResult
	if err := c.callGen(ctx, g, "auth.login_ex", []any{map[string]any{
		"mechanism": "SCRAM", "scram_type": "CLIENT_FIRST_MESSAGE", "rfc_str": conv.first(),
	}}, &res); err != nil {
		return true, err
	}
	if res.ResponseType != "SCRAM_RESPONSE" || res.ScramType != "SERVER_FIRST_RESPONSE" {
		return true, &AuthError{ResponseType: res.ResponseType, Mechanism: "SCRAM", URLs: res.URLs}
	}
	final, err := conv.final(res.RFCStr)
	if err != nil {
		return true, &AuthError{ResponseType: "AUTH_ERR", Mechanism: "SCRAM", Reason: err.Error()}
	}
	res = LoginResult{}
	if err := c.callGen(ctx, g, "auth.login_ex", []any{map[string]any{
		"mechanism": "SCRAM", "scram_type": "CLIENT_FINAL_MESSAGE", "rfc_str": final,
	}}, &res); err != nil {
		return true, err
	}
	if res.ResponseType != "SCRAM_RESPONSE" || res.ScramType != "SERVER_FINAL_RESPONSE" {
		return true, &AuthError{ResponseType: res.ResponseType, Mechanism: "SCRAM", URLs: res.URLs}
	}
	if err := conv.verify(res.RFCStr); err != nil {
		// The server could not prove it holds the key: do not stay
		// logged in to an impostor.
		_ = c.callGen(ctx, g, "auth.logout", nil, nil)
		return true, &AuthError{ResponseType: "AUTH_ERR", Mechanism: "SCRAM", Reason: err.Error()}
	}
	return true, nil
}

// scramName is the SCRAM user name the middleware expects:
// "<username>:<key id>" for an API key (truenas_api_client's
// ClientFirstMessage), the bare username for a key id of 0 (a password).
func scramName(user string, keyID int) string {
	if keyID != 0 {
		return user + ":" + strconv.Itoa(keyID)
	}
	return user
}

// channelBinding is RFC 5929 tls-server-end-point over wss:// (as the
// reference client binds by default), none over plain ws://.
func (c *Conn) channelBinding(g *generation) []byte {
	tc, ok := g.ws.UnderlyingConn().(*tls.Conn)
	if !ok {
		return nil
	}
	st := tc.ConnectionState()
	return tlsServerEndPoint(&st)
}

func (c *Conn) legacyLogin(ctx context.Context, g *generation, method string, params []any) error {
	var ok bool
	if err := c.callGen(ctx, g, method, params, &ok); err != nil {
		return err
	}
	if !ok {
		return &AuthError{ResponseType: "AUTH_ERR", Mechanism: method}
	}
	return nil
}

// GenerateTokenOptions are auth.generate_token's arguments.
type GenerateTokenOptions struct {
	// TTL is the token's lifetime (0: the server's default, 600 s).
	TTL time.Duration
	// Attrs are attributes embedded in the token.
	Attrs map[string]any
	// MatchOrigin binds the token to this client's origin (the server's
	// default is true).
	MatchOrigin *bool
	// SingleUse makes the token valid for one login.
	SingleUse bool
}

// GenerateToken calls auth.generate_token and returns the token (a secret:
// do not log it).
func (c *Conn) GenerateToken(ctx context.Context, opts GenerateTokenOptions) (string, error) {
	var ttl any
	if opts.TTL > 0 {
		ttl = int64(opts.TTL / time.Second)
	}
	attrs := opts.Attrs
	if attrs == nil {
		attrs = map[string]any{}
	}
	match := true
	if opts.MatchOrigin != nil {
		match = *opts.MatchOrigin
	}
	// Trailing defaults are left out: 24.10 takes (ttl, attrs,
	// match_origin) and CORE 13 (ttl, attrs), and both refuse more.
	args := []any{ttl, attrs, match, opts.SingleUse}
	if !opts.SingleUse {
		args = args[:3]
		if match {
			args = args[:2]
		}
	}
	var tok string
	err := c.Call(ctx, "auth.generate_token", args, &tok)
	return tok, err
}
