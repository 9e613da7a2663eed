// Package truenas is the fake's TrueNAS middleware backend: JSON-RPC 2.0
// over a websocket at /api/current (and the emulated release's own
// /api/vXX.YY.Z), the legacy websocket protocol at /websocket (see
// legacy.go) over the same engine and jobs, with the real
// authentication methods (auth.login_ex, auth.login,
// auth.login_with_api_key, auth.login_with_token, auth.generate_token),
// the core plugin (core.set_options, core.ping, core.subscribe,
// core.unsubscribe, core.get_jobs with the full query-filters language,
// core.job_wait, core.job_abort) and a job engine that runs job methods on
// the fake's clock and reports them with collection_update events in the
// real order (added before the call's reply).
//
// Job methods served out of the box: filesystem.copy, catalog.sync (and
// catalog.sync_all, the older name in the middleware docs), pool.scrub
// (transient and wrapping a pool.scrub.scrub job, like the real one),
// pool.scrub.scrub (locked per pool and
// action, so duplicate calls attach to the queued job), and
// longrun.validation_fail / longrun.exception_fail for failure paths.
// See hooks.go to add more.
//
// It emulates both job-reply styles: 25.10 and later (core.set_options
// echoes the options; with legacy_jobs false a job call blocks until the
// job ends and answers its result) and 25.04 (core.set_options answers
// null; a job call answers the job id at once). SetVersion picks the
// release (24.10, 25.04, 25.10, 26.0; see versions.go for what differs).
package truenas

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/longrun/longrun/fake/sim"
)

// Version is the middleware release the fake emulates.
type Version string

const (
	// Version2510 answers core.set_options with the resulting options and
	// honours legacy_jobs false (blocking job calls). The default.
	Version2510 Version = "25.10"
	// Version2504 answers core.set_options with null and always answers a
	// job call with the job id.
	Version2504 Version = "25.04"
)

// Per-connection limits of the real middleware.
const (
	// SoftCallLimit calls of one connection run at once; more wait.
	SoftCallLimit = 10
	// HardCallLimit calls of one connection may be in flight; one more is
	// refused with -32000 "too many concurrent calls".
	HardCallLimit = 20
	// MaxUnauthenticatedMessage is the largest frame accepted before
	// login (the connection is closed with 1007 otherwise).
	MaxUnauthenticatedMessage = 8192
	// MaxMessage is the largest frame accepted after login (closed with
	// 1009 otherwise).
	MaxMessage = 65536
	// MaxJobs is how many jobs the middleware remembers; the oldest
	// finished one is dropped beyond it.
	MaxJobs = 1000
)

// Credential types reported in a job's credentials.type.
const (
	CredLoginPassword = "LOGIN_PASSWORD"
	CredAPIKey        = "API_KEY"
	CredToken         = "TOKEN"
)

// Credentials are how a session or an HTTP request authenticated.
type Credentials struct {
	User sim.User
	// Type is CredLoginPassword, CredAPIKey or CredToken.
	Type    string
	LoginID string
	LoginAt time.Time
	// APIKeyID and APIKeyName name the API key of CredAPIKey credentials
	// (the job entry's credentials.data.api_key).
	APIKeyID   int
	APIKeyName string
}

// apiKeyCred builds API_KEY credentials for a user's key ("<id>-<key>").
func apiKeyCred(u sim.User) *Credentials {
	c := &Credentials{User: u, Type: CredAPIKey, APIKeyName: u.Name + "-key"}
	if id, _, ok := strings.Cut(u.APIKey, "-"); ok {
		n := 0
		for _, r := range id {
			if r < '0' || r > '9' {
				n = 0
				break
			}
			n = n*10 + int(r-'0')
		}
		c.APIKeyID = n
	}
	return c
}

// FullAdmin reports whether the credentials see every job (the
// FULL_ADMIN role): the fake grants it to users named admin or root.
func (c *Credentials) FullAdmin() bool {
	return c != nil && (c.User.Name == "admin" || c.User.Name == "root")
}

type method struct {
	name   string
	fn     MethodFunc
	job    *JobMethod
	public bool
}

// Backend is the TrueNAS middleware fake.
type Backend struct {
	env *sim.Env

	mu      sync.Mutex
	version Version
	rel     release
	// catalogQueue is catalog.sync's lock_queue_size in the emulated
	// release (its JobMethod points here; read under mu).
	catalogQueue int
	arity        map[string]int // method -> how many positional arguments it takes
	scramIt      int            // SCRAM iterations for API keys
	scramKey     map[string]*scramCred
	boot         time.Time // system.info boottime
	methods      map[string]*method
	jobs         map[int]*Job
	order        []int // job ids, oldest first (ids of forgotten jobs until compacted)
	dead         int   // forgotten ids still in order
	finished     idHeap
	nextID       int
	waiting      map[string][]*Job // WAITING jobs per lock name ("" unlocked), in order
	locks        map[string]*Job   // lock name -> running job
	sessions     map[*Session]struct{}
	tokens       map[string]*Token
	closed       bool

	callsMu sync.Mutex
	calls   map[string]int // method -> calls received

	// hold keeps session writers from flushing while a job is being
	// launched, so a client never sees a job's events before the job has
	// registered its first timer on the clock (a test that Advances right
	// after the added event then moves the job deterministically).
	hold sync.RWMutex

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	up     websocket.Upgrader
}

