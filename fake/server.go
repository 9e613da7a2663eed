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
// or outside one (cmd/longrun-fake), with nil for t and a Close when done.
package fake

import (
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/longrun/longrun/fake/freezer"
	"github.com/longrun/longrun/fake/ftrack"
	"github.com/longrun/longrun/fake/sim"
)

// Options configure a Server. The zero value serves on a free loopback
// port with a manual clock at sim.Epoch and sim.DefaultUsers.
type Options struct {
	// Addr is the listen address; empty means 127.0.0.1 on a free port.
	Addr string
	// Clock is the fake's time. Nil means a manual clock at sim.Epoch with
	// auto-advance on, so SDK waits given jobs.WithClock(srv.Clock()) end
	// at once and jobs move only when someone waits or advances.
	Clock *sim.Clock
	// Users are the seeded accounts (sim.DefaultUsers when empty).
	Users []sim.User
	// Logger receives the fake's own log lines (discarded when nil).
	Logger *slog.Logger
}

// Server is the running fake.
type Server struct {
	env  *sim.Env
	mux  *http.ServeMux
	hs   *httptest.Server
	regs []registered
}

type registered struct {
	name    string
	backend any
}

// NewServer starts a fake. With a non-nil t it is closed by t.Cleanup and a
// failure to listen fails the test; with nil it panics on that failure and
// the caller must Close it.
func NewServer(t testing.TB, opts Options) *Server {
	if t != nil {
		t.Helper()
	}
	clk := opts.Clock
	if clk == nil {
		clk = sim.NewClock(sim.Epoch)
		clk.SetAuto(true)
	}
	s := &Server{env: sim.NewEnv(clk, opts.Users, opts.Logger), mux: http.NewServeMux()}
	s.mountBackends()
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte("longrun fake: no route for " + r.Method + " " + r.URL.Path + "\n"))
	})
	handler := s.env.Faults.Middleware(clk, s.mux)
	hs := httptest.NewUnstartedServer(handler)
	if opts.Addr != "" {
		l, err := net.Listen("tcp", opts.Addr)
		if err != nil {
			if t != nil {
				t.Fatalf("fake: listen %s: %v", opts.Addr, err)
			}
			panic("fake: listen " + opts.Addr + ": " + err.Error())
		}
		hs.Listener.Close()
		hs.Listener = l
	}
	hs.Config.ErrorLog = nil
	hs.Start()
	s.hs = hs
	if t != nil {
		t.Cleanup(s.Close)
	}
	return s
}

// URL is the server's base URL, such as http://127.0.0.1:41234, with no
// trailing slash. Dialect base URLs hang off it: URL()+"/api/2.0/" for
// CloudSigma, the ws form of URL()+"/api/current" for TrueNAS, URL() for
// Freezer and ftrack.
func (s *Server) URL() string { return s.hs.URL }

// WebsocketURL is the TrueNAS middleware endpoint, ws://host:port/api/current.
func (s *Server) WebsocketURL() string {
	return "ws" + strings.TrimPrefix(s.hs.URL, "http") + "/api/current"
}

// Clock is the fake's clock.
func (s *Server) Clock() *sim.Clock { return s.env.Clock }

// Faults is the fake's fault table.
func (s *Server) Faults() *sim.Faults { return s.env.Faults }

// Env is the environment the backends share.
func (s *Server) Env() *sim.Env { return s.env }

// Handler is the server's whole HTTP handler, faults included, for
// mounting the fake inside another server.
func (s *Server) Handler() http.Handler { return s.hs.Config.Handler }

// Close stops the server and every backend's goroutines.
func (s *Server) Close() {
	s.hs.CloseClientConnections()
	s.hs.Close()
	for _, r := range s.regs {
		if c, ok := r.backend.(interface{ Close() }); ok {
			c.Close()
		}
	}
}

func (s *Server) backend(name string) any {
	for _, r := range s.regs {
		if r.name == name {
			return r.backend
		}
	}
	return nil
}

// mountBackends mounts every dialect's backend on the mux. Each dialect
// adds one line here and a typed accessor (s.CloudSigma(), s.TrueNAS(), ...)
// in its own file of this package.
func (s *Server) mountBackends() {
	s.add("ftrack", ftrack.New(s.env))
	s.add("freezer", freezer.New(s.env))
}

func (s *Server) add(name string, backend interface{ Register(*http.ServeMux) }) {
	backend.Register(s.mux)
	s.regs = append(s.regs, registered{name, backend})
}
