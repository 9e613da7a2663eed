// Package fake is longrun's embeddable in-memory backend: one HTTP server
// that speaks all four dialects at once (CloudSigma API 2.0 under
// /api/2.0/, TrueNAS middleware at /api/current with /_upload and
// /_download, OpenStack Freezer under /v1 and /v2 with Keystone at /v3,
// ftrack at /api), with a clock a test can step and faults it can script.
//
// Use it in a test:
//
//	srv := fake.NewServer(t, fake.Options{})
//	// point any client (longrun's or another) at srv.URL()
//
// or in a program (cmd/longrun-fake) with New, which returns an error
// instead of failing a test, and a Close or Shutdown when done.
//
// With Options.Control the server also answers a control API under
// /_fake/ (clock, faults, jobs, request log, reset, seed) for tests written
// in other languages; see ControlPrefix. GET /_fake/health and
// GET /_fake/version answer always, without a token.
package fake

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/longrun/longrun/fake/cloudsigma"
	"github.com/longrun/longrun/fake/freezer"
	"github.com/longrun/longrun/fake/ftrack"
	"github.com/longrun/longrun/fake/sim"
	"github.com/longrun/longrun/fake/truenas"
)

// Server timeouts. The JSON API routes (CloudSigma /api/2.0/, Freezer
// /v1/ and /v2/, Keystone /v3, ftrack POST /api) get RequestReadTimeout
// and RequestWriteTimeout, set per request; the streaming routes (the
// TrueNAS websocket, /_upload, /_download, ftrack's upload PUT and
// /component/get) get no read or write deadline beyond ReadHeaderTimeout
// and IdleTimeout.
const (
	ReadHeaderTimeout   = 10 * time.Second
	IdleTimeout         = 2 * time.Minute
	RequestReadTimeout  = time.Minute
	RequestWriteTimeout = 5 * time.Minute
	// DefaultMaxBody is the per-request body limit of the JSON API routes
	// when Options.MaxBodyBytes is zero.
	DefaultMaxBody = 16 << 20
	// DefaultRequestLog is how many requests the request log keeps when
	// Options.RequestLogSize is zero.
	DefaultRequestLog = 10000
)

// TB is the part of testing.TB that NewServer uses; *testing.T and
// *testing.B satisfy it. Package fake does not import testing, so a program
// that embeds the fake does not link it.
type TB interface {
	Helper()
	Cleanup(func())
	Fatalf(format string, args ...any)
}

// Options configure a Server. The zero value serves on a free loopback
// port with a manual clock at sim.Epoch and sim.DefaultUsers, and no
// control API.
type Options struct {
	// Addr is the listen address; empty means 127.0.0.1 on a free port.
	Addr string
	// Clock is the fake's time. Nil means a manual clock at sim.Epoch with
	// auto-advance on, so SDK waits given jobs.WithClock(srv.Clock()) end
	// at once and jobs move only when someone waits or advances.
	Clock *sim.Clock
	// Users are the seeded accounts (sim.DefaultUsers when empty).
	Users []sim.User
	// Logger receives the fake's own log lines (discarded when nil),
	// among them the stack of any handler that panicked.
	Logger *slog.Logger

	// Control turns on the control API under /_fake/.
	Control bool
	// ControlToken is the bearer token the control API asks for; empty
	// with Control means a random one (see Server.ControlToken).
	ControlToken string
	// Seed is a seed document (JSON; see SeedDocument) applied at start
	// and again by every reset.
	Seed []byte
	// TrueNASVersion is the middleware release the TrueNAS backend
	// emulates (one of TrueNASVersions(), or "newest"; empty: the
	// backend's default, truenas.DefaultVersion).
	TrueNASVersion string
	// MaxBodyBytes limits each request body of the JSON API routes
	// (DefaultMaxBody when zero).
	MaxBodyBytes int64
	// RequestLogSize is how many requests the log keeps, oldest dropped
	// first (DefaultRequestLog when zero; negative: no log).
	RequestLogSize int
}

