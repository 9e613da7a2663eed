// Package fakecmd is the command line of longrun's fake, shared by the
// longrun-fake program and the `longrun fake` command so both take the same
// flags:
//
//	-addr             listen address (default 127.0.0.1:8088; port 0: a free port)
//	-seed FILE        a seed document (JSON: users, per-dialect sections; see fake.SeedDocument)
//	-speed N          fake seconds per wall second (default 60; 0: a stopped clock)
//	-truenas-version  the TrueNAS middleware release to emulate (24.10, 25.04, 25.10, 26.0 or newest)
//	-control-token    the control API's bearer token (default: random, printed)
//	-log-level        debug, info, warn or error (default info), on stderr
package fakecmd

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
	"strings"
	"time"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/fake/sim"
)

// Config is the parsed command line.
type Config struct {
	Addr           string     // listen address
	SeedFile       string     // seed document, or empty
	TrueNASVersion string     // TrueNAS release to emulate, or empty for the default
	Token          string     // the control API's bearer token
	Speed          float64    // fake seconds per wall second; 0 stops the clock
	Level          slog.Level // log level on stderr
}

// Main parses args as longrun-fake's flags, runs the fake until ctx ends,
// and returns the process exit code: 0 after a graceful shutdown, 2 for a
// bad command line, 1 when the fake could not start or stop. name is the
// program's name in messages (longrun-fake, or "longrun fake").
func Main(ctx context.Context, name string, args []string, stdout, stderr io.Writer) int {
	cfg, err := ParseFlags(name, args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, name+":", err)
		return 2
	}
	if err := Run(ctx, cfg, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, name+":", err)
		return 1
	}
	return 0
}

// ParseFlags reads longrun-fake's flags.
func ParseFlags(name string, args []string, stderr io.Writer) (Config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg Config
	var level string
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:8088", "listen address (port 0: a free port)")
	fs.StringVar(&cfg.SeedFile, "seed", "", "seed document `file` (JSON: users and per-dialect sections)")
	fs.Float64Var(&cfg.Speed, "speed", 60, "fake seconds per wall second (0: the clock stands still until the control API moves it)")
	fs.StringVar(&cfg.TrueNASVersion, "truenas-version", "", "TrueNAS middleware release to emulate ("+strings.Join(fake.TrueNASVersions(), ", ")+" or newest; default "+fake.DefaultTrueNASVersion+")")
	fs.StringVar(&cfg.Token, "control-token", "", "bearer token of the control API under /_fake/ (default: random, printed)")
	fs.StringVar(&level, "log-level", "info", "log level on stderr: debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if cfg.Speed < 0 || cfg.Speed != cfg.Speed || cfg.Speed > 1e9 {
		return cfg, errors.New("-speed must be between 0 and 1e9")
	}
	if err := cfg.Level.UnmarshalText([]byte(level)); err != nil {
		return cfg, fmt.Errorf("-log-level: %q is not debug, info, warn or error", level)
	}
	if cfg.Token == "" {
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			return cfg, err
		}
		cfg.Token = hex.EncodeToString(b[:])
	}
	return cfg, nil
}

// Run serves the fake described by cfg until ctx ends, then shuts it down
// gracefully. It prints each dialect's URL, the control token, the seeded
// credentials, the variables the longrun command reads, and "ready".
func Run(ctx context.Context, cfg Config, stdout, stderr io.Writer) error {
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.Level}))
	opts := fake.Options{Addr: cfg.Addr, Logger: logger, Control: true, ControlToken: cfg.Token,
		TrueNASVersion: cfg.TrueNASVersion}
	if cfg.Speed > 0 {
		opts.Clock = sim.NewScaledClock(cfg.Speed)
	} else {
		opts.Clock = sim.NewClock(time.Now().UTC().Truncate(time.Second))
	}
	if cfg.SeedFile != "" {
		doc, err := os.ReadFile(cfg.SeedFile)
		if err != nil {
			return err
		}
		opts.Seed = doc
	}
	srv, err := fake.New(opts)
	if err != nil {
		return err
	}
	if cfg.Speed > 0 {
		// Keystone tokens last an hour of wall time: expires_at is
		// written on the fake clock, where that is Speed hours.
		srv.Freezer().SetTokenLifetime(time.Duration(cfg.Speed * float64(time.Hour)))
	}
	base := srv.URL()
	fmt.Fprintf(stdout, "longrun fake listening on %s (fake time x%g)\n", base, cfg.Speed)
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
	if users := srv.Env().Users(); len(users) > 0 {
		u := users[0]
		fmt.Fprintln(stdout, "for the longrun command:")
		fmt.Fprintf(stdout, "  export CLOUDSIGMA_URL=%s/api/2.0/ CLOUDSIGMA_USER=%s CLOUDSIGMA_PASSWORD=%s\n", base, u.Email, u.Password)
		fmt.Fprintf(stdout, "  export TRUENAS_URL=%s TRUENAS_USER=%s TRUENAS_API_KEY=%s\n", srv.WebsocketURL(), u.Name, u.APIKey)
		fmt.Fprintf(stdout, "  export OS_BACKUP_URL=%s OS_AUTH_URL=%s/v3 OS_USERNAME=%s OS_PASSWORD=%s OS_PROJECT_NAME=%s\n", base, base, u.Name, u.Password, u.Project)
		fmt.Fprintf(stdout, "  export FTRACK_SERVER=%s FTRACK_API_USER=%s FTRACK_API_KEY=%s\n", base, u.Name, u.APIKey)
	}
	fmt.Fprintln(stdout, "ready")
	<-ctx.Done()
	fmt.Fprintln(stdout, "longrun fake: shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
