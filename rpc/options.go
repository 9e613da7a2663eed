package rpc

import (
	"crypto/tls"
	"fmt"
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

// Option configures Dial. A bad value is an error from Dial.
type Option func(*options) error

// Protocol is the websocket protocol a Conn speaks.
type Protocol int

const (
	// ProtocolAuto picks by URL as TrueNAS's own client does: a path
	// ending in /websocket is the legacy protocol, anything else JSON-RPC.
	ProtocolAuto Protocol = iota
	// ProtocolJSONRPC is JSON-RPC 2.0 at /api/current or /api/vX.Y.Z
	// (TrueNAS 25.04 and later).
	ProtocolJSONRPC
	// ProtocolLegacy is the older websocket protocol at /websocket
	// (connect/connected, method/result, sub/ready): TrueNAS CORE 13 and
	// SCALE up to 24.10, and kept beside JSON-RPC by later releases.
	ProtocolLegacy
)

// String names the protocol.
func (p Protocol) String() string {
	switch p {
	case ProtocolJSONRPC:
		return "jsonrpc"
	case ProtocolLegacy:
		return "legacy"
	}
	return "auto"
}

type options struct {
	auth         authMethod
	protocol     Protocol
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
	checkMin     time.Duration
	checkMax     time.Duration
	requireSCRAM bool
}

func newOptions(opts []Option) (options, error) {
	c := options{
		readLimit:    DefaultReadLimit,
		pingInterval: DefaultPingInterval,
		pingTimeout:  DefaultPingTimeout,
		reconnect:    true,
		backoffMin:   500 * time.Millisecond,
		backoffMax:   30 * time.Second,
		maxInFlight:  DefaultMaxInFlight,
		eventBuffer:  DefaultEventBuffer,
		clock:        jobs.WallClock,
		checkMin:     DefaultCheckMin,
		checkMax:     DefaultCheckMax,
	}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&c); err != nil {
			return c, err
		}
	}
	if c.dialer == nil {
		d := *websocket.DefaultDialer
		c.dialer = &d
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// DefaultCheckMin and DefaultCheckMax pace the reconciliation of a
// followed job that hears nothing (WithReconcile).
const (
	DefaultCheckMin = 2 * time.Second
	DefaultCheckMax = time.Minute
)

func optErr(format string, args ...any) error {
	return fmt.Errorf("rpc: option: "+format, args...)
}

// WithAPIKey logs in with an API key. On the JSON-RPC protocol it is
// SCRAM-SHA-512 through auth.login_ex when auth.mechanism_choices offers
// SCRAM (the key never crosses the wire), else auth.login_ex API_KEY_PLAIN
// (which needs the key's username), falling back to
// auth.login_with_api_key on servers without auth.login_ex. With an empty
// username, or on the legacy protocol, it is auth.login_with_api_key.
// WithPlainAPIKey refuses SCRAM.
func WithAPIKey(username, key string) Option {
	return func(c *options) error {
		if key == "" {
			return optErr("empty API key")
		}
		c.auth = authMethod{kind: authAPIKey, user: username, secret: key}
		return nil
	}
}

// WithPlainAPIKey logs in with an API key sent as it is (auth.login_ex
// API_KEY_PLAIN, or auth.login_with_api_key), never SCRAM: for servers
// that offer SCRAM but have the key only in a form SCRAM cannot use.
// Only TLS (wss://) protects the key then.
func WithPlainAPIKey(username, key string) Option {
	return func(c *options) error {
		if key == "" {
			return optErr("empty API key")
		}
		c.auth = authMethod{kind: authAPIKey, user: username, secret: key, plain: true}
		return nil
	}
}

// WithPassword logs in with a username and password: auth.login_ex
// PASSWORD_PLAIN, falling back to auth.login (the only password login of
// the legacy protocol).
func WithPassword(username, password string) Option {
	return func(c *options) error {
		if username == "" {
			return optErr("empty username")
		}
		c.auth = authMethod{kind: authPassword, user: username, secret: password}
		return nil
	}
}

// WithToken logs in with a token from auth.generate_token: auth.login_ex
// TOKEN_PLAIN, falling back to auth.login_with_token and then auth.token
// (CORE 13). A single-use token cannot log in again after a reconnect.
func WithToken(token string) Option {
	return func(c *options) error {
		if token == "" {
			return optErr("empty token")
		}
		c.auth = authMethod{kind: authToken, secret: token}
		return nil
	}
}

// WithProtocol picks the protocol instead of the URL (ProtocolAuto).
func WithProtocol(p Protocol) Option {
	return func(c *options) error {
		if p < ProtocolAuto || p > ProtocolLegacy {
			return optErr("unknown protocol %d", int(p))
		}
		c.protocol = p
		return nil
	}
}

// WithHeader adds HTTP headers to the websocket handshake.
func WithHeader(h http.Header) Option {
	return func(c *options) error { c.header = h.Clone(); return nil }
}

// WithDialer uses d for the websocket handshake (proxy, timeouts, TLS).
func WithDialer(d *websocket.Dialer) Option {
	return func(c *options) error {
		if d == nil {
			return optErr("nil dialer")
		}
		cp := *d
		c.dialer = &cp
		return nil
	}
}

// WithTLSConfig sets the TLS configuration of wss:// connections (a
// TrueNAS box often has a self-signed certificate).
func WithTLSConfig(t *tls.Config) Option {
	return func(c *options) error {
		if c.dialer == nil {
			d := *websocket.DefaultDialer
			c.dialer = &d
		}
		c.dialer.TLSClientConfig = t
		return nil
	}
}

// WithLogger logs connection events (never secrets) at debug and warn level.
func WithLogger(l *slog.Logger) Option {
	return func(c *options) error {
		if l == nil {
			return optErr("nil logger")
		}
		c.logger = l
		return nil
	}
}

// WithReadLimit bounds the size of one server frame (default 32 MiB). A
// larger frame ends the connection with a *FrameTooLargeError before
// any of it is read into memory.
func WithReadLimit(n int64) Option {
	return func(c *options) error {
		if n <= 0 {
			return optErr("read limit %d is not positive", n)
		}
		c.readLimit = n
		return nil
	}
}

// WithPing sets the keepalive: a websocket ping every interval, and the
// connection is considered dead when nothing arrives for timeout.
// A zero interval disables pings.
func WithPing(interval, timeout time.Duration) Option {
	return func(c *options) error {
		if interval < 0 || (interval > 0 && timeout <= 0) {
			return optErr("ping interval %v and timeout %v", interval, timeout)
		}
		c.pingInterval, c.pingTimeout = interval, timeout
		return nil
	}
}

// WithReconnect sets the jittered exponential backoff between reconnect
// attempts (defaults 500ms and 30s). Reconnecting is on by default.
func WithReconnect(min, max time.Duration) Option {
	return func(c *options) error {
		if min <= 0 || max < min {
			return optErr("reconnect backoff %v..%v", min, max)
		}
		c.reconnect, c.backoffMin, c.backoffMax = true, min, max
		return nil
	}
}

// WithoutReconnect makes a broken connection final: every call and wait
// then fails with a *DisconnectedError.
func WithoutReconnect() Option { return func(c *options) error { c.reconnect = false; return nil } }

// WithReconcile paces how a followed job that hears no event is checked
// with core.get_jobs: first after min, then on a doubling backoff up to
// max (defaults DefaultCheckMin and DefaultCheckMax). Any event of the
// job starts the backoff again. This is what makes a lost event never
// lose a completion.
func WithReconcile(min, max time.Duration) Option {
	return func(c *options) error {
		if min <= 0 || max < min {
			return optErr("reconcile backoff %v..%v", min, max)
		}
		c.checkMin, c.checkMax = min, max
		return nil
	}
}

// WithLegacyJobs picks the job-reply style of the JSON-RPC protocol.
// false (the default) asks the server for blocking job calls (25.10+:
// core.set_options legacy_jobs false), which servers before 25.10
// ignore; true keeps the job id reply of 25.04, which frees the call
// slot at once (a blocking job call holds one of the connection's 20
// call slots until the job ends). The legacy protocol always answers the
// job id.
func WithLegacyJobs(legacy bool) Option {
	return func(c *options) error { c.legacyJobs = &legacy; return nil }
}

// WithMaxInFlight bounds the calls in flight on the connection (default
// 20, the middleware's hard limit); more calls wait their turn.
func WithMaxInFlight(n int) Option {
	return func(c *options) error {
		if n <= 0 {
			return optErr("max in flight %d is not positive", n)
		}
		c.maxInFlight = n
		return nil
	}
}

// WithEventBuffer sets each subscription's buffer (default 256 events).
func WithEventBuffer(n int) Option {
	return func(c *options) error {
		if n <= 0 {
			return optErr("event buffer %d is not positive", n)
		}
		c.eventBuffer = n
		return nil
	}
}

// WithClock paces the reconnect backoff and the reconciliation of jobs
// on clk (the fake's clock in tests).
func WithClock(clk jobs.Clock) Option {
	return func(c *options) error {
		if clk == nil {
			return optErr("nil clock")
		}
		c.clock = clk
		return nil
	}
}

// WithRequireSCRAM makes an API-key login fail (an *AuthError) unless it
// is SCRAM-SHA-512: the reference client's stance, since
// auth.mechanism_choices is unauthenticated and a man in the middle could
// strip SCRAM from it to harvest a plain key. Without it, WithAPIKey
// sends the key plain to a server that offers no SCRAM (TrueNAS before
// 26.0), where only TLS protects it.
func WithRequireSCRAM() Option {
	return func(c *options) error { c.requireSCRAM = true; return nil }
}