// Server is the running fake.
type Server struct {
	opts   Options
	env    *sim.Env
	users  []sim.User // the users before any seed document
	set    atomic.Pointer[backendSet]
	resetM sync.Mutex
	seed   *SeedDocument // guarded by resetM

	truenasVersion truenas.Version

	hs      *http.Server
	ln      net.Listener
	url     string
	token   string
	log     *requestLog
	handler http.Handler
	served  chan struct{}
	closed  sync.Once
}

// backendSet is one generation of backends on their own mux; a reset
// builds a new one and swaps it in.
type backendSet struct {
	mux     *http.ServeMux
	faulted http.Handler
	regs    []registered
}

type registered struct {
	name    string
	backend any
}

// New starts a fake for a program: it returns an error when it cannot
// listen or an option is bad, and the caller must Close (or Shutdown) it.
func New(opts Options) (*Server, error) {
	clk := opts.Clock
	if clk == nil {
		clk = sim.NewClock(sim.Epoch)
		clk.SetAuto(true)
	}
	tnVersion, err := parseTrueNASVersion(opts.TrueNASVersion)
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, env: sim.NewEnv(clk, opts.Users, opts.Logger), served: make(chan struct{}), truenasVersion: tnVersion}
	clk.SetPanicHandler(func(v any, stack []byte) {
		s.env.Logger.Error("fake: clock callback panicked", "panic", fmt.Sprint(v), "stack", string(stack))
	})
	s.users = s.env.Users()
	if opts.Control {
		s.token = opts.ControlToken
		if s.token == "" {
			var b [16]byte
			_, _ = rand.Read(b[:])
			s.token = hex.EncodeToString(b[:])
		}
	}
	size := opts.RequestLogSize
	if size == 0 {
		size = DefaultRequestLog
	}
	s.log = newRequestLog(max(size, 0))
	if len(opts.Seed) > 0 {
		doc, err := ParseSeed(opts.Seed)
		if err != nil {
			return nil, err
		}
		s.seed = doc
	}
	set, err := s.build()
	if err != nil {
		return nil, err
	}
	s.set.Store(set)
	s.handler = http.HandlerFunc(s.serve)

	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		s.closeBackends(set)
		return nil, fmt.Errorf("fake: listen %s: %w", addr, err)
	}
	s.ln = ln
	s.url = "http://" + urlHost(ln.Addr())
	s.hs = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: ReadHeaderTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.env.Logger.Handler(), slog.LevelDebug),
	}
	go func() {
		defer close(s.served)
		_ = s.hs.Serve(ln)
	}()
	return s, nil
}

// NewServer starts a fake for a test. With a non-nil tb it is closed by
// tb.Cleanup and a failure to start fails the test; with nil (examples,
// quick programs) it panics on that failure and the caller must Close it.
// Programs that want the error use New.
func NewServer(tb TB, opts Options) *Server {
	if tb != nil {
		tb.Helper()
	}
	s, err := New(opts)
	if err != nil {
		if tb != nil {
			tb.Fatalf("%v", err)
			return nil
		}
		panic(err.Error())
	}
	if tb != nil {
		tb.Cleanup(s.Close)
	}
	return s
}

// urlHost is addr as a URL host, with an unspecified IP (0.0.0.0, ::)
// replaced by loopback so the URL can be dialled from this host.
func urlHost(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// build makes a fresh generation of backends on the current users, with
// the seed document applied.
func (s *Server) build() (*backendSet, error) {
	users := s.users
	if s.seed != nil {
		users = s.seed.mergeUsers(users)
	}
	s.env.SetUsers(users)
	set := &backendSet{mux: http.NewServeMux()}
	set.add("ftrack", ftrack.New(s.env))
	set.add("freezer", freezer.New(s.env))
	set.add("cloudsigma", cloudsigma.New(s.env))
	tn := truenas.NewWithOptions(s.env, truenas.Options{Version: s.truenasVersion})
	set.add("truenas", tn)
	set.add("truenas-files", truenas.NewFiles(tn))
	set.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte("longrun fake: no route for " + r.Method + " " + r.URL.Path + "\n"))
	})
	set.faulted = s.env.Faults.Middleware(s.env.Clock, set.mux)
	if s.seed != nil {
		if err := s.seed.apply(set); err != nil {
			s.closeBackends(set)
			return nil, err
		}
	}
	return set, nil
}

