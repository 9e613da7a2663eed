package rpc

import (
	"crypto/tls"
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/websocket"

	"github.com/longrun/longrun/jobs"
)

// Defaults of the Dial options.
const (
	// DefaultReadLimit is the largest frame accepted (WithReadLimit).
	DefaultReadLimit = 32 << 20
	// DefaultMaxInFlight is how many calls one connection keeps in flight
	// (WithMaxInFlight): the middleware refuses the 21st with -32000.
	DefaultMaxInFlight = 20
	// DefaultEventBuffer is a subscription's buffer (WithEventBuffer).
	DefaultEventBuffer = 256
	// DefaultPingInterval and DefaultPingTimeout pace the keepalive.
	DefaultPingInterval = 20 * time.Second
	DefaultPingTimeout  = 60 * time.Second
)

// Option configures Dial.
type Option func(*config)

type config struct {
	auth         authMethod
	dialer       *websocket.Dialer
	header       http.Header
	logger       *slog.Logger
	readLimit    int64
	pingInterval time.Duration
	pingTimeout  time.Duration
	reconnect    bool
	backoffMin   time.Duration
	backoffMax   time.Duration
	legacyJobs   *bool
	maxInFlight  int
	eventBuffer  int
	clock        jobs.Clock
}

func newConfig(opts []Option) config {
	c := config{
		readLimit:    DefaultReadLimit,
		pingInterval: DefaultPingInterval,
		pingTimeout:  DefaultPingTimeout,
		reconnect:    true,
		backoffMin:   500 * time.Millisecond,
		backoffMax:   30 * time.Second,
		maxInFlight:  DefaultMaxInFlight,
		eventBuffer:  DefaultEventBuffer,
		clock:        jobs.WallClock,
	}
	for _, o := range opts {
		o(&c)
	}
	if c.dialer == nil {
		d := *websocket.DefaultDialer
		c.dialer = &d
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	if c.maxInFlight <= 0 {
		c.maxInFlight = 1
	}
	if c.eventBuffer <= 0 {
		c.eventBuffer = 1
	}
	if c.backoffMin <= 0 {
		c.backoffMin = time.Millisecond
	}
	if c.backoffMax < c.backoffMin {
		c.backoffMax = c.backoffMin
	}
	return c
}

// WithAPIKey logs in with an API key: auth.login_ex API_KEY_PLAIN (which
// needs the key's username), falling back to auth.login_with_api_key on
// servers without auth.login_ex. With an empty username it uses
// auth.login_with_api_key directly.
func WithAPIKey(username, key string) Option {
	return func(c *config) { c.auth = authMethod{kind: authAPIKey, user: username, secret: key} }
}

// WithPassword logs in with a username and password: auth.login_ex
// PASSWORD_PLAIN, falling back to auth.login.
func WithPassword(username, password string) Option {
	return func(c *config) { c.auth = authMethod{kind: authPassword, user: username, secret: password} }
}

// WithToken logs in with a token from auth.generate_token: auth.login_ex
// TOKEN_PLAIN, falling back to auth.login_with_token. A single-use token
// cannot log in again after a reconnect.
func WithToken(token string) Option {
	return func(c *config) { c.auth = authMethod{kind: authToken, secret: token} }
}

// WithHeader adds HTTP headers to the websocket handshake.
func WithHeader(h http.Header) Option { return func(c *config) { c.header = h.Clone() } }

// WithDialer uses d for the websocket handshake (proxy, timeouts, TLS).
func WithDialer(d *websocket.Dialer) Option {
	return func(c *config) {
		cp := *d
		c.dialer = &cp
	}
}

// WithTLSConfig sets the TLS configuration of wss:// connections (a
// TrueNAS box often has a self-signed certificate).
func WithTLSConfig(t *tls.Config) Option {
	return func(c *config) {
		if c.dialer == nil {
			d := *websocket.DefaultDialer
			c.dialer = &d
		}
		c.dialer.TLSClientConfig = t
	}
}

// WithLogger logs connection events (never secrets) at debug and warn level.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithReadLimit bounds the size of one server frame (default 32 MiB). A
// larger frame ends the connection with a *FrameTooLargeError before
// any of it is read into memory.
func WithReadLimit(n int64) Option { return func(c *config) { c.readLimit = n } }

// WithPing sets the keepalive: a websocket ping every interval, and the
// connection is considered dead when nothing arrives for timeout.
// A zero interval disables pings.
func WithPing(interval, timeout time.Duration) Option {
	return func(c *config) { c.pingInterval, c.pingTimeout = interval, timeout }
}

// WithReconnect sets the jittered exponential backoff between reconnect
// attempts (defaults 500ms and 30s). Reconnecting is on by default.
func WithReconnect(min, max time.Duration) Option {
	return func(c *config) { c.reconnect, c.backoffMin, c.backoffMax = true, min, max }
}

// WithoutReconnect makes a broken connection final: every call and wait
// then fails with a *DisconnectedError.
func WithoutReconnect() Option { return func(c *config) { c.reconnect = false } }

// WithLegacyJobs picks the job-reply style. false (the default) asks the
// server for blocking job calls (25.10+: core.set_options legacy_jobs
// false), which servers before 25.10 ignore; true keeps the job id reply
// of 25.04, which frees the call slot at once (a blocking job call holds
// one of the connection's 20 call slots until the job ends).
func WithLegacyJobs(legacy bool) Option { return func(c *config) { c.legacyJobs = &legacy } }

// WithMaxInFlight bounds the calls in flight on the connection (default
// 20, the middleware's hard limit); more calls wait their turn.
func WithMaxInFlight(n int) Option { return func(c *config) { c.maxInFlight = n } }

// WithEventBuffer sets each subscription's buffer (default 256 events).
func WithEventBuffer(n int) Option { return func(c *config) { c.eventBuffer = n } }

// WithClock sleeps the reconnect backoff on clk (the fake's clock in
// tests).
func WithClock(clk jobs.Clock) Option { return func(c *config) { c.clock = clk } }
