// Command longrun-fake runs longrun's in-memory fake of all four dialects
// (CloudSigma API 2.0, TrueNAS middleware, OpenStack Freezer, ftrack) as a
// process, for tests written in other languages and for trying clients by
// hand:
//
//	go run ./cmd/longrun-fake -addr 127.0.0.1:8088 -speed 60
//
// Fake time runs -speed times faster than the wall clock, so a drive clone
// that takes ten fake minutes ends after ten seconds at -speed 60; with
// -speed 0 it stands still until a test moves it through the control API.
// The control API (/_fake/: clock, faults, jobs, request log, reset, seed)
// is always on here, guarded by -control-token (a random one by default).
// The process prints its base URL, each dialect's URL, the control token
// and the seeded credentials, and shuts down gracefully on SIGINT or
// SIGTERM.
//
// Flags:
//
//	-addr             listen address (default 127.0.0.1:8088; port 0: a free port)
//	-seed FILE        a seed document (JSON: users, per-dialect sections; see fake.SeedDocument)
//	-speed N          fake seconds per wall second (default 60; 0: a stopped clock)
//	-truenas-version  the TrueNAS middleware release to emulate (24.10, 25.04, 25.10, 26.0 or newest)
//	-control-token    the control API's bearer token (default: random, printed)
//	-log-level        debug, info, warn or error (default info), on stderr
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/fake/sim"
)

// config is the parsed command line.
type config struct {
	addr, seedFile, truenasVersion, token string
	speed                                 float64
	level                                 slog.Level
}

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "longrun-fake:", err)
		os.Exit(2)
	}
	// A test harness that stops reading our stdout must not kill the
	// server with SIGPIPE: writes to a closed pipe fail quietly instead.
	signal.Ignore(syscall.SIGPIPE)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "longrun-fake:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("longrun-fake", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	var level string
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:8088", "listen address (port 0: a free port)")
	fs.StringVar(&cfg.seedFile, "seed", "", "seed document `file` (JSON: users and per-dialect sections)")
	fs.Float64Var(&cfg.speed, "speed", 60, "fake seconds per wall second (0: the clock stands still until the control API moves it)")
	fs.StringVar(&cfg.truenasVersion, "truenas-version", "", "TrueNAS middleware release to emulate ("+strings.Join(fake.TrueNASVersions(), ", ")+" or newest; default "+fake.DefaultTrueNASVersion+")")
	fs.StringVar(&cfg.token, "control-token", "", "bearer token of the control API under /_fake/ (default: random, printed)")
	fs.StringVar(&level, "log-level", "info", "log level on stderr: debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if cfg.speed < 0 || cfg.speed != cfg.speed || cfg.speed > 1e9 {
		return cfg, errors.New("-speed must be between 0 and 1e9")
	}
	if err := cfg.level.UnmarshalText([]byte(level)); err != nil {
		return cfg, fmt.Errorf("-log-level: %q is not debug, info, warn or error", level)
	}
	if cfg.token == "" {
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			return cfg, err
		}
		cfg.token = hex.EncodeToString(b[:])
	}
	return cfg, nil
}

func run(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.level}))
	opts := fake.Options{Addr: cfg.addr, Logger: logger, Control: true, ControlToken: cfg.token,
		TrueNASVersion: cfg.truenasVersion}
	if cfg.speed > 0 {
		opts.Clock = sim.NewScaledClock(cfg.speed)
	} else {
		opts.Clock = sim.NewClock(time.Now().UTC().Truncate(time.Second))
	}
	if cfg.seedFile != "" {
		doc, err := os.ReadFile(cfg.seedFile)
		if err != nil {
			return err
		}
		opts.Seed = doc
	}
	srv, err := fake.New(opts)
	if err != nil {
		return err
	}
	base := srv.URL()
	fmt.Fprintf(stdout, "longrun fake listening on %s (fake time x%g)\n", base, cfg.speed)
	fmt.Fprintf(stdout, "  CloudSigma API 2.0: %s/api/2.0/   (HTTP Basic: email + password)\n", base)
	fmt.Fprintf(stdout, "  TrueNAS middleware: %s\n", srv.WebsocketURL())
	fmt.Fprintf(stdout, "  OpenStack Freezer:  %s/v1/ and %s/v2/   (Keystone: %s/v3/)\n", base, base, base)
	fmt.Fprintf(stdout, "  ftrack:             %s/api\n", base)
	fmt.Fprintf(stdout, "  control API:        %s%s   (Authorization: Bearer TOKEN)\n", base, fake.ControlPrefix)
	fmt.Fprintf(stdout, "control token: %s\n", srv.ControlToken())
	fmt.Fprintln(stdout, "seeded users:")
	for _, u := range srv.Env().Users() {
		fmt.Fprintf(stdout, "  name=%s email=%s password=%s api_key=%s project=%s\n", u.Name, u.Email, u.Password, u.APIKey, u.Project)
	}
	fmt.Fprintln(stdout, "ready")
	<-ctx.Done()
	fmt.Fprintln(stdout, "longrun fake: shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