func (set *backendSet) add(name string, backend interface{ Register(*http.ServeMux) }) {
	backend.Register(set.mux)
	set.regs = append(set.regs, registered{name, backend})
}

func (set *backendSet) backend(name string) any {
	for _, r := range set.regs {
		if r.name == name {
			return r.backend
		}
	}
	return nil
}

// URL is the server's base URL, such as http://127.0.0.1:41234, with no
// trailing slash. Dialect base URLs hang off it: URL()+"/api/2.0/" for
// CloudSigma, the ws form of URL()+"/api/current" for TrueNAS, URL() for
// Freezer and ftrack.
func (s *Server) URL() string { return s.url }

// WebsocketURL is the TrueNAS middleware endpoint, ws://host:port/api/current.
func (s *Server) WebsocketURL() string {
	return "ws" + strings.TrimPrefix(s.url, "http") + "/api/current"
}

// ControlToken is the control API's bearer token ("" when the control API
// is off).
func (s *Server) ControlToken() string { return s.token }

// Clock is the fake's clock.
func (s *Server) Clock() *sim.Clock { return s.env.Clock }

// Faults is the fake's fault table.
func (s *Server) Faults() *sim.Faults { return s.env.Faults }

// Env is the environment the backends share.
func (s *Server) Env() *sim.Env { return s.env }

// Handler is the server's whole HTTP handler, faults, request log, panic
// recovery and control API included, for mounting the fake inside another
// server.
func (s *Server) Handler() http.Handler { return s.handler }

// Requests returns the request log, oldest first (see RequestRecord).
func (s *Server) Requests() []RequestRecord { return s.log.list("", 0) }

// Reset puts the fake back in its seeded state: fresh backends with the
// seeded users, servers, drives and jobs (Options.Seed and the last
// LoadSeed), no faults, an empty request log. The clock keeps its time
// and speed. Backends a caller fetched before (s.CloudSigma(), ...) are
// closed: fetch them again.
func (s *Server) Reset() error {
	s.resetM.Lock()
	defer s.resetM.Unlock()
	return s.resetLocked()
}

func (s *Server) resetLocked() error {
	set, err := s.build()
	if err != nil {
		return err
	}
	s.env.Faults.Reset()
	old := s.set.Swap(set)
	s.log.clear()
	s.closeBackends(old)
	return nil
}

// LoadSeed makes doc (a JSON seed document) the seeded state and resets
// the fake to it. On error the fake is left as it was.
func (s *Server) LoadSeed(doc []byte) error {
	d, err := ParseSeed(doc)
	if err != nil {
		return err
	}
	s.resetM.Lock()
	defer s.resetM.Unlock()
	prev := s.seed
	s.seed = d
	if err := s.resetLocked(); err != nil {
		s.seed = prev
		users := s.users
		if prev != nil {
			users = prev.mergeUsers(users)
		}
		s.env.SetUsers(users)
		return err
	}
	return nil
}

// Shutdown stops accepting connections, waits for requests in flight
// until ctx ends (then cuts them), and stops every backend.
func (s *Server) Shutdown(ctx context.Context) error {
	var err error
	s.closed.Do(func() {
		err = s.hs.Shutdown(ctx)
		if err != nil {
			_ = s.hs.Close()
		}
		<-s.served
		s.closeBackends(s.set.Load())
	})
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return fmt.Errorf("fake: shutdown cut requests in flight: %w", err)
	}
	return err
}

