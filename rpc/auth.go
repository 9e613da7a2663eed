package rpc

import (
	"context"
	"errors"
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
}

// LoginResult is auth.login_ex's answer (a tagged union on ResponseType).
type LoginResult struct {
	ResponseType  string   `json:"response_type"`
	URLs          []string `json:"urls,omitempty"`
	Username      string   `json:"username,omitempty"`
	Authenticator string   `json:"authenticator,omitempty"`
}

func (c *Conn) login(ctx context.Context, g *generation) error {
	a := c.cfg.auth
	var (
		mech     string
		data     map[string]any
		fallback string
		fbParams []any
	)
	switch a.kind {
	case authNone:
		return nil
	case authPassword:
		mech, fallback = "PASSWORD_PLAIN", "auth.login"
		data = map[string]any{"mechanism": mech, "username": a.user, "password": a.secret}
		fbParams = []any{a.user, a.secret}
	case authAPIKey:
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
	var tok string
	err := c.Call(ctx, "auth.generate_token", []any{ttl, attrs, match, opts.SingleUse}, &tok)
	return tok, err
}