// New builds the backend on env. It serves nothing until Register.
func New(env *sim.Env) *Backend {
	if env == nil {
		env = sim.NewEnv(nil, nil, nil)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &Backend{
		env:          env,
		version:      DefaultVersion,
		rel:          releaseOf(DefaultVersion),
		catalogQueue: releaseOf(DefaultVersion).catalogSyncQueue,
		arity:        map[string]int{},
		scramIt:      DefaultScramIterations,
		scramKey:     map[string]*scramCred{},
		boot:         env.Clock.Now().UTC().Add(-bootAge),
		methods:      map[string]*method{},
		jobs:         map[int]*Job{},
		waiting:      map[string][]*Job{},
		locks:        map[string]*Job{},
		sessions:     map[*Session]struct{}{},
		tokens:       map[string]*Token{},
		ctx:          ctx,
		cancel:       cancel,
		up: websocket.Upgrader{
			CheckOrigin: func(*http.Request) bool { return true },
		},
	}
	b.registerCore()
	b.registerAuth()
	b.registerJobs()
	b.registerSystem()
	b.registerArity()
	return b
}

// Options configure a backend built with NewWithOptions.
type Options struct {
	// Version is the release to emulate (zero: DefaultVersion). The
	// longrun-fake flag -truenas-version sets it through ParseVersion.
	Version Version
	// ScramIterations is the PBKDF2 iteration count of the API keys' SCRAM
	// credentials (zero: DefaultScramIterations, the middleware's 500000).
	// Clients refuse fewer than 4096 (RFC 5802), truenas/api_client fewer
	// than 50000.
	ScramIterations int
}

// NewWithOptions is New with options.
func NewWithOptions(env *sim.Env, o Options) *Backend {
	b := New(env)
	if o.Version != "" {
		b.SetVersion(o.Version)
	}
	if o.ScramIterations > 0 {
		b.mu.Lock()
		b.scramIt = o.ScramIterations
		b.mu.Unlock()
	}
	return b
}

// Env is the environment the backend runs in.
func (b *Backend) Env() *sim.Env { return b.env }

// SetVersion picks the release the fake emulates (see versions.go): its
// routes, its methods and its job encoding. An unknown version emulates
// DefaultVersion's behaviour under that name.
func (b *Backend) SetVersion(v Version) {
	b.mu.Lock()
	b.version = v
	b.rel = releaseOf(v)
	b.catalogQueue = b.rel.catalogSyncQueue
	for _, j := range b.jobs {
		j.dirtyLocked()
	}
	b.mu.Unlock()
}

// Register mounts the websocket endpoints on mux: /websocket (legacy
// protocol), /api/current and /api/vX.Y.Z (JSON-RPC 2.0, the emulated
// release's own versions only) and /api/versions.
func (b *Backend) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /websocket", func(w http.ResponseWriter, r *http.Request) { b.serveWS(w, r, true) })
	mux.HandleFunc("GET /api/{version}", b.serveAPI)
}

// Close aborts every job, closes every connection and waits for the
// backend's goroutines to end.
func (b *Backend) Close() {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.closed = true
	sessions := make([]*Session, 0, len(b.sessions))
	for s := range b.sessions {
		sessions = append(sessions, s)
	}
	b.mu.Unlock()
	b.cancel()
	for _, s := range sessions {
		s.close()
	}
	b.wg.Wait()
}

// Sessions returns how many websocket connections are open.
func (b *Backend) Sessions() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.sessions)
}

// DropConnections closes every open websocket connection abruptly, as a
// network failure would.
func (b *Backend) DropConnections() {
	b.mu.Lock()
	sessions := make([]*Session, 0, len(b.sessions))
	for s := range b.sessions {
		sessions = append(sessions, s)
	}
	b.mu.Unlock()
	for _, s := range sessions {
		s.drop()
	}
}

func randomToken() string {
	var buf [32]byte
	_, _ = rand.Read(buf[:])
	return hex.EncodeToString(buf[:])
}

func newUUID() string {
	var u [16]byte
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	h := hex.EncodeToString(u[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func (b *Backend) checkPassword(name, pw string) (sim.User, bool) {
	u, ok := b.env.Lookup(func(u sim.User) bool { return u.Name == name })
	if !ok || u.Password == "" || !sim.SecretEqual(u.Password, pw) {
		return sim.User{}, false
	}
	return u, true
}

// checkAPIKey finds the user of an API key; with a non-empty name the key
// must belong to that user (API_KEY_PLAIN sends both).
func (b *Backend) checkAPIKey(name, key string) (sim.User, bool) {
	u, ok := b.env.Lookup(func(u sim.User) bool { return u.APIKey != "" && sim.SecretEqual(u.APIKey, key) })
	if !ok || (name != "" && u.Name != name) {
		return sim.User{}, false
	}
	return u, true
}

// APIKeyCredentials returns the credentials an API key logs in with, or
// false for an unknown key (for HTTP endpoints that take a key).
func (b *Backend) APIKeyCredentials(key string) (*Credentials, bool) {
	u, ok := b.checkAPIKey("", key)
	if !ok {
		return nil, false
	}
	return apiKeyCred(u), true
}

// trustedJSON is JSON the backend built itself (core.get_jobs answers):
// encodeJSON passes it on without validating it again.
type trustedJSON []byte

// encodeJSON marshals v, falling back to null.
func encodeJSON(v any) json.RawMessage {
	if raw, ok := v.(trustedJSON); ok {
		return json.RawMessage(raw)
	}
	if raw, ok := v.(json.RawMessage); ok && json.Valid(raw) {
		return raw
	}
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage("null")
	}
	return b
}

// Subscriptions counts the event subscriptions (core.subscribe) held by
// open connections.
func (b *Backend) Subscriptions() int {
	b.mu.Lock()
	sessions := make([]*Session, 0, len(b.sessions))
	for s := range b.sessions {
		sessions = append(sessions, s)
	}
	b.mu.Unlock()
	n := 0
	for _, s := range sessions {
		s.mu.Lock()
		n += len(s.subs)
		s.mu.Unlock()
	}
	return n
}