// Close stops the server at once, cutting connections, and every
// backend's goroutines.
func (s *Server) Close() {
	s.closed.Do(func() {
		_ = s.hs.Close()
		<-s.served
		s.closeBackends(s.set.Load())
	})
}

func (s *Server) closeBackends(set *backendSet) {
	if set == nil {
		return
	}
	for _, r := range set.regs {
		if c, ok := r.backend.(interface{ Close() }); ok {
			c.Close()
		}
	}
}

func (s *Server) backend(name string) any { return s.set.Load().backend(name) }

// bounded reports whether r goes to one of the JSON API routes, which get
// per-request deadlines and a body limit. Every other request (websocket
// upgrades wherever they are, such as CloudSigma's /api/2.0/websocket and
// TrueNAS's /api/current and /websocket; /_upload, /_download, ftrack's
// upload and download, and any streaming route a backend adds) keeps only
// the server's header and idle timeouts, so long transfers and websockets
// are never cut. A hijacked connection's deadlines are cleared too.
func bounded(r *http.Request) bool {
	if r.Header.Get("Upgrade") != "" {
		return false
	}
	path := r.URL.Path
	switch {
	case path == "/api/2.0/websocket", path == "/api/2.0/websocket/":
		return false
	case strings.HasPrefix(path, "/api/2.0/"),
		strings.HasPrefix(path, "/v1/"), strings.HasPrefix(path, "/v2/"),
		path == "/v3", strings.HasPrefix(path, "/v3/"),
		path == "/api":
		return true
	}
	return false
}

// serve is the server's handler: control API, per-route deadlines and
// body limits, panic recovery and the request log around the faults and
// the current backends.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, ControlPrefix) {
		s.recovering(w, r, s.serveControl)
		return
	}
	rc := http.NewResponseController(w)
	if bounded(r) {
		now := time.Now()
		_ = rc.SetReadDeadline(now.Add(RequestReadTimeout))
		_ = rc.SetWriteDeadline(now.Add(RequestWriteTimeout))
		limit := s.opts.MaxBodyBytes
		if limit <= 0 {
			limit = DefaultMaxBody
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
	} else {
		// Clear deadlines an earlier request on this connection set.
		_ = rc.SetReadDeadline(time.Time{})
		_ = rc.SetWriteDeadline(time.Time{})
	}
	rec := &recorder{ResponseWriter: w}
	at := s.env.Clock.Now()
	start := time.Now()
	defer func() {
		s.log.add(RequestRecord{At: at, Dialect: DialectOf(r.URL.Path), Method: r.Method, Path: r.URL.Path,
			Status: rec.code(), Elapsed: time.Since(start)})
	}()
	s.recovering(rec, r, s.set.Load().faulted.ServeHTTP)
}

// recovering runs h, turning a panic into a 500 (or a cut connection when
// the reply had started) with the stack in the fake's log; the process
// lives on.
func (s *Server) recovering(w http.ResponseWriter, r *http.Request, h http.HandlerFunc) {
	rec, _ := w.(*recorder)
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		if p == http.ErrAbortHandler { //nolint:errorlint // the sentinel net/http compares by identity
			if rec != nil && rec.status == 0 {
				rec.status = -1
			}
			panic(p)
		}
		s.env.Logger.Error("fake: handler panicked", "method", r.Method, "path", r.URL.Path,
			"panic", fmt.Sprint(p), "stack", string(stack()))
		if rec != nil && (rec.status != 0 || rec.hijacked) {
			// Too late for a status: cut the reply as net/http would.
			panic(http.ErrAbortHandler)
		}
		writeControlJSON(w, http.StatusInternalServerError, map[string]any{
			"error": "internal error in the longrun fake: " + fmt.Sprint(p)})
	}()
	h(w, r)
}
